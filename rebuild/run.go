package rebuild

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/rebuildd/rebuildd/docker"
	"github.com/rebuildd/rebuildd/fingerprint"
	"go.uber.org/zap"
)

// run is one --once execution: the plan, then builds, records, recreation.
// It is owned by the goroutine calling Reconciler.Run.
type run struct {
	r       *Reconciler
	inputs  map[string]Input
	out     []Outcome
	built   map[string]*docker.Image // tag -> image after a successful build
	failed  map[string]string        // tag -> why its build failed
	tailOf  map[string][]string
	touched map[string]bool        // services that were upped
	volumes map[string]*volumePlan // service -> its volumes' fates, for a recreate that refreshes
	docker  time.Duration          // time spent in compose build and up
	start   time.Time              // when the work began (Act's start)
	spare   *spare                 // containers the builds need not recreate (converge.go)
}

// Run decides, logs each decision, and acts on them (Act).
func (r *Reconciler) Run(ctx context.Context, names []string) ([]Outcome, error) {
	start := r.now()
	dec, err := r.Decide(ctx, names)
	if err != nil {
		return nil, err
	}
	for _, d := range dec.Decisions {
		r.LogDecision(d)
	}
	return r.Act(ctx, dec, start)
}

// Act builds what the decisions say, records the new fingerprints,
// recreates what runs an old image (or no longer runs) and waits for it.
// A failed build or recreate is an Outcome with StatusFailed, not an
// error; errors are for the engine or the state directory failing. start
// is when the work began, for the log's split of Docker's time from
// rebuildd's own.
func (r *Reconciler) Act(ctx context.Context, dec *Decided, start time.Time) ([]Outcome, error) {
	defer r.saveIndex()
	x := &run{r: r, inputs: map[string]Input{}, out: startOutcomes(dec.Decisions),
		built: map[string]*docker.Image{}, failed: map[string]string{}, tailOf: map[string][]string{}, touched: map[string]bool{},
		volumes: map[string]*volumePlan{}, start: start}
	x.spare = newSpare(x)
	for _, in := range dec.Inputs {
		x.inputs[in.Service] = in
	}
	for _, d := range BuildOrder(dec.Inputs, dec.Decisions) { // bases first
		if err := x.build(ctx, d); err != nil {
			return nil, err
		}
	}
	if err := x.record(); err != nil {
		return nil, err
	}
	if err := x.recreate(ctx); err != nil {
		return nil, err
	}
	x.settle()
	// Docker's cost apart from rebuildd's own (docs/design.md, Measuring).
	took := r.now().Sub(start)
	r.Log.Debug("done", zap.Duration("took", took), zap.Duration("docker", x.docker), zap.Duration("rebuildd", took-x.docker))
	return x.out, nil
}

// build runs one tag's build. A build failure is recorded against the tag,
// so no service using it is recreated: the old containers keep running.
func (x *run) build(ctx context.Context, d Decision) error {
	w := docker.NewPrefixWriter(d.Service, x.r.Out)
	start := x.r.now()
	// Info, for harnesses that time a save to its build command; the
	// console shows it as the service's status line instead.
	x.r.Log.Info("build", zap.String("service", d.Service), zap.String("image", d.Tag), zap.String("reason", d.Reason))
	err := x.r.Runner.Build(ctx, d.Service, w)
	tail := w.Tail()
	took := x.r.now().Sub(start)
	x.docker += took
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		x.failed[d.Tag] = failure("build", err, x.inputs[d.Service].Containers)
		x.tailOf[d.Tag] = tail
		// Debug: the outcome carries the failure, and each mode reports it
		// once with the build's output (watch mode's result, --once's summary).
		x.r.Log.Debug("build failed", zap.String("service", d.Service), zap.Duration("docker", took), zap.Error(err))
		return nil
	}
	img, err := x.r.Engine.Image(ctx, d.Tag)
	if err != nil {
		return err
	}
	if img == nil {
		x.failed[d.Tag] = fmt.Sprintf("build succeeded but left no image %s: check the service's image: and build: sections", d.Tag)
		return nil
	}
	x.built[d.Tag] = img
	x.r.Log.Debug("built", zap.String("service", d.Service), zap.String("image_id", docker.ShortID(img.ID)), zap.Duration("docker", took))
	return nil
}

