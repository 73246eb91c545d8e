package rebuild

import (
	"errors"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/rebuildd/rebuildd/docker"
	"github.com/rebuildd/rebuildd/dockerfile"
	"github.com/rebuildd/rebuildd/watcher"
)

// What watch mode says. Every line is a structured event, the same for
// the JSON log and the console, which renders it (internal/humanlog;
// docs/design.md, "Conventions": logging): "msg":"decision" when a
// decision is final, "msg":"result" when its work ended. A change says
// which files (files: relative to the context, build inputs only), which
// layer (impact, and the instruction that makes it one: step, at), which
// action, and its result how long it took.

// decided logs a decision made without the decision function: paths
// whose layer model action is none, or a restart, sync or recreate that
// no fingerprint can make moot. A bind-mounted source change is live
// without a build, and says so at info level so a save always answers;
// other "none" decisions (ignored, unused files) are debug.
func (d *Daemon) decided(r Request, v *Verdict) {
	action := string(r.Action)
	if r.Recreate && r.Action != dockerfile.ActionRebuild {
		action = "recreate"
	}
	fields := append([]zap.Field{zap.String("service", r.Service), zap.String("action", action)}, d.change(r)...)
	level := zapcore.InfoLevel
	if v != nil {
		fields = append(fields, zap.String("why", v.Result.Reason))
	}
	if r.Action == dockerfile.ActionNone && len(r.Syncs) == 0 && !r.Recreate {
		level = zapcore.DebugLevel
		if v != nil && v.Impact == dockerfile.ImpactSource && v.Result.Mount != "" {
			level = zapcore.InfoLevel
			fields = append(fields, zap.String("mount", v.Result.Mount))
		}
	}
	d.o.Log.Check(level, "decision").Write(fields...)
}

// decisions logs what the decision function decided for a rebuild
// request, once it is final: info for each service it acts on, debug for
// the up-to-date ones. The requested service's line carries the change
// that asked (paths, files, impact, step); the others say why they follow.
func (d *Daemon) decisions(r Request, dec *Decided) {
	for _, dc := range dec.Decisions {
		reason := dc.Reason
		fields := []zap.Field{zap.String("service", dc.Service), zap.String("action", dc.Action()),
			zap.String("status", dc.Status), zap.String("why", dc.Reason), zap.Strings("impacts", dc.Impacts)}
		if dc.Service == r.Service {
			fields = append(fields, d.change(settled(r, dc))...)
			if r.Reason != "" {
				reason = r.Reason
			}
		}
		fields = append(fields, zap.String("reason", reason))
		level := zapcore.DebugLevel
		if dc.Stale() && !(r.Converge && dc.Status == StatusSynced) {
			level = zapcore.InfoLevel // a converge build says itself in its result
		}
		d.o.Log.Check(level, "decision").Write(fields...)
	}
}

// settled corrects what triage said a request's paths mean by what the
// fingerprint found: a touched deps file and an edited source file are a
// deps request, but only the source layer changed, and the line must not
// claim the deps step re-runs.
func settled(r Request, dc Decision) Request {
	layer := func(i dockerfile.Impact) bool { return i == dockerfile.ImpactDeps || i == dockerfile.ImpactSource }
	if !layer(r.Impact) || slices.Contains(dc.Impacts, string(r.Impact)) {
		return r
	}
	for _, i := range dc.Impacts {
		if layer(dockerfile.Impact(i)) {
			r.Impact, r.Step, r.At = dockerfile.Impact(i), "", ""
			return r
		}
	}
	return r
}

// change is what a request's paths mean, as fields: every changed path,
// the files a person reads (relative to the context, at most maxListed),
// the impact, and the instruction that decided.
func (d *Daemon) change(r Request) []zap.Field {
	fields := []zap.Field{zap.String("impact", string(r.Impact)), zap.Strings("paths", r.Paths)}
	if len(r.Paths) > 0 {
		base := ""
		if m, ok := d.snap.Load().models[r.Service]; ok {
			base = m.Context()
		}
		fields = append(fields, zap.Strings("files", listed(base, r.Paths)))
	}
	if r.Step != "" {
		fields = append(fields, zap.String("step", r.Step), zap.String("at", r.At))
	}
	return fields
}

// listed names paths relative to base when inside it, the first
// maxListed of them and "+N more".
func listed(base string, paths []string) []string {
	var names []string
	for i, p := range paths {
		if i == maxListed {
			return append(names, "+"+strconv.Itoa(len(paths)-maxListed)+" more")
		}
		if rel, err := filepath.Rel(base, p); base != "" && err == nil && !strings.HasPrefix(rel, "..") {
			p = rel
		}
		names = append(names, p)
	}
	return names
}

// result logs how a request ended and how long it took. A request that
// found nothing to do ends at debug level: its decision said so already.
// A failure is one error line with what to do and, once, the last lines
// of the failed command's output.
func (d *Daemon) result(r Request, what string, took time.Duration, err error) {
	if what == "" && err == nil {
		d.o.Log.Debug("result", zap.String("service", r.Service), zap.String("result", "nothing to do"), zap.Duration("took", took))
		return
	}
	if what == "" {
		what = "failed"
	}
	fields := []zap.Field{zap.String("service", r.Service), zap.String("action", string(r.Action)),
		zap.String("result", what), zap.Duration("took", took)}
	if d.o.DryRun {
		fields = append(fields, zap.Bool("dry_run", true))
	}
	var fe *failedError
	switch {
	case err != nil && ErrCancelled(err) && r.Converge:
		// A change came: its sync goes first and queues the build again.
		d.o.Log.Debug("result", append(fields, zap.String("status", "cancelled"))...)
	case err != nil && ErrCancelled(err):
		d.o.Log.Info("result", append(fields, zap.String("status", "cancelled"))...)
	case errors.As(err, &fe):
		fields = append(fields, zap.Error(err), zap.String("retry", "on the next change"))
		d.o.Log.Error("result", append(fields, failureFields(d.snap.Load(), fe.o)...)...)
	case err != nil:
		d.o.Log.Error("result", append(fields, zap.Error(err), zap.String("retry", "on the next change"))...)
	default:
		d.o.Log.Info("result", fields...)
	}
}

