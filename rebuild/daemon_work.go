package rebuild

import (
	"context"
	"slices"
	"strconv"
	"strings"

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
	if result != resultLogged {
		d.result(r, result, d.o.Now().Sub(start), err)
	}
	return err
}

// resultLogged: the work logged its own result (a live update's line).
const resultLogged = "\x00logged"

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
	if anyStale(dec) && !r.Recreate && r.Action == dockerfile.ActionRebuild {
		if ok, err := d.trySync(ctx, snap, r, dec, start); ok {
			return resultLogged, err
		}
	}
	if onlyConverges(dec) {
		r.Converge = true // the containers hold the files already: as quiet as the sync's own converge
	}
	d.decisions(r, dec)
	if !anyStale(dec) && !r.Recreate {
		return "", nil
	}
	actx := ctx
	if r.Converge {
		actx = docker.Background(ctx)
	}
	outs, err := snap.rec.Act(actx, dec, start)
	if err != nil {
		d.engineError(err)
		return "", err
	}
	res := describeOutcomes(r.Service, outs)
	if r.Converge && !slices.ContainsFunc(outs, func(o Outcome) bool { return len(o.Containers) > 0 || o.Status == StatusFailed }) && res != "" {
		res = "image built from the synced files; nothing recreated"
	}
	if r.Recreate && !recreated(r.Service, outs) {
		if _, err := d.recreate(ctx, r.Service); err != nil {
			return res, err
		}
		res = joinResult(res, "recreated for the new compose configuration")
	}
	return res, failedErr(r.Service, outs)
}

// dryRun decides exactly as rebuild does, logs the decisions and records
// what it would build in the overlay, so the next decision compares with
// it. names nil is every build service.
func (d *Daemon) dryRun(ctx context.Context, snap *snapshot, r Request, names []string) (string, error) {
	dec, err := snap.rec.Decide(ctx, names)
	if err != nil {
		return "", err
	}
	if r.Action == dockerfile.ActionRebuild && !r.Recreate && anyStale(dec) && d.dryEngineSeen(snap) {
		if res, ok := d.drySync(ctx, snap, r, dec); ok {
			return res, nil
		}
	}
	d.decisions(r, dec)
	var did []string
	for i, dc := range dec.Decisions {
		in := dec.Inputs[i]
		if !dc.Stale() {
			continue
		}
		switch {
		case dc.Service == r.Service && r.Converge && dc.Status == StatusSynced:
			did = append([]string{"would build the image from the synced files"}, did...)
		case dc.Service == r.Service:
			did = append([]string{"would " + dc.Action()}, did...)
		default:
			did = append(did, dc.Service+" would "+dc.Action())
		}
		if err := d.pretendBuild(snap, dc, in); err != nil {
			return "", err
		}
	}
	for _, dc := range dec.Decisions { // after every pretended build: a shared tag's new image
		d.pretendRun(snap, dc)
	}
	if len(did) == 0 {
		return "", nil
	}
	return strings.Join(did, ", ") + " (dry run)", nil
}

// pretendBuild records what a stale decision's build would have made: the
// print as built (overlay store) and, with an engine, a pretended image
// under the tag.
func (d *Daemon) pretendBuild(snap *snapshot, dc Decision, in Input) error {
	if !dc.Builder || in.Print == nil {
		return nil
	}
	id := "dry-run"
	switch eng, ok := snap.rec.Engine.(*dryEngine); {
	case ok:
		id = eng.built(dc.Tag, in.Print.Sum)
	case in.Record != nil:
		id = in.Record.ImageID // no engine: decisions assume the recorded image
	}
	rec := fingerprint.Record{Service: dc.Service, Fingerprint: in.Print.Sum, ImageID: id, Time: d.o.Now(),
		Impacts: dc.Impacts, Parts: in.Print.Parts}
	return snap.rec.Store.Save(rec, in.Print.Files)
}

// pretendRun makes a service a stale decision would have recreated run
// its tag's (pretended) image.
func (d *Daemon) pretendRun(snap *snapshot, dc Decision) {
	eng, ok := snap.rec.Engine.(*dryEngine)
	if !ok || !dc.Stale() || dc.Status == StatusSynced {
		return // a converge recreates no container: they hold the image's files
	}
	img, _ := eng.Image(context.Background(), dc.Tag)
	if img == nil {
		return
	}
	eng.ran(dc.Service, img.ID)
	// A recreated container holds the image: what syncs left in the old
	// one (its mark) is gone with it.
	if cs, err := eng.Engine.Containers(context.Background(), snap.rec.Project.Name); err == nil {
		_ = snap.rec.Store.UpdateSyncMarks(func(m map[string]fingerprint.SyncMark) {
			for _, c := range cs {
				if c.Service == dc.Service {
					delete(m, c.ID)
					d.copied.set(c.ID, nil)
				}
			}
		})
	}
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

func recreated(service string, outs []Outcome) bool {
	for _, o := range outs {
		if o.Service == service && (o.Status == StatusRebuilt || o.Status == StatusRecreated) {
			return true
		}
	}
	return false
}

// done is the scheduler's completion hook; results are logged by work.
func (d *Daemon) done(Request, error) {}

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
