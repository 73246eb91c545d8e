package rebuild

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/rebuildd/rebuildd/docker"
	"github.com/rebuildd/rebuildd/dockerfile"
	"github.com/rebuildd/rebuildd/fingerprint"
	"github.com/rebuildd/rebuildd/reload"
)

// Watch mode's live update (docs/design.md, "Live update"). After the
// decision function says a service is stale, a change of source files
// alone is copied into the running containers of its image instead of
// built, when the layer model says every changed file may be synced and
// rebuildd knows what each container held before. The image then
// converges: a build is queued behind the sync, and it recreates no
// container that holds what it was built from (converge.go). Anything
// that cannot be synced exactly rebuilds as before.

// synced is what one live update did, for the log.
type syncDone struct {
	paths     []string // container paths, of the first container
	took      time.Duration
	restarted []string      // services restarted
	restart   time.Duration // how long the restarts took
	reloads   string        // why no restart was needed ("busybox httpd serves it")
	dry       bool          // a dry run's: nothing was copied
}

// trySync live-updates the request's service when it can. ok false: it
// changed nothing, and the decision is acted on as usual (why, at debug).
func (d *Daemon) trySync(ctx context.Context, snap *snapshot, r Request, dec *Decided, start time.Time) (bool, error) {
	decided := d.o.Now()
	s, plans, why, err := d.planSync(ctx, snap, r, dec)
	planned := d.o.Now()
	switch {
	case errors.Is(err, errRaced):
		d.o.Log.Debug("sync waits for the next change", zap.String("service", r.Service), zap.String("why", err.Error()))
		return true, nil
	case err != nil:
		d.o.Log.Debug("not synced", zap.String("service", r.Service), zap.Error(err))
		return false, nil
	case why != "":
		d.o.Log.Debug("not synced", zap.String("service", r.Service), zap.String("why", why))
		return false, nil
	}
	done := syncDone{}
	err = d.changing(func() error {
		var err error
		done, err = d.applySync(context.WithoutCancel(ctx), snap, r, s, plans, start)
		return err
	})
	if err != nil {
		// The marks went before anything was copied: the decision now
		// recreates these containers, which the build does.
		d.o.Log.Warn("sync failed; rebuilding instead", zap.String("service", r.Service), zap.Error(err))
		return false, nil
	}
	d.o.Log.Debug("sync timing", zap.String("service", r.Service), zap.Duration("decide", decided.Sub(start)),
		zap.Duration("plan", planned.Sub(decided)), zap.Duration("copy", done.took-planned.Sub(start)))
	d.syncLogged(r, done)
	d.converge(r.Service)
	return true, nil
}

// converge queues the build that brings the image up to what a sync
// copied into its containers (Request.Converge).
func (d *Daemon) converge(service string) {
	d.sched.Submit(Request{Service: service, Action: dockerfile.ActionRebuild, Impact: dockerfile.ImpactSource,
		Converge: true, Reason: "the image catches up with the files synced into its containers"})
}

