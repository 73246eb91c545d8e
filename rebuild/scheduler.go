package rebuild

import (
	"context"
	"errors"
	"sort"
	"sync"

	"github.com/rebuildd/rebuildd/docker"
	"github.com/rebuildd/rebuildd/dockerfile"
)

// Request asks the scheduler to act on one service. Only restart and
// rebuild reach the scheduler; "none" is decided and logged before it.
type Request struct {
	Service string
	Action  dockerfile.Action
	Impact  dockerfile.Impact // the strongest impact behind the request
	// Recreate asks for `up -d --no-deps` even when no build changes the
	// image: the service's runtime section changed, or it is new.
	Recreate bool
	Syncs    []docker.SyncOp // develop.watch: copy into the running containers
	Exec     [][]string      // develop.watch sync+exec: run in the containers after the syncs
	Paths    []string        // the changed paths, for logs
	// Converge: the build that brings an image up to the files a live
	// update synced into its containers (livesync.go). A change arriving
	// while it runs cancels it: the change's own sync comes first, and
	// queues the next one.
	Converge bool
	Reason   string // why, for people
	// Step and At name the instruction whose layer the change feeds, for
	// the log's "-> deps (RUN npm ci, Dockerfile:5)"; "" when none does.
	Step, At string
}

// mergeAs folds a request of another service of the same image into r,
// which keeps its service (coalesce never folds a recreate request).
func (r Request) mergeAs(n Request) Request {
	n.Service = r.Service
	return r.merge(n)
}

// merge folds a newer request for the same service into r: the strongest
// action wins, volume renewal sticks, and no path is forgotten.
func (r Request) merge(n Request) Request {
	out := r
	out.Action = dockerfile.Stronger(r.Action, n.Action)
	if out.Action != r.Action {
		out.Impact, out.Reason, out.Step, out.At = n.Impact, n.Reason, n.Step, n.At
	}
	out.Recreate = r.Recreate || n.Recreate
	out.Converge = r.Converge && n.Converge
	seen := make(map[string]bool, len(r.Paths)+len(n.Paths))
	out.Paths = nil
	for _, p := range append(append([]string{}, r.Paths...), n.Paths...) {
		if !seen[p] {
			seen[p] = true
			out.Paths = append(out.Paths, p)
		}
	}
	sort.Strings(out.Paths)
	out.Syncs = append(append([]docker.SyncOp{}, r.Syncs...), n.Syncs...)
	out.Exec = append([][]string{}, r.Exec...)
	for _, c := range n.Exec {
		if !hasCommand(out.Exec, c) {
			out.Exec = append(out.Exec, c)
		}
	}
	return out
}

// Work carries out one request (build + recreate, or restart). It must
// return promptly with ctx.Err() when ctx is cancelled.
type Work func(ctx context.Context, r Request) error

// SchedulerOptions configures a Scheduler.
type SchedulerOptions struct {
	// Parallel is how many services may build at once. Builds are CPU-bound,
	// so the default is 1.
	Parallel int
	// CancelOnBusy (rebuild.yaml on_busy: cancel) cancels a running build
	// when a new change for the same service arrives, instead of queueing a
	// follow-up.
	CancelOnBusy bool
	// BuildsOn maps a service to the services whose images it builds FROM:
	// it never starts while one of them is running or waiting, and a
	// successful rebuild of one of them rebuilds it too.
	BuildsOn map[string][]string
	Do       Work
	// Done, when set, is called from the owner goroutine after every request
	// finishes (err is ctx.Err() for a cancelled one).
	Done func(r Request, err error)
}

// Scheduler runs requests with one build at a time per service, at most
// Parallel at once, and coalesces changes that arrive during a build into
// exactly one follow-up.
//
// Ownership: all scheduling state belongs to the goroutine started by
// NewScheduler (loop). Submit and Close talk to it over channels. Work runs
// in its own goroutine per request and reports on finished, which the loop
// owns and never closes (workers may still send while the loop drains).
type Scheduler struct {
	opts     SchedulerOptions
	submit   chan Request
	finished chan finished
	quit     chan struct{}
	stopped  chan struct{}
	once     sync.Once

	// owned by loop
	seq       uint64 // counts services becoming pending: their place in the queue
	state     map[string]*svcState
	running   int                 // requests running
	building  int                 // rebuild requests running: these count against Parallel
	dependent map[string][]string // inverse of BuildsOn
}

type svcState struct {
	pending    *Request
	since      uint64             // s.seq when pending became non-nil; merges keep it
	cancel     context.CancelFunc // non-nil while running
	converging bool               // the running request is a Converge build
}

type finished struct {
	req Request
	err error
}

// NewScheduler starts the scheduler's owner goroutine. ctx bounds every
// Work call; Close stops the scheduler.
func NewScheduler(ctx context.Context, opts SchedulerOptions) *Scheduler {
	if opts.Parallel < 1 {
		opts.Parallel = 1
	}
	s := &Scheduler{
		opts:      opts,
		submit:    make(chan Request),
		finished:  make(chan finished),
		quit:      make(chan struct{}),
		stopped:   make(chan struct{}),
		state:     map[string]*svcState{},
		dependent: map[string][]string{},
	}
	for svc, bases := range opts.BuildsOn {
		for _, b := range bases {
			s.dependent[b] = append(s.dependent[b], svc)
		}
	}
	go s.loop(ctx)
	return s
}

