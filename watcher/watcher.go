package watcher

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"go.uber.org/zap"
)

// Defaults. The quiet window is Tilt's: long enough for an editor's
// write-rename-delete dance and a `git checkout` to land in one batch, short
// enough to feel immediate. The cap keeps a steady stream of writes (a
// generator, a log file in the context) from holding a batch forever, which
// compose watch does. Polling once a second is what Docker Desktop shares
// tolerate without measurable load.
const (
	DefaultDebounce     = 200 * time.Millisecond
	DefaultMaxWait      = 2 * time.Second
	DefaultPollInterval = time.Second
)

// ErrClosed is returned by SetRoots after Close.
var ErrClosed = errors.New("watcher closed")

// Root is one directory to watch.
type Root struct {
	// Path is an absolute directory: a build context, or the directory of a
	// single watched file.
	Path string
	// Files, when non-empty, makes this a single-file root: only these base
	// names in Path matter (compose.yaml, .env, rebuild.yaml, a Dockerfile
	// outside its context) and Path is not walked. Editors replace files by
	// rename, which is why a file is watched through its directory.
	Files []string
	// SkipDir prunes: rel is the root-relative, slash-separated path of a
	// directory; true means neither it nor anything below it is watched.
	// nil never skips. Roots given twice with the same Path skip a
	// directory only when all of them skip it.
	SkipDir func(rel string) bool
}

// Options configure a Watcher. The zero value of every field is usable.
type Options struct {
	Roots []Root
	// Debounce is the quiet window: a batch is flushed when no change
	// arrived for this long. 0 means DefaultDebounce; negative means no
	// window (flush as soon as the pending events are handled).
	Debounce time.Duration
	// MaxWait caps a batch's age: it is flushed even while changes keep
	// coming. 0 means DefaultMaxWait.
	MaxWait time.Duration
	// Poll is "off" (inotify only), "on" (polling only) or "auto"/"":
	// polling for roots on file systems where inotify does not fire.
	Poll string
	// PollInterval is the time between two polling scans; 0 means
	// DefaultPollInterval.
	PollInterval time.Duration
	// Logger receives warnings (limits, overflows) and, with DebugEvents or
	// REBUILDD_DEBUG_EVENTS=1, every raw event at debug level. nil: no logs.
	Logger      *zap.Logger
	DebugEvents bool
	// Touched, when set, gets the paths of each handful of events as they
	// arrive, before the quiet window makes them a batch (editor temp
	// files excluded, as from batches); every path of a batch has been
	// touched before the batch is sent. It runs on the loop goroutine and
	// must be quick, and must not keep the slice: watch mode counts
	// changes made while a build runs.
	Touched func(paths []string)

	hooks hooks // test seams, see backend.go
}

// Batch is one debounced set of changes.
type Batch struct {
	// Paths are absolute, unique and sorted. A path may name a directory
	// that appeared or disappeared: it stands for everything below it.
	// Editor temp files never appear.
	Paths []string
	// Rescan lists roots whose events were lost (inotify overflow, a switch
	// to polling): re-derive their state from disk.
	Rescan []string
}

// Stats describe the watch set, for tests, benchmarks and explain.
type Stats struct {
	Roots     []RootStats // sorted by Path
	Watches   int         // directories watched through inotify: one kernel watch each
	Polled    int         // directories scanned by the polling backend
	Rescans   int         // rescans reported (overflows, fallbacks)
	Overflows int         // inotify queue overflows seen
	Batches   int         // batches flushed
}

// RootStats describe one root.
type RootStats struct {
	Path    string
	Files   []string // single-file root names, sorted
	Backend string   // "inotify" or "polling"
	Dirs    int      // directories of this root being watched
	Missing bool     // the root does not exist; its nearest ancestor is watched
}

// Watcher turns file system activity under its roots into Batches.
type Watcher struct {
	log     *zap.Logger
	debug   bool
	opts    Options
	q       *queue
	batches chan Batch    // closed by the loop when it exits
	ready   chan struct{} // closed by the loop after the initial walk
	reqs    chan func()   // run by the loop: SetRoots, Stats
	done    chan struct{} // closed by Close
	exited  chan struct{} // closed by the loop when it has released everything
	once    sync.Once
	final   Stats // written by the loop before exited is closed
	errExit error // idem

	st state // owned by the loop goroutine
}