// record saves the fingerprint of every build service whose tag was built,
// and records again an old record whose files all equal the current ones.
// A record says what the image was built from, nothing about containers.
func (x *run) record() error {
	for _, o := range x.out {
		in, d := x.inputs[o.Service], o.Decision
		var img *docker.Image
		switch {
		case !in.Build:
			continue
		case d.Build:
			img = x.built[d.Tag]
		case d.Adopt:
			img = in.Image
		}
		if img == nil {
			continue
		}
		rec := fingerprint.Record{Service: in.Service, Fingerprint: in.Print.Sum, ImageID: img.ID,
			Time: x.r.now(), Impacts: d.Impacts, Parts: in.Print.Parts}
		if x.r.Unsettled != nil && d.Build {
			rec.Unsettled = string(x.r.Unsettled(in.Print))
			if d.Recheck && in.Record != nil && img.ID == in.Record.ImageID {
				// A recheck that gave the same image ends the chain: a
				// process rewriting files with the same content during
				// every build must not keep rebuildd building.
				rec.Unsettled = ""
			}
		}
		if err := x.r.Store.Save(rec, in.Print.Files); err != nil {
			return err
		}
	}
	return nil
}

// recreate ups every service that needs it in at most two compose calls:
// one with --renew-anon-volumes, for the services whose every anonymous
// volume is to be refreshed, one without (volumes.go).
func (x *run) recreate(ctx context.Context) error {
	var plain, renew []string
	for i := range x.out {
		o := &x.out[i]
		if !x.needsUp(ctx, o) {
			continue
		}
		if o.Decision.RefreshVolumes {
			start := x.r.now()
			p, err := x.planVolumes(ctx, o.Service, x.built[o.Decision.Tag])
			x.docker += x.r.now().Sub(start) // asking the engine: Docker's time
			if err != nil {
				return err
			}
			x.volumes[o.Service] = p
			if p.renewAll() {
				renew = append(renew, o.Service)
				continue
			}
		}
		plain = append(plain, o.Service)
	}
	for _, group := range []struct {
		services []string
		renew    bool
	}{{plain, false}, {renew, true}} {
		if len(group.services) == 0 {
			continue
		}
		if err := x.up(ctx, group.services, group.renew); err != nil {
			return err
		}
	}
	return nil
}

// needsUp: the plan asked for it, the tag's build did not fail, and, after
// a build, some container does not already run the new image (a build that
// reproduced the same image ID recreates nothing) nor hold what it holds
// (a live update synced it; converge.go).
func (x *run) needsUp(ctx context.Context, o *Outcome) bool {
	d := o.Decision
	if !d.Recreate {
		return false
	}
	if _, bad := x.failed[d.Tag]; bad {
		return false
	}
	img := x.built[d.Tag]
	if !d.Build || img == nil {
		return !d.Build
	}
	cs := x.inputs[o.Service].Containers
	for _, c := range cs {
		if c.ImageID != img.ID && !x.spare.holds(ctx, c, d.Tag, img) {
			return true
		}
	}
	return len(cs) == 0
}

