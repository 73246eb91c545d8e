package watcher

import "sync"

// fakeBackend records watches and lets a test push events as if the kernel
// had sent them. Used with hooks.newInotify.
type fakeBackend struct {
	q  *queue
	mu sync.Mutex
	w  map[string]bool // guarded by mu
}

func newFakeBackend(q *queue) *fakeBackend {
	return &fakeBackend{q: q, w: map[string]bool{}}
}

func (f *fakeBackend) name() string { return "inotify" }

func (f *fakeBackend) add(dir string) error {
	f.mu.Lock()
	f.w[dir] = true
	f.mu.Unlock()
	return nil
}

func (f *fakeBackend) remove(dir string) {
	f.mu.Lock()
	delete(f.w, dir)
	f.mu.Unlock()
}

func (f *fakeBackend) close() error { return nil }

// emit sends a path event.
func (f *fakeBackend) emit(path string, o op) {
	f.q.push(event{kind: kindPath, path: path, op: o, from: f})
}

// overflow sends a queue overflow.
func (f *fakeBackend) overflow() { f.q.push(event{kind: kindOverflow, from: f}) }

// watched reports whether dir has a watch.
func (f *fakeBackend) watched(dir string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.w[dir]
}

// Fake stands in for a Watcher in the tests of its consumers: it has the
// same methods, and Send delivers a batch. Ready is closed from the start.
type Fake struct {
	batches chan Batch
	ready   chan struct{}
	mu      sync.Mutex
	roots   [][]Root // guarded by mu: every SetRoots call
	once    sync.Once
}

// NewFake returns a Fake whose Batches channel is unbuffered, so Send
// returns only once the consumer has received the batch.
func NewFake() *Fake {
	f := &Fake{batches: make(chan Batch), ready: make(chan struct{})}
	close(f.ready)
	return f
}

func (f *Fake) Batches() <-chan Batch  { return f.batches }
func (f *Fake) Ready() <-chan struct{} { return f.ready }
func (f *Fake) Stats() Stats           { return Stats{} }

// Send delivers b to the consumer; it blocks until received.
func (f *Fake) Send(b Batch) { f.batches <- b }

// SetRoots records the roots; SetRootsCalls returns them.
func (f *Fake) SetRoots(r []Root) error {
	f.mu.Lock()
	f.roots = append(f.roots, r)
	f.mu.Unlock()
	return nil
}

// SetRootsCalls returns the roots of every SetRoots call so far.
func (f *Fake) SetRootsCalls() [][]Root {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([][]Root(nil), f.roots...)
}

// Close closes Batches. Safe to call twice.
func (f *Fake) Close() error {
	f.once.Do(func() { close(f.batches) })
	return nil
}
