package watcher

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sort"
	"sync"
	"syscall"
	"time"
)

// statInfo is what polling compares between scans: size, mtime, inode and
// mode. mtime alone misses a same-second rewrite on file systems with coarse
// timestamps; inode catches editors that replace a file by rename.
type statInfo struct {
	size  int64
	mtime time.Time
	ino   uint64
	mode  fs.FileMode
}

func statOf(fi fs.FileInfo) statInfo {
	s := statInfo{size: fi.Size(), mtime: fi.ModTime(), mode: fi.Mode()}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		s.ino = st.Ino
	}
	return s
}

// pollBackend scans its directories every interval and reports differences
// as the same events inotify would send, for file systems where inotify does
// not fire (network and VM shares). Its goroutine (run) owns the snapshots;
// add and remove hand directories over through the mutex-guarded inbox.
type pollBackend struct {
	q        *queue
	interval time.Duration

	mu    sync.Mutex
	inbox map[string]map[string]statInfo // guarded by mu: dir -> baseline, nil = removed

	snaps map[string]map[string]statInfo // owned by run
	done  chan struct{}
	wg    sync.WaitGroup
	once  sync.Once
}

func newPollBackend(q *queue, interval time.Duration) *pollBackend {
	b := &pollBackend{
		q: q, interval: interval,
		inbox: map[string]map[string]statInfo{},
		snaps: map[string]map[string]statInfo{},
		done:  make(chan struct{}),
	}
	b.wg.Add(1)
	go b.run()
	return b
}

func (b *pollBackend) name() string { return "polling" }

// add takes the baseline snapshot now, so changes made after add returns
// are reported by the next scan, exactly like an inotify watch.
func (b *pollBackend) add(dir string) error {
	snap, err := snapshot(dir)
	if err != nil {
		return err
	}
	b.mu.Lock()
	b.inbox[dir] = snap
	b.mu.Unlock()
	return nil
}

func (b *pollBackend) remove(dir string) {
	b.mu.Lock()
	b.inbox[dir] = nil
	b.mu.Unlock()
}

func (b *pollBackend) close() error {
	b.once.Do(func() {
		close(b.done)
		b.wg.Wait()
	})
	return nil
}

func (b *pollBackend) run() {
	defer b.wg.Done()
	t := time.NewTicker(b.interval)
	defer t.Stop()
	for {
		select {
		case <-b.done:
			return
		case <-t.C:
			b.scan()
		}
	}
}

// takeInbox applies pending adds and removes to the snapshots.
func (b *pollBackend) takeInbox() {
	b.mu.Lock()
	in := b.inbox
	b.inbox = map[string]map[string]statInfo{}
	b.mu.Unlock()
	for dir, snap := range in {
		if snap == nil {
			delete(b.snaps, dir)
			continue
		}
		b.snaps[dir] = snap
	}
}

// scan compares every directory with its snapshot. All events of one scan
// are pushed together, so the loop sees a scan as one burst and never
// flushes a batch in the middle of it.
func (b *pollBackend) scan() {
	start := time.Now()
	b.takeInbox()
	dirs := make([]string, 0, len(b.snaps))
	for d := range b.snaps {
		dirs = append(dirs, d)
	}
	sort.Strings(dirs)
	var evs []event
	for _, d := range dirs {
		snap, err := snapshot(d)
		if err != nil {
			// The directory is gone (its parent's scan reports it too, but
			// a root has no watched parent): report it and forget it.
			delete(b.snaps, d)
			evs = append(evs, event{kind: kindPath, path: d, op: opRemove, from: b})
			continue
		}
		evs = diff(evs, d, b.snaps[d], snap, b)
		b.snaps[d] = snap
	}
	evs = append(evs, event{kind: kindScanDone, at: start, from: b})
	b.q.push(evs...)
}

// diff appends the events that turn old into cur.
func diff(evs []event, dir string, old, cur map[string]statInfo, from backend) []event {
	for name, s := range cur {
		p := dir + "/" + name
		o, ok := old[name]
		switch {
		case !ok:
			evs = append(evs, event{kind: kindPath, path: p, op: opCreate, from: from})
		case o.ino != s.ino || o.mode.Type() != s.mode.Type():
			// Replaced (rename over, or rm + mkdir): the old one went away.
			evs = append(evs, event{kind: kindPath, path: p, op: opRemove, from: from},
				event{kind: kindPath, path: p, op: opCreate, from: from})
		case o.size != s.size || !o.mtime.Equal(s.mtime):
			evs = append(evs, event{kind: kindPath, path: p, op: opWrite, from: from})
		case o.mode != s.mode:
			evs = append(evs, event{kind: kindPath, path: p, op: opChmod, from: from})
		}
	}
	for name := range old {
		if _, ok := cur[name]; !ok {
			evs = append(evs, event{kind: kindPath, path: dir + "/" + name, op: opRemove, from: from})
		}
	}
	return evs
}

// snapshot lstats every entry of dir. Entries that vanish between the
// listing and the lstat are simply absent.
func snapshot(dir string) (map[string]statInfo, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("poll %q: %w", dir, err)
	}
	snap := make(map[string]statInfo, len(entries))
	for _, e := range entries {
		fi, err := e.Info()
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("poll %q: %w", dir+"/"+e.Name(), err)
		}
		snap[e.Name()] = statOf(fi)
	}
	return snap, nil
}
