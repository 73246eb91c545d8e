package watcher

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
)

// failureScenarios: lost events, limits and unreadable directories, which
// root cannot produce on demand, go through the seams (hooks).
var failureScenarios = []scenario{
	{
		name: "overflow injected through the backend seam is a rescan, logged once",
		run: func(t *testing.T, h *harness) {
			var be backend
			h.onLoop(func(s *state) {
				be = s.inotify
				if h.backend == "polling" {
					be = s.poller
				}
			})
			for i := 0; i < 2; i++ {
				h.w.q.push(event{kind: kindOverflow, from: be})
				h.waitFor("rescan", func(b Batch) bool { return contains(b.Rescan, h.root) })
			}
			st := h.w.Stats()
			if st.Overflows != 2 || st.Rescans != 2 {
				t.Errorf("overflows %d rescans %d, want 2 and 2", st.Overflows, st.Rescans)
			}
			if n := h.logCount("overflowed; rescanning"); n != 1 {
				t.Errorf("overflow warned %d times, want once", n)
			}
		},
	},
	{
		name: "real overflow from a stalled reader is a rescan",
		only: "inotify",
		setup: func(t *testing.T, root string, o *Options) {
			o.hooks.stall = make(chan struct{})
		},
		run: func(t *testing.T, h *harness) {
			// Each new file queues two events (create, modify). The kernel
			// queue (fs.inotify.max_queued_events, 16384 by default) plus
			// fsnotify's buffers (~5,000 events) must overflow.
			files := overflowFiles(t)
			for i := 0; i < files; i++ {
				write(t, filepath.Join(h.root, fmt.Sprintf("f%05d", i)), "x")
			}
			mkdirs(t, h.root, "late/dir")
			close(h.w.opts.hooks.stall)
			h.waitFor("rescan", func(b Batch) bool { return contains(b.Rescan, h.root) })
			if st := h.w.Stats(); st.Overflows < 1 {
				t.Errorf("no overflow counted: %+v", st)
			}
			// The rescan re-walked the root: the directory made while events
			// were lost is watched.
			p := filepath.Join(h.root, "late/dir/f")
			write(t, p, "x")
			if !changed(h.sync())[p] {
				t.Errorf("edit in a directory created during the overflow missed")
			}
		},
	},
	{
		name: "watch limit falls back to polling with one message",
		only: "inotify",
		setup: func(t *testing.T, root string, o *Options) {
			mkdirs(t, root, "a", "b", "c")
			var once sync.Once
			o.hooks.addWatch = func(dir string) error {
				err := error(nil)
				if dir == filepath.Join(root, "b") {
					once.Do(func() { err = syscall.ENOSPC })
				}
				return err
			}
		},
		run: func(t *testing.T, h *harness) {
			st := h.w.Stats()
			if st.Roots[0].Backend != "polling" || st.Polled != 4 || st.Watches != 0 {
				t.Errorf("stats = %+v, want the root polled (4 dirs), no inotify watch", st)
			}
			n := 0
			for _, e := range h.logs.All() {
				if fix, _ := e.ContextMap()["fix"].(string); strings.Contains(fix, "fs.inotify.max_user_watches=524288") {
					n++
				}
			}
			if n != 1 {
				t.Errorf("limit message logged %d times, want 1", n)
			}
			p := filepath.Join(h.root, "b/f")
			write(t, p, "x")
			if !changed(h.sync())[p] {
				t.Errorf("edit after the fallback missed")
			}
		},
	},
	{
		name: "instance limit polls everything",
		only: "inotify",
		setup: func(t *testing.T, root string, o *Options) {
			o.hooks.newInotify = func(*queue, *hooks) (backend, error) { return nil, fmt.Errorf("start inotify: %w", syscall.EMFILE) }
		},
		run: func(t *testing.T, h *harness) {
			if st := h.w.Stats(); st.Roots[0].Backend != "polling" || st.Polled != 1 {
				t.Errorf("stats = %+v, want the root polled", st)
			}
			if h.logCount("instance limit") != 1 {
				t.Errorf("instance limit not logged once")
			}
			p := filepath.Join(h.root, "f")
			write(t, p, "x")
			if !changed(h.sync())[p] {
				t.Errorf("edit missed")
			}
		},
	},
	{
		name: "permission-denied subdirectory skipped",
		setup: func(t *testing.T, root string, o *Options) {
			mkdirs(t, root, "secret/inner", "pub")
			o.hooks.addWatch = func(dir string) error {
				if dir == filepath.Join(root, "secret") {
					return fmt.Errorf("watch %q: %w", dir, syscall.EACCES)
				}
				return nil
			}
		},
		run: func(t *testing.T, h *harness) {
			if n := h.watches(); n != 2 {
				t.Errorf("watches = %d, want 2 (root, pub)", n)
			}
			if h.logCount("cannot be read") != 1 {
				t.Errorf("skipped directory not logged")
			}
			write(t, filepath.Join(h.root, "secret/inner/x"), "x")
			p := filepath.Join(h.root, "pub/y")
			write(t, p, "y")
			got := changed(h.sync())
			if !got[p] || got[filepath.Join(h.root, "secret/inner/x")] {
				t.Errorf("changes = %v", got)
			}
		},
	},
}

// overflowFiles is how many new files overflow this machine's inotify queue
// while the reader is stalled.
func overflowFiles(t *testing.T) int {
	b, err := os.ReadFile("/proc/sys/fs/inotify/max_queued_events")
	if err != nil {
		t.Skipf("cannot read the inotify queue size: %v", err)
	}
	q, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	n := max(20000, (q+fsnotifyBuffer+4096)/2+4000)
	if n > 200000 {
		t.Skipf("fs.inotify.max_queued_events=%d: overflowing it would take %d files", q, n)
	}
	return n
}