// planSync finds the containers to sync and plans each; nothing changes.
func (d *Daemon) planSync(ctx context.Context, snap *snapshot, r Request, dec *Decided) (*syncer, []*containerPlan, string, error) {
	m := snap.models[r.Service]
	svc, _ := snap.service(r.Service)
	switch {
	case m == nil:
		return nil, nil, "no model", nil
	case m.OnSource() == dockerfile.OnSourceRebuild || m.OnSource() == dockerfile.OnSourceNone:
		return nil, nil, "on_source: " + m.OnSource(), nil
	case len(svc.Watch) > 0:
		return nil, nil, "its develop.watch rules decide", nil
	case snap.rec.Live == nil:
		return nil, nil, "no engine to copy with", nil
	}
	in, dc, ok := inputOf(dec, r.Service)
	switch {
	case !ok || !in.Build || !dc.Stale() || in.Print == nil || in.Unasked || in.Interrupted:
		return nil, nil, "not a stale build service", nil
	case dc.Status == StatusSynced:
		return nil, nil, "the containers hold the current files: the image converges", nil
	case in.Record == nil || in.Image == nil || in.Record.ImageID != in.Image.ID:
		return nil, nil, "the image is not the one rebuildd recorded", nil
	}
	s := &syncer{ctx: ctx, live: snap.rec.Live, model: m, print: in.Print, syncs: map[string]dockerfile.Sync{}, alive: map[string]bool{}}
	files := in.Files
	if p := d.copied.recorded(in.Service, in.Record); p != nil {
		files = func() (map[string]fingerprint.FileSum, error) { return p.Files, nil }
	}
	var plans []*containerPlan
	for _, o := range dec.Inputs {
		if normalTag(o.Tag) != normalTag(in.Tag) {
			continue
		}
		for _, c := range o.Containers {
			s.alive[c.ID] = true
			if c.State != "running" {
				continue // the build's recreate decides about it
			}
			b, why, err := baseOf(c, in.Record, in.Synced, &d.copied, files)
			if why != "" || err != nil {
				return nil, nil, why, err
			}
			if why := sameDefinition(b.Parts, in.Print.Parts); why != "" {
				return nil, nil, why, nil
			}
			diff, why := diffFiles(b.Files, in.Print.Files)
			if why == "" {
				why = s.followed(diff)
			}
			if why != "" {
				return nil, nil, why, nil
			}
			p, why, err := s.plan(c, b, diff)
			if why != "" || err != nil {
				return nil, nil, why, err
			}
			plans = append(plans, p)
		}
	}
	if len(plans) == 0 {
		return nil, nil, "no running container", nil
	}
	if !slices.ContainsFunc(plans, func(p *containerPlan) bool { return len(p.entries)+len(p.remove) > 0 }) {
		return nil, nil, "nothing to copy", nil
	}
	return s, plans, "", nil
}

func inputOf(dec *Decided, service string) (Input, Decision, bool) {
	for i, in := range dec.Inputs {
		if in.Service == service {
			return in, dec.Decisions[i], true
		}
	}
	return Input{}, Decision{}, false
}

// applySync copies and removes in each container, moves its mark, then
// restarts what does not reload by itself.
func (d *Daemon) applySync(ctx context.Context, snap *snapshot, r Request, s *syncer, plans []*containerPlan, start time.Time) (syncDone, error) {
	var done syncDone
	store := snap.rec.Store
	restart := map[string]bool{}
	var reloads []string
	var held []heldMark
	for _, p := range plans {
		id := p.c.ID
		d.copied.set(id, nil)
		// Before anything is copied, a mark that vouches for nothing: a
		// sync cut short (rebuildd killed) leaves a container whose
		// content no record or mark describes, which every decision then
		// recreates, even one that runs the recorded image.
		copying := fingerprint.SyncMark{Service: r.Service, At: d.o.Now()}
		if err := store.UpdateSyncMarks(func(m map[string]fingerprint.SyncMark) { m[id] = copying }); err != nil {
			return done, err
		}
		if len(p.remove) > 0 {
			if err := s.live.Remove(ctx, id, p.remove); err != nil {
				return done, err
			}
		}
		if len(p.entries) > 0 {
			var buf bytes.Buffer
			if err := docker.WriteTar(&buf, p.entries); err != nil {
				return done, err
			}
			if err := s.live.Put(ctx, id, &buf); err != nil {
				return done, err
			}
		}
		mark := p.mark(r.Service, s.print, d.o.Now())
		if done.paths == nil {
			done.paths = p.containerPaths()
		}
		switch v := restartVerdict(s.model.OnSource(), p); {
		case v.Reloads:
			reloads = appendNew(reloads, v.Why)
			if err := d.markSynced(store, r.Service, s, id, mark); err != nil {
				return done, err
			}
		default:
			// Its process still runs the old files: the mark that vouches
			// for nothing stays until the restart is done, so a kill or a
			// failed restart in between leaves it recreated, never
			// "synced" (docs/design.md, "Live update").
			restart[p.c.Service] = true
			held = append(held, heldMark{id: id, mark: mark})
		}
	}
	done.took = d.o.Now().Sub(start)
	done.reloads = strings.Join(reloads, ", ")
	at := d.o.Now()
	for _, svc := range sortedKeys(restart) {
		if err := d.o.Restart(ctx, svc); err != nil {
			return done, err
		}
		done.restarted = append(done.restarted, svc)
	}
	for _, h := range held {
		if err := d.markSynced(store, r.Service, s, h.id, h.mark); err != nil {
			return done, err
		}
	}
	done.restart = d.o.Now().Sub(at)
	return done, nil
}

