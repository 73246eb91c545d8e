package rebuild

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/rebuildd/rebuildd/docker"
	"github.com/rebuildd/rebuildd/dockerfile"
	"github.com/rebuildd/rebuildd/fingerprint"
	"github.com/rebuildd/rebuildd/watcher"
)

// work carries out one request; it runs in a scheduler worker goroutine.
func (d *Daemon) work(ctx context.Context, r Request) error {
	snap := d.snap.Load()
	start := d.o.Now()
	var result string
	var err error
	switch {
	case r.Action == dockerfile.ActionRebuild:
		result, err = d.rebuild(ctx, snap, r)
	case r.Recreate:
		result, err = d.recreate(ctx, r.Service)
	default:
		result, err = d.syncRestart(ctx, r)
	}
	d.result(r, result, d.o.Now().Sub(start), err)
	return err
}

// rebuild asks the one decision function (Reconciler.Decide) whether the
// service is stale, logs that decision, and only then acts: a touch, a
// save without change or an edit and its revert end here, with nothing
// run and nothing said at info level.
func (d *Daemon) rebuild(ctx context.Context, snap *snapshot, r Request) (string, error) {
	if _, ok := snap.sources[r.Service]; !ok {
		return "skipped: no longer a build service", nil
	}
	if d.o.DryRun {
		return d.dryRun(ctx, snap, r, []string{r.Service})
	}
	if d.down.Load() {
		return "waiting for the Docker engine; reconciles when it is back", nil
	}
	start := d.o.Now()
	dec, err := snap.rec.Decide(ctx, []string{r.Service})
	if err != nil {
		d.engineError(err)
		return "", err
	}
	d.decisions(r, dec)
	if !anyStale(dec) && !r.Recreate {
		return "", nil
	}
	outs, err := snap.rec.Act(ctx, dec, start)
	if err != nil {
		d.engineError(err)
		return "", err
	}
	d.logFailures(snap, outs)
	res := describeOutcomes(outs)
	if r.Recreate && !recreated(r.Service, outs) {
		if _, err := d.recreate(ctx, r.Service); err != nil {
			return res, err
		}
		res = joinResult(res, "recreated for the new compose configuration")
	}
	return res, failedErr(outs)
}

// dryRun decides exactly as rebuild does, logs the decisions and records
// what it would build in the overlay, so the next decision compares with
// it. names nil is every build service.
func (d *Daemon) dryRun(ctx context.Context, snap *snapshot, r Request, names []string) (string, error) {
	dec, err := snap.rec.Decide(ctx, names)
	if err != nil {
		return "", err
	}
	d.decisions(r, dec)
	var did []string
	for i, dc := range dec.Decisions {
		in := dec.Inputs[i]
		if !dc.Stale() {
			continue
		}
		did = append(did, dc.Service+" would "+dc.Action())
		if !dc.Builder || in.Print == nil {
			continue
		}
		id := "dry-run"
		switch {
		case in.Image != nil && !in.Unasked:
			id = in.Image.ID
		case in.Record != nil:
			id = in.Record.ImageID
		}
		rec := fingerprint.Record{Service: dc.Service, Fingerprint: in.Print.Sum, ImageID: id, Time: d.o.Now(),
			Impacts: dc.Impacts, Parts: in.Print.Parts}
		if err := snap.rec.Store.Save(rec, in.Print.Files); err != nil {
			return "", err
		}
	}
	if len(did) == 0 {
		return "", nil
	}
	return strings.Join(did, ", ") + " (dry run)", nil
}

func anyStale(dec *Decided) bool {
	for _, dc := range dec.Decisions {
		if dc.Stale() {
			return true
		}
	}
	return false
}

func joinResult(a, b string) string {
	if a == "" {
		return b
	}
	return a + ", " + b
}

