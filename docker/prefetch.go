package docker

import (
	"context"
	"io"
	"sync"
	"time"
)

// Prefetch asks the engine what a rebuild decision needs (the project's
// containers, the services' images) while a change's quiet window runs,
// so the decision does not wait for the engine between a saved file and
// its build command: on an engine whose connection went idle the two
// queries cost several milliseconds of watch mode's 10.
//
// An answer is used once, by the first query that asks for it, and only
// while it is young (prefetchFresh) and nothing rebuildd ran since it was
// taken could have changed it: every build, up, restart and sync forgets
// all answers (forget). A query nobody prefetched goes to the engine.
//
// Ownership: mu guards the answers; the queries run in goroutines the
// Prefetch starts and that end with them.
type Prefetch struct {
	Engine // the real engine: Wait, and every query not prefetched
	now    func() time.Time

	mu         sync.Mutex
	gen        uint64 // bumped by forget
	started    time.Time
	containers map[string]*answer[[]Container] // project ->
	images     map[string]*answer[*Image]      // tag ->
}

// prefetchFresh is how old an answer may be when used: a quiet window
// (200 ms by default) and some, not a held git checkout's 30 s.
const prefetchFresh = 2 * time.Second

// prefetchEvery: changes keep coming during a checkout or a build tool's
// output; one round of queries per second is enough.
const prefetchEvery = time.Second

type answer[T any] struct {
	gen  uint64
	at   time.Time
	done chan struct{} // closed when v and err are set
	v    T
	err  error
}

func NewPrefetch(e Engine, now func() time.Time) *Prefetch {
	return &Prefetch{Engine: e, now: now,
		containers: map[string]*answer[[]Container]{}, images: map[string]*answer[*Image]{}}
}

// Start queries the project's containers and the tags' images in the
// background, unless a round started less than prefetchEvery ago.
func (p *Prefetch) Start(project string, tags []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	if now.Sub(p.started) < prefetchEvery {
		return
	}
	p.started = now
	// Not the caller's context: the watcher's loop calls Start, and the
	// queries end on their own (the engine client has its timeouts).
	ctx := context.Background()
	p.containers[project] = ask(p.gen, now, func() ([]Container, error) { return p.Engine.Containers(ctx, project) })
	for _, t := range tags {
		p.images[t] = ask(p.gen, now, func() (*Image, error) { return p.Engine.Image(ctx, t) })
	}
}

func ask[T any](gen uint64, at time.Time, q func() (T, error)) *answer[T] {
	a := &answer[T]{gen: gen, at: at, done: make(chan struct{})}
	go func() {
		a.v, a.err = q()
		close(a.done)
	}()
	return a
}

// Forget drops every answer: rebuildd is about to change, or has changed,
// what they describe.
func (p *Prefetch) Forget() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.gen++
	clear(p.containers)
	clear(p.images)
	p.started = time.Time{}
}

// Containers implements Engine.
func (p *Prefetch) Containers(ctx context.Context, project string) ([]Container, error) {
	if v, ok := take(p, p.containers, project); ok {
		return v.v, v.err
	}
	return p.Engine.Containers(ctx, project)
}

// Image implements Engine.
func (p *Prefetch) Image(ctx context.Context, ref string) (*Image, error) {
	if v, ok := take(p, p.images, ref); ok {
		return v.v, v.err
	}
	return p.Engine.Image(ctx, ref)
}

// take removes key's answer and waits for it when it is usable.
func take[T any](p *Prefetch, m map[string]*answer[T], key string) (*answer[T], bool) {
	p.mu.Lock()
	a, ok := m[key]
	delete(m, key)
	gen, now := p.gen, p.now()
	p.mu.Unlock()
	if !ok || a.gen != gen || now.Sub(a.at) > prefetchFresh {
		return nil, false
	}
	<-a.done
	p.mu.Lock()
	defer p.mu.Unlock()
	if a.gen != p.gen { // rebuildd ran something while the answer was on its way
		return nil, false
	}
	return a, true
}

// Forgetful wraps r so that the prefetch forgets its answers before and
// after every build and up: what rebuildd runs may change them.
func (p *Prefetch) Forgetful(r Runner) Runner { return forgetful{Runner: r, p: p} }

// forgetful is a Runner that makes the Prefetch forget its answers before
// and after every build and up.
type forgetful struct {
	Runner
	p *Prefetch
}

func (f forgetful) Build(ctx context.Context, service string, out io.Writer) error {
	f.p.Forget()
	defer f.p.Forget()
	return f.Runner.Build(ctx, service, out)
}

func (f forgetful) Up(ctx context.Context, services []string, renewAnon bool, out io.Writer) error {
	f.p.Forget()
	defer f.p.Forget()
	return f.Runner.Up(ctx, services, renewAnon, out)
}

// Args is the wrapped runner's command line, when it has one.
func (f forgetful) Args(sub ...string) []string {
	if c, ok := f.Runner.(CommandLine); ok {
		return c.Args(sub...)
	}
	return nil
}
