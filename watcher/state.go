package watcher

import (
	"errors"
	"os"
	"path/filepath"
	"sort"

	"github.com/rebuildd/rebuildd/ignore"
	"go.uber.org/zap"
)

// state is everything the loop goroutine owns. No other goroutine reads or
// writes it.
type state struct {
	w       *Watcher
	log     *zap.Logger
	roots   []*rootState
	dirs    map[string]*dirState
	b       batcher
	out     *Batch // flushed, waiting for the consumer; later flushes merge in
	locks   []string
	mounts  mountTable
	inotify backend // nil until first needed
	noInot  bool    // inotify could not start: everything polls
	poller  backend // nil until first needed

	touched []string          // reported since the last Touched call
	stale   map[string]lockID // index.lock files taken for left behind (staleLock)

	warned    map[errClass]bool
	overflows int
	rescans   int
	flushed   int
}

func (s *state) init(w *Watcher, roots []*rootState) {
	s.w, s.log, s.roots = w, w.log, roots
	s.dirs = map[string]*dirState{}
	s.warned = map[errClass]bool{}
	s.b = batcher{quiet: w.opts.Debounce, maxWait: w.opts.MaxWait}
}

// start does the initial walk. Files that exist already are not reported:
// the consumer derives the initial state from disk.
func (s *state) start() {
	s.prepare(s.roots)
	for _, r := range s.roots {
		s.attach(r, false)
	}
	st := s.stats()
	// Debug: the daemon's "ready" line carries the same counts for people
	// and harnesses.
	s.log.Debug("watching", zap.Int("roots", len(s.roots)), zap.Int("inotify_watches", st.Watches),
		zap.Int("polled_dirs", st.Polled))
}

// prepare decides each root's backend and the lock files to check.
func (s *state) prepare(roots []*rootState) {
	if s.w.opts.Poll == "auto" && s.mounts == nil {
		s.mounts = readMounts()
	}
	for _, r := range roots {
		switch s.w.opts.Poll {
		case "on":
			r.poll = true
		case "auto":
			if typ := s.mounts.fsType(r.path); needsPolling(typ) {
				r.poll = true
				s.log.Info("polling: inotify does not see changes on this file system",
					zap.String("root", r.path), zap.String("fs", typ))
			}
		}
		if s.noInot {
			r.poll = true
		}
	}
	s.locks = lockFiles(roots)
}

// setRoots swaps the root set: every old root is forgotten, the new ones are
// attached (reusing watches that already exist), then watches nobody needs
// any more are removed.
func (s *state) setRoots(roots []*rootState) error {
	for _, r := range s.roots {
		for _, d := range s.dirs {
			d.detach(r)
		}
	}
	s.roots = roots
	s.prepare(roots)
	for _, r := range roots {
		s.attach(r, false)
	}
	s.sweep()
	return nil
}

// sweep removes the watches of directories no root needs.
func (s *state) sweep() {
	for p, d := range s.dirs {
		if d.empty() {
			s.forgetDir(p, d)
		}
	}
}

// forgetDir removes one directory's watch and bookkeeping.
func (s *state) forgetDir(p string, d *dirState) {
	d.be.remove(p)
	delete(s.dirs, p)
	if parent := s.dirs[filepath.Dir(p)]; parent != nil && p != "/" {
		delete(parent.kids, filepath.Base(p))
	}
}

// backendFor returns the backend a root's directories go to, starting it on
// first use. When inotify cannot start (instance limit), everything polls.
func (s *state) backendFor(r *rootState) backend {
	if !r.poll && !s.noInot && s.inotify == nil {
		b, err := s.w.opts.hooks.newInotify(s.w.q, &s.w.opts.hooks)
		if err != nil {
			s.noInot = true
			s.warnLimit(classify(err), err)
			for _, x := range s.roots {
				x.poll = true
			}
		} else {
			s.inotify = b
		}
	}
	if r.poll || s.noInot {
		r.poll = true
		if s.poller == nil {
			s.poller = newPollBackend(s.w.q, s.w.opts.PollInterval)
		}
		return s.poller
	}
	return s.inotify
}