// describeOutcomes says what a run did, the requested service first:
// "rebuilt, recreated api-1", "rebuilt, recreated docs-1, docs-mirror-1",
// "rebuilt, worker rebuilt, recreated api-1, worker-1". Failures are the
// request's error (failedErr), not part of it.
func describeOutcomes(service string, outs []Outcome) string {
	var head string
	var parts, containers []string
	for _, o := range outs {
		if o.Status == StatusFailed {
			continue
		}
		switch {
		case o.Service == service && o.Status != StatusUpToDate:
			head = o.Status
			if o.Status == StatusRebuilt && len(o.Containers) == 0 {
				head = "rebuilt; the image is the one running, nothing recreated"
			}
		case o.Decision.Builder && o.Status == StatusRebuilt:
			parts = append(parts, o.Service+" rebuilt")
		}
		containers = append(containers, o.Containers...)
	}
	if len(containers) > 0 {
		parts = append(parts, "recreated "+strings.Join(containers, ", "))
		if head == "rebuilt; the image is the one running, nothing recreated" {
			// Its own containers were kept (they hold what the image was
			// built from), another service's were not.
			head = StatusRebuilt
		}
	}
	if head != "" {
		parts = append([]string{head}, parts...)
	}
	return strings.Join(parts, ", ")
}

// failedError is a request's failed outcome.
type failedError struct {
	o   Outcome
	own bool // the requested service's own outcome
}

func (e *failedError) Error() string {
	if e.own {
		return e.o.Reason
	}
	return e.o.Service + ": " + e.o.Reason
}

// failedErr turns the first failed outcome (the requested service's
// first) into the request's error.
func failedErr(service string, outs []Outcome) error {
	var fe *failedError
	for _, o := range outs {
		if o.Status == StatusFailed && (fe == nil || o.Service == service) {
			fe = &failedError{o: o, own: o.Service == service}
		}
	}
	if fe == nil {
		return nil
	}
	return fe
}

// failureFields say, once, what a person needs to fix a failure: the
// failed command's output from the failing step on, and the command that
// shows the failure again.
func failureFields(snap *snapshot, o Outcome) []zap.Field {
	var fields []zap.Field
	if len(o.Tail) > 0 {
		fields = append(fields, zap.String("output_tail", strings.Join(docker.FailureLines(o.Tail), "\n")))
	}
	cli, ok := snap.rec.Runner.(docker.CommandLine)
	if !ok {
		return fields
	}
	sub := []string{"up", "-d", "--no-deps", "--no-build", o.Service}
	if strings.HasPrefix(o.Reason, "build") {
		sub = []string{"build", o.Service}
	}
	if args := cli.Args(sub...); len(args) > 0 {
		fields = append(fields, zap.String("reproduce", strings.Join(args, " ")))
	}
	return fields
}

// banner logs one line per service (context, target, the builder whose
// ignore rules the model follows, watches, backend) and then "ready".
func (d *Daemon) banner(s *snapshot, st watcher.Stats) {
	for _, w := range s.watched {
		m := s.models[w.Service.Name]
		rs := rootOf(st, m.Context())
		d.o.Log.Info("watching", zap.String("service", w.Service.Name), zap.String("context", m.Context()),
			zap.String("target", dockerfile.StageLabel(m.Analysis().Target)), zap.String("builder", m.Dialect().String()),
			zap.Int("watched_dirs", rs.Dirs), zap.String("backend", rs.Backend))
	}
	d.o.Log.Info("ready", zap.Int("watches", st.Watches), zap.Int("polled_dirs", st.Polled),
		zap.Int("roots", len(st.Roots)), zap.Bool("dry_run", d.o.DryRun))
}

// reconciled logs the start-up reconcile's outcome per service: info for
// what it changed, error with the output for what failed, debug for what
// was up to date already.
func (d *Daemon) reconciled(snap *snapshot, outs []Outcome) {
	for _, o := range outs {
		fields := []zap.Field{zap.String("service", o.Service), zap.String("status", o.Status), zap.String("reason", o.Reason)}
		if len(o.Containers) > 0 {
			fields = append(fields, zap.Strings("containers", o.Containers))
		}
		switch {
		case o.Status == StatusFailed:
			d.o.Log.Error("reconciled", append(fields, failureFields(snap, o)...)...)
		case o.Decision.Stale():
			d.o.Log.Info("reconciled", fields...)
		default:
			d.o.Log.Debug("reconciled", fields...)
		}
	}
}

// shortName is a container's name without its Compose project prefix:
// "api-1" for "shop-api-1" (v1: "api_1" for "shop_api_1").
func shortName(project, name string) string {
	for _, sep := range []string{"-", "_"} {
		if rest, ok := strings.CutPrefix(name, project+sep); ok && rest != "" {
			return rest
		}
	}
	return name
}