// New validates the options and starts the loop goroutine, which walks the
// roots and then closes Ready. Errors name the offending root.
func New(opts Options) (*Watcher, error) {
	roots, err := mergeRoots(opts.Roots)
	if err != nil {
		return nil, err
	}
	opts = withDefaults(opts)
	if opts.Poll != "off" && opts.Poll != "on" && opts.Poll != "auto" {
		return nil, fmt.Errorf("watch: poll must be off, on or auto, not %q", opts.Poll)
	}
	w := &Watcher{
		log:     opts.Logger,
		debug:   opts.DebugEvents || os.Getenv("REBUILDD_DEBUG_EVENTS") == "1",
		opts:    opts,
		q:       newQueue(),
		batches: make(chan Batch),
		ready:   make(chan struct{}),
		reqs:    make(chan func()),
		done:    make(chan struct{}),
		exited:  make(chan struct{}),
	}
	w.st.init(w, roots)
	go w.loop()
	return w, nil
}

func withDefaults(o Options) Options {
	if o.Debounce == 0 {
		o.Debounce = DefaultDebounce
	}
	if o.Debounce < 0 {
		o.Debounce = 0
	}
	if o.MaxWait <= 0 {
		o.MaxWait = DefaultMaxWait
	}
	if o.Poll == "" {
		o.Poll = "auto"
	}
	if o.PollInterval <= 0 {
		o.PollInterval = DefaultPollInterval
	}
	if o.Logger == nil {
		o.Logger = zap.NewNop()
	}
	if o.hooks.newInotify == nil {
		o.hooks.newInotify = newInotifyBackend
	}
	return o
}

// mergeRoots checks and de-duplicates roots: one recursive root per path
// (skip only when every duplicate skips), one file root per directory.
func mergeRoots(in []Root) ([]*rootState, error) {
	byKey := map[string]*rootState{}
	var out []*rootState
	for _, r := range in {
		if !filepath.IsAbs(r.Path) {
			return nil, fmt.Errorf("watch %q: root must be an absolute path", r.Path)
		}
		p := filepath.Clean(r.Path)
		key := "d" + p
		if len(r.Files) > 0 {
			key = "f" + p
		}
		rs := byKey[key]
		if rs == nil {
			rs = &rootState{path: p}
			if len(r.Files) > 0 {
				rs.files = map[string]bool{}
			}
			byKey[key] = rs
			out = append(out, rs)
		}
		rs.merge(r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].path < out[j].path })
	return out, nil
}

// Batches delivers debounced batches. The loop never blocks on it: while
// the consumer is busy, new changes are merged into the batch waiting to be
// received. Closed by Close.
func (w *Watcher) Batches() <-chan Batch { return w.batches }

// Ready is closed once the initial walk of every root is done (and by
// Close).
func (w *Watcher) Ready() <-chan struct{} { return w.ready }

// SetRoots replaces the roots (compose file or Dockerfile edits). Roots
// already watched keep their watches; new ones are walked without reporting
// their files; dropped ones lose their watches.
func (w *Watcher) SetRoots(roots []Root) error {
	rs, err := mergeRoots(roots)
	if err != nil {
		return err
	}
	errc := make(chan error, 1)
	if !w.call(func() { errc <- w.st.setRoots(rs) }) {
		return ErrClosed
	}
	return <-errc
}

// Stats returns the current watch set. After Close it returns the last one.
func (w *Watcher) Stats() Stats {
	c := make(chan Stats, 1)
	if !w.call(func() { c <- w.st.stats() }) {
		return w.final
	}
	return <-c
}

// call runs f on the loop goroutine; false when the loop has exited.
func (w *Watcher) call(f func()) bool {
	select {
	case w.reqs <- f:
		return true
	case <-w.exited:
		return false
	}
}

// Close stops the loop and the backends and closes Batches. It waits for
// every goroutine to end. Safe to call twice; the second call returns nil.
func (w *Watcher) Close() error {
	err := ErrClosed
	w.once.Do(func() {
		close(w.done)
		<-w.exited
		err = w.errExit
	})
	if errors.Is(err, ErrClosed) {
		return nil
	}
	return err
}

// loop is the only goroutine that touches w.st.
func (w *Watcher) loop() {
	defer w.exit()
	w.st.start()
	close(w.ready)
	for {
		var out chan<- Batch
		var ob Batch
		if w.st.out != nil {
			out, ob = w.batches, *w.st.out
		}
		select {
		case <-w.done:
			return
		case <-w.q.ready():
			w.st.handleAll(w.q.drain())
		case <-w.st.b.quietC():
			w.st.onQuiet()
		case <-w.st.b.capC():
			w.st.onCap()
		case out <- ob:
			w.st.out = nil
		case f := <-w.reqs:
			f()
		}
	}
}

// exit releases everything the loop owns, then publishes the final stats.
func (w *Watcher) exit() {
	select {
	case <-w.ready:
	default:
		close(w.ready)
	}
	w.final = w.st.stats()
	w.errExit = w.st.close()
	close(w.batches)
	close(w.exited)
}