// warnLimit logs the limit message once per kind of limit.
func (s *state) warnLimit(c errClass, err error) {
	if s.warned[c] {
		return
	}
	s.warned[c] = true
	msg, fix := limitFix(c)
	if c != errWatchLimit && c != errInstLimit {
		msg, fix = "inotify unavailable; polling instead", "check the error and restart rebuildd"
	}
	s.log.Warn(msg, zap.Error(err), zap.String("fix", fix))
}

// handleAll processes one drain of the queue, then re-arms the quiet
// window once (not per event: a checkout brings thousands).
func (s *state) handleAll(evs []event) {
	for _, ev := range evs {
		if s.w.debug {
			s.log.Debug("event", zap.String("path", ev.path), zap.Stringer("op", ev.op),
				zap.Uint8("kind", uint8(ev.kind)), zap.Error(ev.err))
		}
		switch ev.kind {
		case kindPath:
			s.handlePath(ev)
		case kindOverflow:
			s.overflow(ev.from)
		case kindScanDone:
			s.b.scanDone(ev.at)
		case kindError:
			s.log.Warn("file watching error; changes may be missed until restart", zap.Error(ev.err))
		}
	}
	s.flushTouched()
	s.b.settle()
}

// flushTouched hands the paths reported since the last call to
// Options.Touched. Called after each round of events and before a batch
// is flushed, so every path of a batch was touched before the batch goes
// out (reports made outside a round, by SetRoots, included).
func (s *state) flushTouched() {
	if len(s.touched) == 0 {
		return
	}
	s.w.opts.Touched(s.touched) // touched is only filled when Touched is set
	s.touched = s.touched[:0]
}

// report adds a changed path to the batch; editor temp files never count.
func (s *state) report(p string) {
	if ignore.IsTempFile(p) {
		return
	}
	s.b.add(p)
	if s.w.opts.Touched != nil {
		s.touched = append(s.touched, p)
	}
}

// overflow: the kernel dropped events for every directory of that inotify
// instance. The consumer rescans the roots; we re-walk them to pick up
// directories created while events were lost.
func (s *state) overflow(from backend) {
	s.overflows++
	if s.overflows == 1 {
		s.log.Warn("inotify event queue overflowed; rescanning the affected roots",
			zap.String("fix", "if this repeats, raise the queue with `sudo sysctl fs.inotify.max_queued_events=65536`"))
	} else {
		s.log.Debug("inotify event queue overflowed again; rescanning")
	}
	fromPoll := from != nil && from.name() == "polling"
	for _, r := range s.roots {
		if r.poll == fromPoll {
			s.rescan(r)
		}
	}
}

// rescan reports r for a rescan and brings its watches in line with disk.
func (s *state) rescan(r *rootState) {
	s.rescans++
	s.b.addRescan(r.path)
	if r.missing {
		s.unwait(r)
		s.attach(r, false)
		return
	}
	if r.recursive() {
		s.walk(r, r.path, false, true)
	}
	for p, d := range s.dirs {
		if d.has(r) {
			if _, err := os.Lstat(p); errors.Is(err, os.ErrNotExist) {
				s.dropTree(p)
			}
		}
	}
}

func (s *state) stats() Stats {
	st := Stats{Overflows: s.overflows, Rescans: s.rescans, Batches: s.flushed}
	for _, d := range s.dirs {
		if d.be.name() == "polling" {
			st.Polled++
		} else {
			st.Watches++
		}
	}
	for _, r := range s.roots {
		rs := RootStats{Path: r.path, Backend: "inotify", Missing: r.missing}
		if !r.recursive() {
			rs.Files = r.fileNames()
		}
		if r.poll {
			rs.Backend = "polling"
		}
		for _, d := range s.dirs {
			if d.has(r) {
				rs.Dirs++
			}
		}
		st.Roots = append(st.Roots, rs)
	}
	sort.Slice(st.Roots, func(i, j int) bool { return st.Roots[i].Path < st.Roots[j].Path })
	return st
}

// close stops the backends; the loop has already stopped reading them.
func (s *state) close() error {
	var errs []error
	for _, b := range []backend{s.inotify, s.poller} {
		if b != nil {
			errs = append(errs, b.close())
		}
	}
	s.b.stop()
	return errors.Join(errs...)
}
