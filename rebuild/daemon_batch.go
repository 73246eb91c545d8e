package rebuild

import (
	"context"
	"path/filepath"
	"strconv"
	"strings"

	"go.uber.org/zap"

	"github.com/rebuildd/rebuildd/dockerfile"
	"github.com/rebuildd/rebuildd/fingerprint"
	"github.com/rebuildd/rebuildd/watcher"
)

// batch turns one watcher batch into requests: reload first when a file
// that defines the project changed, re-check roots whose events were lost,
// then triage every path for every service.
func (d *Daemon) batch(ctx context.Context, b watcher.Batch, w BatchSource, sched *Scheduler) {
	snap := d.snap.Load()
	// Before any request of this batch can reach a worker.
	d.live.Dirty(b.Paths)
	d.live.Lost(b.Rescan)
	var reqs []Request
	if needsReload(snap, b.Paths) || rescanDefines(snap, b.Rescan) {
		next, changed, err := d.reload(ctx, snap)
		if err != nil {
			d.configErr = err
		} else {
			if next != snap {
				d.snap.Store(next)
				if err := w.SetRoots(Roots(next.proj, next.models)); err != nil {
					d.o.Log.Error("watches not updated after the reload", zap.Error(err))
				}
				snap = next
			}
			reqs = append(reqs, changed...)
			reqs = append(reqs, d.repaid(snap)...)
		}
	}
	reqs = append(reqs, rescans(snap, b.Rescan)...)
	for _, v := range Triage(snap.watched, b.Paths) {
		m := snap.models[v.Service]
		r := Request{Service: v.Service, Action: v.Action, Impact: v.Impact,
			Paths: v.Paths, Reason: summary(m, v), Syncs: v.Syncs, Exec: v.Exec}
		r.Step, r.At = layerStep(m, v.Result)
		if v.Action == dockerfile.ActionNone && len(v.Syncs) == 0 {
			d.decided(r, &v)
			continue
		}
		reqs = append(reqs, r)
	}
	for _, r := range coalesce(reqs, snap.imageOf) {
		d.submit(snap, sched, r)
	}
}

// imageOf groups build services that share an image tag: one decision
// covers them all (Reconciler.Select), and one request per tag keeps them
// from building, or live-updating, the same image twice at once.
func (s *snapshot) imageOf(service string) string {
	svc, ok := s.service(service)
	if !ok || svc.Build == nil || s.rec == nil || s.rec.Runner == nil {
		return service
	}
	return "image " + normalTag(s.rec.tag(svc))
}

// coalesce merges a batch's requests per service, in the order each
// service first appears. The scheduler starts the first request for an
// idle service at once and keeps a second for after it: a reload that
// repays a change held while the Dockerfile was broken, submitted beside
// the fix's own request, built the same Dockerfile twice.
//
// group names the queue a service's requests share: build services of one
// image tag share one (the first one's service names the request).
func coalesce(reqs []Request, group func(string) string) []Request {
	at := make(map[string]int, len(reqs))
	out := reqs[:0:0]
	for _, r := range reqs {
		g := r.Service
		if group != nil && !r.Recreate { // a runtime-section recreate stays its own service's
			g = group(r.Service)
		}
		if i, ok := at[g]; ok {
			out[i] = out[i].mergeAs(r)
			continue
		}
		at[g] = len(out)
		out = append(out, r)
	}
	return out
}

// needsReload reports whether a batch touches a compose file, an env file,
// rebuild.yaml, or a service's Dockerfile or ignore file in use (impact rule
// 1 of the layer model): the models must be rebuilt before any path of the
// batch is classified.
func needsReload(s *snapshot, paths []string) bool {
	for _, p := range paths {
		if definesProject(s.proj, p) {
			return true
		}
		for _, m := range s.models {
			if i := m.Classify(p).Impact; i == dockerfile.ImpactDockerfile || i == dockerfile.ImpactDockerignore {
				return true
			}
		}
	}
	return false
}

// rescanDefines reports whether a root whose events were lost holds a file
// that defines the project (compose file, env file, rebuild.yaml, a
// Dockerfile or ignore file): it may have changed unseen, so reload.
func rescanDefines(s *snapshot, roots []string) bool {
	if len(roots) == 0 {
		return false
	}
	defs := Roots(s.proj, s.models)
	for _, root := range roots {
		for _, r := range defs {
			for _, f := range r.Files {
				if fingerprint.Within(root, filepath.Join(r.Path, f)) {
					return true
				}
			}
		}
	}
	return false
}

// rescans asks every service whose context overlaps a rescanned root to
// compare its fingerprint with disk: events were lost, so nothing else
// says what changed. An unchanged service does nothing.
func rescans(s *snapshot, roots []string) []Request {
	var out []Request
	for _, w := range s.watched {
		ctxDir := s.models[w.Service.Name].Context()
		for _, root := range roots {
			if fingerprint.Within(root, ctxDir) || fingerprint.Within(ctxDir, root) {
				out = append(out, Request{Service: w.Service.Name, Action: dockerfile.ActionRebuild,
					Impact: dockerfile.ImpactSource, Paths: []string{root},
					Reason: "events were lost (" + root + "); re-checking its content from disk"})
				break
			}
		}
	}
	return out
}

// maxListed is how many files a log line names before "+N more": enough to
// recognise an edit, short enough for one line.
const maxListed = 3

// summary is the readable why of a verdict, for example
// "package-lock.json -> deps (RUN npm ci, Dockerfile:5)".
func summary(m *dockerfile.Model, v Verdict) string {
	return listFiles(m.Context(), v.Paths) + " -> " + layerWhy(m, v.Result)
}

func listFiles(base string, paths []string) string {
	return strings.Join(listed(base, paths), ", ")
}

func layerWhy(m *dockerfile.Model, r dockerfile.Result) string {
	if step, at := layerStep(m, r); step != "" {
		return string(r.Impact) + " (" + step + ", " + at + ")"
	}
	return string(r.Impact)
}

// layerStep is the instruction that makes r's layer what it is, and where:
// for deps the RUN the change re-runs, for source the COPY that reads it;
// "" for other impacts.
func layerStep(m *dockerfile.Model, r dockerfile.Result) (step, at string) {
	df := "dockerfile_inline"
	if m.Dockerfile() != "" {
		df = filepath.Base(m.Dockerfile())
	}
	in := r.Input
	switch {
	case r.Impact == dockerfile.ImpactDeps && in != nil && in.DepsRun != nil:
		return firstLine(in.DepsRun.Text), df + ":" + strconv.Itoa(in.DepsRun.Line)
	case r.Impact == dockerfile.ImpactSource && in != nil:
		return firstLine(in.Text), df + ":" + strconv.Itoa(in.Line)
	}
	return "", ""
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return strings.TrimSuffix(strings.TrimSpace(s), "\\")
}
