package watcher

import (
	"sort"
	"syscall"
	"time"

	"go.uber.org/zap"
)

// lockPoll is how often a batch held by a git index.lock looks again. The
// lock often lives outside every watched directory (the repository root
// above a context), so its removal may bring no event; 50 ms adds at most
// that much to a checkout that takes far longer.
const lockPoll = 50 * time.Millisecond

// lockHoldMax bounds how long an index.lock holds a batch past MaxWait: a
// checkout of thousands of files on a slow disk outlasts MaxWait (a build
// would start half-way and a second one follow), while a lock left behind
// by a crashed git must not hold changes back for long.
const lockHoldMax = 30 * time.Second

// batcher collects changes and decides when they form a batch: after a
// quiet window without changes, or when the oldest change reaches the cap.
// Owned by the loop goroutine; its timers are read in the loop's select.
type batcher struct {
	quiet, maxWait time.Duration

	paths  map[string]struct{}
	rescan map[string]struct{}
	dirty  bool // something was added since the quiet window was armed

	quietT, capT   *time.Timer
	quietOn, capOn bool

	held       bool      // an index.lock held the batch at the last quiet expiry
	began      time.Time // the batch's first change
	capTail    bool      // the cap gave in-flight events one quiet window after a lock
	needScan   bool      // polling: wait for a scan started after releasedAt
	releasedAt time.Time // when the lock was seen gone
}

func (b *batcher) pending() bool { return len(b.paths) > 0 || len(b.rescan) > 0 }

func (b *batcher) add(p string) {
	if b.paths == nil {
		b.paths = map[string]struct{}{}
	}
	b.startCap()
	b.paths[p] = struct{}{}
	b.dirty = true
}

func (b *batcher) addRescan(root string) {
	if b.rescan == nil {
		b.rescan = map[string]struct{}{}
	}
	b.startCap()
	b.rescan[root] = struct{}{}
	b.dirty = true
}

// startCap arms the cap with the first change of a batch.
func (b *batcher) startCap() {
	if b.pending() || b.capOn {
		return
	}
	b.began = time.Now()
	b.armCap(b.maxWait)
}

func (b *batcher) armCap(d time.Duration) {
	b.capOn = true
	if b.capT == nil {
		b.capT = time.NewTimer(d)
		return
	}
	b.capT.Reset(d)
}

// settle restarts the quiet window after a drain that added changes.
func (b *batcher) settle() {
	if b.dirty {
		b.dirty = false
		b.armQuiet(b.quiet)
	}
}

func (b *batcher) armQuiet(d time.Duration) {
	b.quietOn = true
	if b.quietT == nil {
		b.quietT = time.NewTimer(d)
		return
	}
	b.quietT.Reset(d)
}

func (b *batcher) quietC() <-chan time.Time {
	if !b.quietOn {
		return nil
	}
	return b.quietT.C
}

func (b *batcher) capC() <-chan time.Time {
	if !b.capOn {
		return nil
	}
	return b.capT.C
}

// scanDone notes a finished polling scan; one that started after the lock
// went away has seen every file the checkout wrote.
func (b *batcher) scanDone(at time.Time) {
	if b.needScan && !at.Before(b.releasedAt) {
		b.needScan = false
		b.armQuiet(b.quiet)
	}
}

// take empties the batcher into a Batch and disarms the timers.
func (b *batcher) take() Batch {
	var out Batch
	for p := range b.paths {
		out.Paths = append(out.Paths, p)
	}
	for r := range b.rescan {
		out.Rescan = append(out.Rescan, r)
	}
	sort.Strings(out.Paths)
	sort.Strings(out.Rescan)
	b.paths, b.rescan = nil, nil
	b.held, b.needScan, b.capTail = false, false, false
	b.stop()
	return out
}

func (b *batcher) stop() {
	if b.quietT != nil {
		b.quietT.Stop()
	}
	if b.capT != nil {
		b.capT.Stop()
	}
	b.quietOn, b.capOn = false, false
}