// syncRestart runs develop.watch syncs and execs, then a restart when the
// request asks for one. A rebuild makes syncs moot: the new container has
// the files.
func (d *Daemon) syncRestart(ctx context.Context, r Request) (string, error) {
	var done []string
	if len(r.Syncs) > 0 {
		if d.o.DryRun {
			done = append(done, "would sync "+strconv.Itoa(len(r.Syncs))+" path(s) (dry run)")
		} else {
			// Copies are short and a half-synced container is worse than a
			// late exit, so shutdown lets them finish.
			if err := d.changing(func() error { return d.o.Sync(context.WithoutCancel(ctx), r.Service, r.Syncs, r.Exec) }); err != nil {
				return "", err
			}
			done = append(done, "synced "+strconv.Itoa(len(r.Syncs))+" path(s)")
		}
	}
	if r.Action == dockerfile.ActionRestart {
		res, err := d.restart(ctx, r.Service)
		if err != nil {
			return "", err
		}
		done = append(done, res)
	}
	return strings.Join(done, ", "), nil
}

func (d *Daemon) restart(ctx context.Context, service string) (string, error) {
	if d.o.DryRun {
		return "would restart (dry run)", nil
	}
	// A restart is short and leaves nothing half-done when allowed to
	// finish, so shutdown does not interrupt it.
	if err := d.changing(func() error { return d.o.Restart(context.WithoutCancel(ctx), service) }); err != nil {
		return "", err
	}
	return "restarted", nil
}

func (d *Daemon) recreate(ctx context.Context, service string) (string, error) {
	if d.o.DryRun {
		return "would recreate (dry run)", nil
	}
	// compose up is never cancelled half-way: it would leave the service
	// without a container.
	if err := d.changing(func() error { return d.o.Recreate(context.WithoutCancel(ctx), []string{service}) }); err != nil {
		return "", err
	}
	return "recreated", nil
}

// changing runs an action that changes the engine's containers, so the
// engine answers asked for ahead are forgotten before and after it.
func (d *Daemon) changing(act func() error) error {
	if d.pre != nil {
		d.pre.Forget()
		defer d.pre.Forget()
	}
	return act()
}

// describeOutcomes says what a reconcile did, e.g.
// "api rebuilt, worker recreated" or "worker failed: ...".
func describeOutcomes(outs []Outcome) string {
	var parts []string
	for _, o := range outs {
		switch o.Status {
		case StatusFailed:
			parts = append(parts, o.Service+" failed: "+o.Reason)
		case StatusRebuilt, StatusRecreated:
			parts = append(parts, o.Service+" "+o.Status)
		}
	}
	return strings.Join(parts, ", ")
}

func recreated(service string, outs []Outcome) bool {
	for _, o := range outs {
		if o.Service == service && (o.Status == StatusRebuilt || o.Status == StatusRecreated) {
			return true
		}
	}
	return false
}

// logFailures shows, for every failed service, the tail of its build output
// and the command that reproduces the failure: watch mode must say what
// broke even with --quiet.
func (d *Daemon) logFailures(snap *snapshot, outs []Outcome) {
	for _, o := range outs {
		if o.Status != StatusFailed {
			continue
		}
		fields := []zap.Field{zap.String("service", o.Service), zap.String("reason", o.Reason),
			zap.String("output_tail", strings.Join(o.Tail, "\n"))}
		if cli, ok := snap.rec.Runner.(docker.CommandLine); ok {
			fields = append(fields, zap.String("reproduce", strings.Join(cli.Args("build", o.Service), " ")))
		}
		d.o.Log.Error("build or recreate failed; the old container keeps running, the next change retries", fields...)
	}
}

// failedErr turns a failed outcome into the request's error; the outcome
// already carries the build's tail, logged by the reconciler.
func failedErr(outs []Outcome) error {
	for _, o := range outs {
		if o.Status == StatusFailed {
			return fmt.Errorf("%s: %s", o.Service, o.Reason)
		}
	}
	return nil
}

// decided logs a decision made without the decision function: paths
// whose layer model action is none (debug), or a restart, sync or
// recreate that no fingerprint can make moot. JSON: "msg":"decision" with
// service, action, impact, paths and reason.
func (d *Daemon) decided(r Request, v *Verdict) {
	action := string(r.Action)
	if r.Recreate && r.Action != dockerfile.ActionRebuild {
		action = "recreate"
	}
	fields := []zap.Field{zap.String("service", r.Service), zap.String("action", action),
		zap.String("impact", string(r.Impact)), zap.Strings("paths", r.Paths), zap.String("reason", r.Reason)}
	if v != nil {
		fields = append(fields, zap.String("why", v.Result.Reason))
	}
	msg := "decision"
	if d.o.Human {
		msg = r.Service + "  " + r.Reason + " -> " + action
	}
	if r.Action == dockerfile.ActionNone && len(r.Syncs) == 0 && !r.Recreate {
		if v != nil && d.o.Human {
			msg = r.Service + "  " + r.Reason + " -> nothing to do: " + v.Result.Reason
		}
		d.o.Log.Debug(msg, fields...)
		return
	}
	d.o.Log.Info(msg, fields...)
}