func (x *run) up(ctx context.Context, services []string, renew bool) error {
	w := docker.NewPrefixWriter(strings.Join(services, ","), x.r.Out)
	start := x.r.now()
	// The journal outlives a kill: a later run finds the mark and brings
	// the service up whatever state compose left it in.
	if err := x.r.Store.BeginRecreate(services); err != nil {
		return err
	}
	for _, s := range services {
		if p := x.volumes[s]; p != nil && !renew && p.refreshes() {
			x.refreshVolumes(ctx, p)
		}
	}
	// Never cancelled half-way (shutdown, on_busy: cancel): a half-done up
	// leaves the service without a container.
	err := x.r.Runner.Up(context.WithoutCancel(ctx), services, renew, w)
	if jerr := x.r.Store.EndRecreate(services); jerr != nil {
		x.r.Log.Warn("recreate journal not cleared; the next run brings these services up again", zap.Strings("services", services), zap.Error(jerr))
	}
	took := x.r.now().Sub(start)
	x.docker += took
	x.r.Log.Debug("recreate", zap.Strings("services", services), zap.Bool("renew_anon_volumes", renew),
		zap.Duration("docker", took), zap.Error(err))
	for _, s := range services {
		if p := x.volumes[s]; p != nil && (err == nil || !renew) {
			x.logVolumes(p, renew)
		}
	}
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		for _, s := range services {
			x.fail(s, failure("recreate", err, x.inputs[s].Containers), w.Tail())
		}
		return nil
	}
	for _, s := range services {
		x.touched[s] = true
	}
	return x.wait(ctx, services)
}

// wait waits for the recreated containers to run (and be healthy).
func (x *run) wait(ctx context.Context, services []string) error {
	all, err := x.r.Engine.Containers(ctx, x.r.Project.Name)
	if err != nil {
		return err
	}
	want := map[string]bool{}
	for _, s := range services {
		want[s] = true
	}
	for _, c := range all {
		if !want[c.Service] {
			continue
		}
		x.recreated(c)
		if err := x.r.Engine.Wait(ctx, c.ID, x.r.WaitTimeout); err != nil {
			if errors.Is(err, context.Canceled) {
				return err
			}
			x.fail(c.Service, err.Error(), nil)
		}
	}
	return nil
}

// recreated notes c on its service's outcome, for the log.
func (x *run) recreated(c docker.Container) {
	for i := range x.out {
		if x.out[i].Service == c.Service {
			x.out[i].Containers = append(x.out[i].Containers, shortName(x.r.Project.Name, c.Name))
		}
	}
}

func (x *run) fail(service, reason string, tail []string) {
	for i := range x.out {
		if x.out[i].Service == service && x.out[i].Status != StatusFailed {
			x.out[i].Status, x.out[i].Reason, x.out[i].Tail = StatusFailed, reason, tail
		}
	}
}

// sameImage: the build of tag gave the image that was under it before.
func (x *run) sameImage(service, tag string) bool {
	before, after := x.inputs[service].Image, x.built[tag]
	return before != nil && after != nil && before.ID == after.ID
}

// settle gives every service its final status.
func (x *run) settle() {
	for i := range x.out {
		o := &x.out[i]
		d := o.Decision
		if o.Status == StatusFailed {
			continue
		}
		if why, bad := x.failed[d.Tag]; bad && d.Build {
			o.Status, o.Reason, o.Tail = StatusFailed, why, x.tailOf[d.Tag]
			continue
		}
		switch {
		case d.Build && x.inputs[o.Service].Build && d.Status == StatusUnknown && x.sameImage(o.Service, d.Tag):
			// No record vouched for the image, and the build from the
			// current sources gave it again: it held them all along.
			o.Status, o.Reason = StatusUpToDate, "recorded: a build from the current sources gave the image the containers run"
			if x.touched[o.Service] {
				o.Status, o.Reason = StatusRecreated, "recorded: a build from the current sources gave the image already under the tag"
			}
		case d.Build && x.inputs[o.Service].Build && d.Status == StatusSynced:
			o.Status, o.Reason = StatusRebuilt, "built from the sources the containers hold (synced into them); none recreated"
			if x.touched[o.Service] {
				o.Reason = "built from the sources synced into the containers; recreated those that did not hold them"
			}
		case d.Build && x.inputs[o.Service].Build:
			o.Status = StatusRebuilt
			if !x.touched[o.Service] {
				o.Reason += "; the build gave the image the containers already run"
			}
		case d.Recreate && x.touched[o.Service]:
			o.Status = StatusRecreated
		}
	}
	sortOutcomes(x.out)
}
