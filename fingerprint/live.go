package fingerprint

import (
	"bytes"
	"context"
	"errors"
	"maps"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/rebuildd/rebuildd/dockerfile"
	"github.com/rebuildd/rebuildd/ignore"
)

// Live keeps the fingerprint of each watched service current from
// the watcher's batches, so a decision re-reads the files that changed
// instead of walking the whole context: at 50,000 files the walk alone is
// far beyond watch mode's 10 ms budget between a save and its build.
//
// A service's print is taken from disk in full the first time it is asked
// for, whenever its Source changes (a reload: new model, args, target),
// and after lost events (Lost). In between, every change inside its
// context reaches Dirty: the watcher reports every path it sees change,
// and a directory that appeared or vanished stands for everything below
// it. Directories the watcher does not watch (.dockerignore excludes them,
// or rebuild.yaml's ignore patterns do) hold no file the print counts.
//
// Ownership: mu guards the tables and each entry's pending changes; an
// entry's own lock serialises bringing it up to date, so the batch
// goroutine (Dirty, Lost) never waits behind a walk.
type Live struct {
	idx    *Index
	copies sync.WaitGroup // background copies (lend); tests and benchmarks wait for them
	// copyDelay is how long after a print is handed out its background
	// copy starts (lend); 0 in tests.
	copyDelay time.Duration
	mu        sync.Mutex
	by        map[string]*livePrint // service -> its print
	counts    map[string]*counts    // service -> changes seen so far (settle.go)
}

type livePrint struct {
	src Source

	work sync.Mutex // held while p is brought up to date
	p    *Print     // nil until the first full walk, and after a failure or Lost
	lent bool       // p was handed out: copy its files before changing them

	// Guarded by Live.mu:
	dirty map[string]bool // absolute paths changed since p was last brought up to date
	full  bool            // events were lost: walk again
}

// LiveCopyDelay: the decision, the engine answers and the start of the
// build command take under 10 ms; a quiet window (200 ms by default) is
// the soonest the next update can come.
const LiveCopyDelay = 50 * time.Millisecond

// NewLive returns prints kept current from the watcher's batches over idx,
// whose background copies start LiveCopyDelay after a print is handed out.
func NewLive(idx *Index) *Live {
	l := newLivePrints(idx)
	l.copyDelay = LiveCopyDelay
	return l
}

// newLivePrints is NewLive with copies started at once (tests).
func newLivePrints(idx *Index) *Live {
	return &Live{idx: idx, by: map[string]*livePrint{}, counts: map[string]*counts{}}
}

// Dirty records a batch's changed paths for every service whose context
// holds them. They were counted as changes (Touch) when the watcher first
// saw them, before the batch was formed.
func (l *Live) Dirty(paths []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, e := range l.by {
		for _, p := range paths {
			if Within(e.src.Context, p) {
				e.dirty[p] = true
			}
		}
	}
}

// Lost makes every service whose context overlaps a root walk again.
func (l *Live) Lost(roots []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, e := range l.by {
		for _, r := range roots {
			if Within(r, e.src.Context) || Within(e.src.Context, r) {
				e.full = true
				l.changes(e.src.Service).any++ // anything may have changed unseen
			}
		}
	}
}

// Print is the current fingerprint of src. The returned print is never
// changed afterwards; callers may keep it (a record stores its files).
func (l *Live) Print(ctx context.Context, src Source) (*Print, error) {
	l.mu.Lock()
	e := l.by[src.Service]
	if e == nil || !sameSource(e.src, src) {
		e = &livePrint{src: src, dirty: map[string]bool{}}
		l.by[src.Service] = e
	}
	l.mu.Unlock()

	e.work.Lock()
	defer e.work.Unlock()
	l.mu.Lock()
	dirty, full := e.dirty, e.full || e.dirty[src.Context] // the context itself came or went
	e.dirty, e.full = map[string]bool{}, false
	at := l.take(src.Service)
	l.mu.Unlock()

	if e.p == nil || full {
		// Changes arriving during the walk are marked again and applied
		// next time; applying a change twice is harmless.
		e.p = nil
		p, err := Fingerprint(ctx, src, l.idx)
		if err != nil {
			return nil, err
		}
		p.taken = at
		return e.lend(p, &l.copies, l.copyDelay), nil
	}
	if len(dirty) == 0 {
		if !e.lent {
			p := *e.p // a private copy nobody holds: share its files, not its mark
			p.taken = at
			return e.lend(&p, &l.copies, l.copyDelay), nil
		}
		return e.p, nil
	}
	p := e.p
	if e.lent { // the copy was not ready yet: make it now
		p = p.clone()
	}
	e.p = nil // a failure half-way leaves no half-updated print behind
	dirs := realDirs{}
	for abs := range dirty {
		if err := p.update(ctx, src, l.idx, abs, dirs); err != nil {
			return nil, err
		}
	}
	if err := p.hashParts(src, l.idx); err != nil {
		return nil, err
	}
	p.seal()
	p.taken = at
	return e.lend(p, &l.copies, l.copyDelay), nil
}

