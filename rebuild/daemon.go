package rebuild

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/rebuildd/rebuildd/config"
	"github.com/rebuildd/rebuildd/docker"
	"github.com/rebuildd/rebuildd/dockerfile"
	"github.com/rebuildd/rebuildd/fingerprint"
	"github.com/rebuildd/rebuildd/watcher"
)

// BatchSource is what watch mode needs from the watcher; *watcher.Watcher
// and *watcher.Fake are both one.
type BatchSource interface {
	Batches() <-chan watcher.Batch
	Ready() <-chan struct{}
	SetRoots([]watcher.Root) error
	Stats() watcher.Stats
	Close() error
}

// DaemonOptions wire watch mode. cmd/rebuildd fills them with the real
// parts; tests use fakes.
type DaemonOptions struct {
	// Load loads the project (compose files, .env, rebuild.yaml). Called at
	// start and again whenever one of those files changes.
	Load func(ctx context.Context) (*config.Project, error)
	// Model reads one service's Dockerfile and ignore file.
	Model func(config.Service, config.ServiceSettings) (*dockerfile.Model, error)
	// Watch starts the watcher on roots; touched is to get every change's
	// paths as soon as it is seen (watcher.Options.Touched).
	Watch func(roots []watcher.Root, s config.Settings, touched func([]string)) (BatchSource, error)
	// Reconciler returns the --once machinery for a project, with sources
	// taken from the snapshot's models: every decision is its Decide. In
	// dry-run mode its store is wrapped in an overlay and nothing is acted
	// on; nil there decides from memory alone.
	Reconciler func(p *config.Project, sources func(config.Service) (fingerprint.Source, error)) *Reconciler
	// Restart runs `compose restart SERVICE`; Recreate runs
	// `compose up -d --no-deps SERVICES` after a runtime-section change.
	Restart  func(ctx context.Context, service string) error
	Recreate func(ctx context.Context, services []string) error
	// Sync copies develop.watch sync paths into the service's running
	// containers and then runs the sync+exec commands there.
	Sync func(ctx context.Context, service string, ops []docker.SyncOp, exec [][]string) error
	// Advise, when set, logs findings for a service in the start-up banner.
	Advise func(p *config.Project, svc config.Service, m *dockerfile.Model)

	DryRun    bool // decide as usual, run nothing, need no engine
	NoInitial bool // skip the start-up reconcile
	Log       *zap.Logger
	Now       func() time.Time
	After     func(time.Duration) <-chan time.Time // backoff waits; default time.After
}

// Daemon is watch mode: changes in, the smallest correct action out.
//
// Ownership: Run's goroutine owns the project snapshot and the watcher; it
// publishes each new snapshot through snap (read by workers). The
// Scheduler owns the queue. Workers (one per running request) own nothing
// but share prints (dry-run fingerprints, under mu) and down (engine state).
type Daemon struct {
	o      DaemonOptions
	snap   atomic.Pointer[snapshot]
	index  *fingerprint.Index // used when the reconciler has none (a dry run without one)
	live   *fingerprint.Live  // set by the first load: prints kept current from the batches
	pre    *docker.Prefetch   // set by the first load unless dry: engine answers asked for ahead
	copied heldPrints         // the prints live updates copied into containers (livebase.go)

	mu      sync.Mutex
	overlay *fingerprint.Overlay // dry run: what it pretended to build (under mu)
	dryEng  *dryEngine           // dry run with an engine: what it pretended to build and run (under mu)
	down    atomic.Bool          // the engine is unreachable; a reconnect loop runs
	sched   *Scheduler           // set by Run before the first batch; the reconnect loop submits to it
	bg      sync.WaitGroup       // the reconnect loop
	life    context.Context      // Run's context: the reconnect loop lives as long as Run

	// Owned by Run's goroutine (batch, reload): work held back while the
	// configuration or a service's Dockerfile is broken, and whether the
	// last reload failed. Nothing owed is ever dropped: the next good
	// configuration re-checks every service (owe.go).
	owed      map[string]Request
	configErr error
}

// NewDaemon checks the options.
func NewDaemon(o DaemonOptions) *Daemon {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.After == nil {
		o.After = time.After
	}
	if o.Log == nil {
		o.Log = zap.NewNop()
	}
	return &Daemon{o: o, index: fingerprint.NewIndex(o.Now), owed: map[string]Request{}}
}