// Submit queues r. It never blocks on a running build. After Close it does
// nothing; a worker may call it (a sync queues its image's build) while
// Close waits for that worker.
func (s *Scheduler) Submit(r Request) {
	select {
	case s.submit <- r:
	case <-s.quit:
	case <-s.stopped:
	}
}

// Close cancels running builds, drops pending requests, waits for running
// work to return and stops the loop. Safe to call more than once.
func (s *Scheduler) Close() {
	s.once.Do(func() { close(s.quit) })
	<-s.stopped
}

func (s *Scheduler) loop(ctx context.Context) {
	defer close(s.stopped)
	for {
		select {
		case r := <-s.submit:
			s.add(ctx, r)
		case f := <-s.finished:
			s.complete(ctx, f)
		case <-s.quit:
			s.drain()
			return
		}
		s.startReady(ctx)
	}
}

func (s *Scheduler) svc(name string) *svcState {
	st := s.state[name]
	if st == nil {
		st = &svcState{}
		s.state[name] = st
	}
	return st
}

// add records r as pending, merged with what is already pending. With
// CancelOnBusy a running build of the same service is cancelled; its
// follow-up starts when it has returned.
func (s *Scheduler) add(ctx context.Context, r Request) {
	st := s.svc(r.Service)
	if st.pending == nil {
		s.seq++
		st.pending, st.since = &r, s.seq
	} else {
		m := st.pending.merge(r)
		st.pending = &m
	}
	if st.cancel != nil && ((s.opts.CancelOnBusy && r.Action == dockerfile.ActionRebuild) || (st.converging && !r.Converge)) {
		st.cancel()
	}
}

func (s *Scheduler) complete(ctx context.Context, f finished) {
	st := s.svc(f.req.Service)
	st.cancel, st.converging = nil, false
	s.running--
	if f.req.Action == dockerfile.ActionRebuild {
		s.building--
	}
	if s.opts.Done != nil {
		s.opts.Done(f.req, f.err)
	}
	if f.err == nil && f.req.Action == dockerfile.ActionRebuild {
		for _, d := range s.dependent[f.req.Service] {
			s.add(ctx, Request{Service: d, Action: dockerfile.ActionRebuild, Impact: dockerfile.ImpactDeps,
				Reason: "its base image (service " + f.req.Service + ") was rebuilt"})
		}
	}
}

// startReady starts pending requests in the order their services became
// pending, skipping services that are running or whose base services are
// busy. Only builds are limited by Parallel (they are what is CPU-bound):
// a restart or a develop.watch sync never waits behind another service's
// build.
//
// The order is what makes it fair (issue 17: in name order, a "web" whose
// files kept changing held "worker" back for 45 s with parallel: 1). A
// change that arrives while its service builds queues behind every service
// already waiting, so a waiting service sees at most one more build of
// each other service start before its own.
func (s *Scheduler) startReady(ctx context.Context) {
	names := make([]string, 0, len(s.state))
	for n, st := range s.state {
		if st.pending != nil && st.cancel == nil {
			names = append(names, n)
		}
	}
	sort.Slice(names, func(i, j int) bool { return s.state[names[i]].since < s.state[names[j]].since })
	for _, n := range names {
		st := s.state[n]
		build := st.pending.Action == dockerfile.ActionRebuild
		if (build && s.building >= s.opts.Parallel) || s.baseBusy(n) {
			continue
		}
		r := *st.pending
		st.pending = nil
		wctx, cancel := context.WithCancel(ctx)
		st.cancel, st.converging = cancel, r.Converge
		s.running++
		if build {
			s.building++
		}
		go s.work(wctx, cancel, r)
	}
}

func (s *Scheduler) baseBusy(name string) bool {
	for _, b := range s.opts.BuildsOn[name] {
		if st := s.state[b]; st != nil && (st.pending != nil || st.cancel != nil) {
			return true
		}
	}
	return false
}

func (s *Scheduler) work(ctx context.Context, cancel context.CancelFunc, r Request) {
	defer cancel()
	err := s.opts.Do(ctx, r)
	if err == nil && ctx.Err() != nil {
		err = ctx.Err()
	}
	s.finished <- finished{req: r, err: err}
}

// drain cancels everything running and waits for it to report back.
func (s *Scheduler) drain() {
	for _, st := range s.state {
		st.pending = nil
		if st.cancel != nil {
			st.cancel()
		}
	}
	for s.running > 0 {
		f := <-s.finished
		s.running--
		if s.opts.Done != nil {
			s.opts.Done(f.req, f.err)
		}
	}
}

// ErrCancelled reports whether err is the result of a cancelled request.
func ErrCancelled(err error) bool {
	return errors.Is(err, context.Canceled)
}