// heldMark is a container's mark, written once its restart is done.
type heldMark struct {
	id   string
	mark fingerprint.SyncMark
}

// markSynced writes the mark of a container that holds s.print (and whose
// process serves it), dropping marks of the service's containers that are
// gone.
func (d *Daemon) markSynced(store fingerprint.Records, service string, s *syncer, id string, mark fingerprint.SyncMark) error {
	err := store.UpdateSyncMarks(func(m map[string]fingerprint.SyncMark) {
		m[id] = mark
		for other, om := range m {
			if om.Service == service && !s.alive[other] {
				delete(m, other)
				d.copied.set(other, nil)
			}
		}
	})
	if err != nil {
		return err
	}
	d.copied.set(id, s.print)
	return nil
}

// restartVerdict applies on_source: sync never restarts, sync+restart and
// restart always do, auto asks reload.Decide.
func restartVerdict(policy string, p *containerPlan) reload.Verdict {
	switch policy {
	case dockerfile.OnSourceSync:
		return reload.Verdict{Reloads: true, Why: "on_source: sync"}
	case dockerfile.OnSourceSyncRestart, dockerfile.OnSourceRestart:
		return reload.Verdict{Why: "on_source: " + policy}
	}
	proc := reload.Process{Entrypoint: p.lc.Entrypoint, Cmd: p.lc.Cmd, Env: p.lc.Env, WorkingDir: p.lc.WorkingDir}
	return reload.Decide(proc, p.containerPaths())
}

func mergeRemoved(old, now []string) []string {
	out := slices.Clone(old)
	for _, p := range now {
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	slices.Sort(out)
	return out
}

func appendNew(list []string, s string) []string {
	if slices.Contains(list, s) {
		return list
	}
	return append(list, s)
}

// dryEngineSeen: a dry run that sees an engine can plan a sync (planning
// only reads); without one it cannot know the containers.
func (d *Daemon) dryEngineSeen(snap *snapshot) bool {
	_, ok := snap.rec.Engine.(*dryEngine)
	return ok && snap.rec.Live != nil
}

// drySync is trySync for --dry-run: it plans, says what it would copy, and
// pretends it did (marks in the overlay store, prints in memory), so the
// next decision compares with that, as after a real sync.
func (d *Daemon) drySync(ctx context.Context, snap *snapshot, r Request, dec *Decided) (string, bool) {
	s, plans, why, err := d.planSync(ctx, snap, r, dec)
	if err != nil || why != "" {
		d.o.Log.Debug("not synced", zap.String("service", r.Service), zap.String("why", why), zap.Error(err))
		return "", false
	}
	var paths []string
	for _, p := range plans {
		id, mark := p.c.ID, p.mark(r.Service, s.print, d.o.Now())
		if err := snap.rec.Store.UpdateSyncMarks(func(m map[string]fingerprint.SyncMark) { m[id] = mark }); err != nil {
			return "", false
		}
		d.copied.set(id, s.print)
		if paths == nil {
			paths = p.containerPaths()
		}
	}
	d.syncLogged(r, syncDone{paths: paths, dry: true})
	d.converge(r.Service)
	return resultLogged, true
}

// onlyConverges: every stale decision is an image catching up with what
// its containers hold (StatusSynced), nothing else.
func onlyConverges(dec *Decided) bool {
	n := 0
	for _, dc := range dec.Decisions {
		switch {
		case !dc.Stale():
		case dc.Status != StatusSynced:
			return false
		default:
			n++
		}
	}
	return n > 0
}