// Run loads the project, reconciles once (unless NoInitial), watches and
// acts on every batch until ctx is cancelled. Bad input at start is
// returned (a *config.InputError); later it is logged and the last good
// configuration keeps running.
func (d *Daemon) Run(ctx context.Context) error {
	snap, err := d.load(ctx, nil)
	if err != nil {
		return err
	}
	d.snap.Store(snap)
	d.sched = NewScheduler(ctx, SchedulerOptions{
		Parallel:     snap.proj.Settings.Parallel,
		CancelOnBusy: snap.proj.Settings.OnBusy == "cancel",
		BuildsOn:     buildsOn(snap),
		Do:           d.work,
		Done:         d.done,
	})
	defer d.sched.Close()
	defer d.bg.Wait() // the reconnect loop ends with ctx...
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // ...which is cancelled however Run returns
	d.life = ctx
	// Watch first: edits made during a long start-up reconcile wait in the
	// watcher's batch (it never blocks) and are handled right after it.
	w, err := d.o.Watch(Roots(snap.proj, snap.models), snap.proj.Settings, d.touched)
	if err != nil {
		return err
	}
	defer w.Close()
	select {
	case <-w.Ready():
	case <-ctx.Done():
		return nil
	}
	d.initial(ctx, snap)
	d.banner(snap, w.Stats())
	defer d.advise(snap)()
	for {
		select {
		case <-ctx.Done():
			d.o.Log.Info("stopping: no new work starts; a running build is cancelled, a running recreate finishes")
			return nil
		case b, ok := <-w.Batches():
			if !ok {
				return nil
			}
			d.batch(ctx, b, w, d.sched)
		}
	}
}

// initial is the start-up reconcile: exactly --once (in dry-run mode, its
// decisions, with what it would build recorded in the overlay).
func (d *Daemon) initial(ctx context.Context, snap *snapshot) {
	if d.o.NoInitial {
		return
	}
	if d.o.DryRun {
		if _, err := d.dryRun(ctx, snap, Request{Reason: "start-up reconcile"}, nil); err != nil {
			d.o.Log.Error("start-up reconcile failed", zap.Error(err))
		}
		return
	}
	outs, err := snap.rec.Run(ctx, nil)
	if err != nil {
		d.engineError(err)
		return
	}
	d.reconciled(snap, outs)
}

// buildsOn finds services whose Dockerfile builds FROM another service's
// image, so the scheduler builds the base first and follows its rebuilds.
func buildsOn(s *snapshot) map[string][]string {
	byTag := map[string]string{}
	for _, svc := range s.proj.BuildServices() {
		if svc.Image != "" {
			byTag[normalTag(svc.Image)] = svc.Name
		}
	}
	out := map[string][]string{}
	for _, w := range s.watched {
		for _, st := range s.models[w.Service.Name].Analysis().Stages {
			if base, ok := byTag[normalTag(st.Base)]; ok && base != w.Service.Name {
				out[w.Service.Name] = append(out[w.Service.Name], base)
			}
		}
	}
	return out
}

// engineError reports an unreachable engine once and starts the reconnect
// loop; other errors are logged.
func (d *Daemon) engineError(err error) {
	var ue *docker.UnreachableError
	if ErrCancelled(err) {
		return // a newer change cancelled it (on_busy: cancel, or a converge giving way): its result says so
	}
	if !errors.As(err, &ue) {
		d.o.Log.Error("reconcile failed", zap.Error(err))
		return
	}
	if d.down.Swap(true) {
		return
	}
	d.o.Log.Warn("the Docker engine went away; waiting for it and reconciling when it is back", zap.Error(err))
	d.bg.Add(1)
	go func() {
		defer d.bg.Done()
		// Not ctx: that is the failed request's, which ends right away.
		d.reconnect(d.life)
	}()
}

// Backoff bounds for reconnecting: quick enough to notice a daemon restart
// within seconds, slow enough to cost nothing while Docker is off for long.
const (
	backoffMin = 500 * time.Millisecond
	backoffMax = 15 * time.Second
)

// reconnect asks the engine with backoff until it answers, then has every
// service re-checked through the scheduler (one build at a time per
// service, as always): changes made while Docker was away are built then.
func (d *Daemon) reconnect(ctx context.Context) {
	wait := backoffMin
	for {
		select {
		case <-ctx.Done():
			return
		case <-d.o.After(wait):
		}
		snap := d.snap.Load()
		_, err := snap.rec.Engine.Containers(ctx, snap.proj.Name)
		var ue *docker.UnreachableError
		if errors.As(err, &ue) {
			wait = min(2*wait, backoffMax)
			continue
		}
		d.down.Store(false)
		d.o.Log.Info("the Docker engine is back; reconciling", zap.Error(err))
		for _, w := range snap.watched {
			d.sched.Submit(Request{Service: w.Service.Name, Action: dockerfile.ActionRebuild, Impact: dockerfile.ImpactSource,
				Reason: "the Docker engine is back; re-checking"})
		}
		return
	}
}