// lend hands p out and copies its files in the background for the next
// update, which must not change what a caller holds: the copy (10-16 ms
// of CPU at 50,000 files, and the garbage collection its allocation
// brings) is then made between two saves instead of between a save and
// its build. It starts copyDelay later, when the build command the print
// was taken for has started: on two cores it would otherwise compete with
// it. An update that comes sooner makes the copy itself (see Print).
// Called with e.work held.
func (e *livePrint) lend(p *Print, copies *sync.WaitGroup, delay time.Duration) *Print {
	e.p, e.lent = p, true
	copies.Add(1)
	time.AfterFunc(delay, func() {
		defer copies.Done()
		e.work.Lock()
		stillLent := e.p == p && e.lent
		e.work.Unlock()
		if !stillLent { // an update came first and copied
			return
		}
		cp := p.clone() // p is read-only from here on: reads need no lock
		e.work.Lock()
		defer e.work.Unlock()
		if e.p == p {
			e.p, e.lent = cp, false
		}
	})
	return p
}

// sameSource: a print taken for one source counts for another only when
// everything the walk used is the same (a reload makes new models, so any
// reload walks again).
func sameSource(a, b Source) bool {
	return a.Context == b.Context && a.Dockerfile == b.Dockerfile && a.DockerfileInline == b.DockerfileInline &&
		a.IgnoreFile == b.IgnoreFile && a.Target == b.Target && maps.Equal(a.Args, b.Args) &&
		a.Compose == b.Compose && a.Classify == b.Classify && a.Prune == b.Prune && bytes.Equal(a.Key, b.Key)
}

// clone copies the print's files so the copy can change alone.
func (p *Print) clone() *Print {
	cp := *p
	cp.Files = maps.Clone(p.Files)
	return &cp
}

// update brings one changed path of the context into the print: a file is
// re-classified and re-summed (through the index), a directory that
// appeared is walked, a path that vanished takes everything below it along.
func (p *Print) update(ctx context.Context, src Source, idx *Index, abs string, dirs realDirs) error {
	rel, err := filepath.Rel(src.Context, abs)
	if err != nil || rel == "." {
		return nil // the context itself: its entries are reported one by one
	}
	rel = filepath.ToSlash(rel)
	if ignore.IsTempFile(rel) {
		return nil // never in a print (see walker.dir)
	}
	var st unix.Stat_t
	err = unix.Lstat(abs, &st)
	if err == nil && !dirs.under(src.Context, rel) {
		err = unix.ENOENT // reached through a symlink that replaced a directory: not in the context
	}
	switch {
	case errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENOTDIR) || errors.Is(err, unix.EACCES):
		p.removeTree(rel) // gone, or unreadable: the walk skips it as well (walkError)
		return nil
	case err != nil:
		return walkError(abs, err)
	case st.Mode&unix.S_IFMT == unix.S_IFDIR:
		return p.walkDir(ctx, src, idx, rel, abs)
	}
	p.removeTree(rel) // it may have been a directory
	res := src.Classify.Classify(abs)
	if res.Impact != dockerfile.ImpactDeps && res.Impact != dockerfile.ImpactSource {
		return nil
	}
	w := &walker{ctx: ctx, src: src, idx: idx}
	s, err := w.sum(unix.AT_FDCWD, abs, abs)
	if err != nil || s.Sum == "" {
		return err
	}
	s.Impact, s.Why, s.Live = res.Impact, why(res), liveResult(res)
	p.put(rel, s)
	return nil
}

// walkDir replaces what the print holds below rel with a walk of the
// directory, which the ignore file may exclude as a whole.
func (p *Print) walkDir(ctx context.Context, src Source, idx *Index, rel, abs string) error {
	p.removeTree(rel)
	if src.Prune != nil && src.Prune.SkipDir(rel) {
		return nil
	}
	sub := &Print{Files: map[string]FileSum{}}
	w := &walker{ctx: ctx, src: src, idx: idx, sem: make(chan struct{}, walkWorkers-1), p: sub}
	w.dir(rel, abs)
	w.wg.Wait()
	if err := errors.Join(w.errs...); err != nil {
		return err
	}
	for r, f := range sub.Files {
		p.put(r, f)
	}
	return ctx.Err()
}

// removeTree drops rel and everything below it. A path the print holds as
// a file has nothing below it; any other may have been a directory, and
// only then are the print's paths scanned (about 1 ms at 50,000 files).
func (p *Print) removeTree(rel string) {
	if _, ok := p.Files[rel]; ok {
		p.remove(rel)
		return
	}
	prefix := rel + "/"
	for r := range p.Files {
		if strings.HasPrefix(r, prefix) {
			p.remove(r)
		}
	}
}

// realDirs remembers, for one update, which context directories are real
// directories: Docker's context holds a path only through them, while
// lstat follows a symlink that replaced one of its parents (rm -r src;
// ln -s ../other src) and would bring the link's target into the print.
type realDirs map[string]bool

func (d realDirs) under(ctxDir, rel string) bool {
	for i := 0; i < len(rel); i++ {
		if rel[i] != '/' {
			continue
		}
		dir := rel[:i]
		real, ok := d[dir]
		if !ok {
			var st unix.Stat_t
			real = unix.Lstat(filepath.Join(ctxDir, dir), &st) == nil && st.Mode&unix.S_IFMT == unix.S_IFDIR
			d[dir] = real
		}
		if !real {
			return false
		}
	}
	return true
}