// onQuiet runs when the quiet window expires. While a git index.lock
// exists the batch is held (the cap still applies), so a checkout is one
// batch. Once the lock is gone, one more quiet window lets events still in
// flight arrive, and polled roots wait for a scan that started after the
// lock went.
func (s *state) onQuiet() {
	b := &s.b
	b.quietOn = false
	if !b.pending() {
		return
	}
	if s.lockHeld() {
		b.held = true
		b.armQuiet(max(b.quiet, lockPoll))
		return
	}
	if b.held {
		b.held = false
		if s.poller != nil {
			b.needScan, b.releasedAt = true, time.Now()
		}
		b.armQuiet(b.quiet)
		return
	}
	if b.needScan {
		return // scanDone re-arms the window
	}
	s.flush()
}

// onCap runs when the batch reaches MaxWait: it is flushed, unless a git
// index.lock still exists (then the cap looks again every lockPoll, up to
// lockHoldMax from the batch's first change), or the lock has just gone
// (then events still in flight get one quiet window).
func (s *state) onCap() {
	b := &s.b
	b.capOn = false
	locked := s.lockHeld()
	switch {
	case locked && time.Since(b.began) < lockHoldMax:
		b.held = true
		b.armCap(lockPoll)
	case locked:
		s.staleLock()
		s.flush()
	case b.held && !b.capTail:
		// The lock has just gone: as onQuiet does, give events in flight
		// one quiet window (polled roots: a scan that started after the
		// lock went), with one more max_wait as the bound.
		b.held, b.capTail = false, true
		if s.poller != nil {
			b.needScan, b.releasedAt = true, time.Now()
		} else {
			b.armQuiet(b.quiet)
		}
		b.armCap(b.maxWait)
	default:
		s.flush()
	}
}

// staleLock notes the lock files that held a batch for lockHoldMax: most
// likely left behind by a git that crashed. They are said once and then
// no longer hold batches until they change (git replaces the file).
func (s *state) staleLock() {
	for _, f := range s.locks {
		var st syscall.Stat_t
		if syscall.Lstat(f, &st) != nil {
			continue
		}
		id := lockID{ino: st.Ino, mtime: st.Mtim.Nano()}
		if s.stale == nil {
			s.stale = map[string]lockID{}
		}
		if s.stale[f] != id {
			s.stale[f] = id
			s.log.Warn("a git index.lock has held changes back for 30s; it no longer does until git writes it again",
				zap.String("lock", f), zap.String("fix", "if no git command is running, remove it: rm "+f))
		}
	}
}

// lockID tells one lock file from the next git writes at the same path.
type lockID struct {
	ino   uint64
	mtime int64
}

func (s *state) lockHeld() bool {
	for _, f := range s.locks {
		var st syscall.Stat_t
		if syscall.Lstat(f, &st) != nil {
			continue
		}
		if id, ok := s.stale[f]; ok && id == (lockID{ino: st.Ino, mtime: st.Mtim.Nano()}) {
			continue // said once in staleLock
		}
		return true
	}
	return false
}

// flush moves the pending changes to the outgoing batch, merging with one
// the consumer has not taken yet.
func (s *state) flush() {
	s.flushTouched()
	if !s.b.pending() {
		s.b.stop()
		return
	}
	nb := s.b.take()
	s.flushed++
	if s.out == nil {
		s.out = &nb
		return
	}
	s.out.Paths = mergeSorted(s.out.Paths, nb.Paths)
	s.out.Rescan = mergeSorted(s.out.Rescan, nb.Rescan)
}

// mergeSorted unions two sorted, unique slices.
func mergeSorted(a, b []string) []string {
	out := make([]string, 0, len(a)+len(b))
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case j == len(b) || (i < len(a) && a[i] < b[j]):
			out = append(out, a[i])
			i++
		case i == len(a) || b[j] < a[i]:
			out = append(out, b[j])
			j++
		default:
			out = append(out, a[i])
			i, j = i+1, j+1
		}
	}
	return out
}