// decisions logs what the decision function decided for a rebuild
// request, once it is final: info for each service it acts on, debug for
// the up-to-date ones. The requested service's line carries the change
// that asked (paths, impact); the others say why they follow.
func (d *Daemon) decisions(r Request, dec *Decided) {
	for _, dc := range dec.Decisions {
		reason := dc.Reason
		fields := []zap.Field{zap.String("service", dc.Service), zap.String("action", dc.Action()),
			zap.String("status", dc.Status), zap.String("why", dc.Reason), zap.Strings("impacts", dc.Impacts)}
		if dc.Service == r.Service {
			fields = append(fields, zap.String("impact", string(r.Impact)), zap.Strings("paths", r.Paths))
			if r.Reason != "" {
				reason = r.Reason
			}
		}
		fields = append(fields, zap.String("reason", reason))
		msg := "decision"
		if d.o.Human {
			msg = dc.Service + "  " + reason + " -> " + dc.Action()
			if dc.Reason != "" && dc.Reason != reason {
				msg += ": " + dc.Reason
			}
		}
		if dc.Stale() {
			d.o.Log.Info(msg, fields...)
		} else {
			d.o.Log.Debug(msg, fields...)
		}
	}
}

// result logs how a request ended, with rebuildd's and Docker's time. A
// request that found nothing to do ends at debug level: its decision said
// so already.
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
	msg := "result"
	if d.o.Human {
		msg = fmt.Sprintf("%s  %s -> %s in %s", r.Service, r.Reason, what, took.Round(100*time.Millisecond))
	}
	switch {
	case err != nil && ErrCancelled(err):
		d.o.Log.Info(msg, append(fields, zap.String("status", "cancelled"))...)
	case err != nil:
		d.o.Log.Error(msg, append(fields, zap.Error(err), zap.String("retry", "on the next change"))...)
	default:
		d.o.Log.Info(msg, fields...)
	}
}

// done is the scheduler's completion hook; results are logged by work.
func (d *Daemon) done(Request, error) {}

// banner logs one line per service (context, target, the builder whose
// ignore rules the model follows, watches, backend) and then "ready".
func (d *Daemon) banner(s *snapshot, st watcher.Stats) {
	for _, w := range s.watched {
		m := s.models[w.Service.Name]
		rs := rootOf(st, m.Context())
		d.o.Log.Info("watching", zap.String("service", w.Service.Name), zap.String("context", m.Context()),
			zap.String("target", m.Analysis().Target), zap.String("builder", m.Dialect().String()),
			zap.Int("watched_dirs", rs.Dirs), zap.String("backend", rs.Backend))
	}
	d.o.Log.Info("ready", zap.Int("watches", st.Watches), zap.Int("polled_dirs", st.Polled),
		zap.Int("roots", len(st.Roots)), zap.Bool("dry_run", d.o.DryRun))
}

// advise logs each service's findings once, after "ready": finding heavy
// contexts walks them, which must not delay watching. The returned wait
// blocks until it is done.
func (d *Daemon) advise(s *snapshot) (wait func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		if d.o.Advise == nil {
			return
		}
		for _, w := range s.watched {
			d.o.Advise(s.proj, w.Service, s.models[w.Service.Name])
		}
	}()
	return func() { <-done }
}

// rootOf finds the watcher root that holds dir (contexts may be merged
// into an enclosing root).
func rootOf(st watcher.Stats, dir string) watcher.RootStats {
	best := watcher.RootStats{Backend: "none"}
	for _, r := range st.Roots {
		if len(r.Files) == 0 && fingerprint.Within(r.Path, dir) && len(r.Path) >= len(best.Path) {
			best = r
		}
	}
	return best
}
