package watcher

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// failsafe bounds every wait for a batch so a broken watcher fails the test
// instead of hanging it. It is not a timing assertion: under -race on a
// loaded machine a batch normally arrives within milliseconds.
const failsafe = 2 * time.Minute

// harness runs a real Watcher on a temporary directory and synchronises on
// sentinel files: write one, wait for the batch that holds it.
type harness struct {
	t       *testing.T
	w       *Watcher
	root    string
	backend string
	logs    *observer.ObservedLogs
	n       int
	last    []Batch // batches received by the last wait
}

// testOptions are the scenario defaults: short windows so tests run fast,
// a cap long enough never to split a batch that a lock holds together.
func testOptions(backend string) Options {
	o := Options{Debounce: 20 * time.Millisecond, MaxWait: 10 * time.Minute, PollInterval: 10 * time.Millisecond}
	o.Poll = "off"
	if backend == "polling" {
		o.Poll = "on"
	}
	return o
}

func tempRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return root
}

func newHarness(t *testing.T, backend, root string, opts Options) *harness {
	t.Helper()
	core, logs := observer.New(zap.DebugLevel)
	opts.Logger = zap.New(core)
	if opts.Roots == nil {
		opts.Roots = []Root{{Path: root}}
	}
	w, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, w: w, root: root, backend: backend, logs: logs}
	t.Cleanup(func() {
		if err := w.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	select {
	case <-w.Ready():
	case <-time.After(failsafe):
		t.Fatal("watcher never became ready")
	}
	return h
}

// next receives one batch.
func (h *harness) next() Batch {
	h.t.Helper()
	select {
	case b, ok := <-h.w.Batches():
		if !ok {
			h.t.Fatal("Batches closed early")
		}
		return b
	case <-time.After(failsafe):
		h.t.Fatalf("no batch within the failsafe; stats %+v", h.w.Stats())
	}
	return Batch{}
}

// waitFor receives batches until one satisfies ok and returns them all.
func (h *harness) waitFor(what string, ok func(Batch) bool) []Batch {
	h.t.Helper()
	var got []Batch
	for {
		b := h.next()
		got = append(got, b)
		if ok(b) {
			return got
		}
		_ = what
	}
}

func (h *harness) waitPath(p string) []Batch {
	h.t.Helper()
	return h.waitFor(p, func(b Batch) bool { return contains(b.Paths, p) })
}

// sync writes two sentinels one after the other and waits for each. After
// the second, every change made before the first has been delivered, for
// both backends: inotify keeps order, and a polling scan that sees the
// second sentinel started after the first was seen, so after every earlier
// write. It returns the batches received, for the caller to inspect.
func (h *harness) sync() []Batch {
	h.t.Helper()
	var all []Batch
	for i := 0; i < 2; i++ {
		h.n++
		p := filepath.Join(h.root, fmt.Sprintf("sentinel-%d", h.n))
		write(h.t, p, "s")
		all = append(all, h.waitPath(p)...)
	}
	h.last = all
	return all
}

// changed is the union of the paths of batches, without sentinels.
func changed(bs []Batch) map[string]bool {
	out := map[string]bool{}
	for _, b := range bs {
		for _, p := range b.Paths {
			if !strings.HasPrefix(filepath.Base(p), "sentinel-") {
				out[p] = true
			}
		}
	}
	return out
}

func (h *harness) rootStats(path string) RootStats {
	h.t.Helper()
	for _, r := range h.w.Stats().Roots {
		if r.Path == path {
			return r
		}
	}
	h.t.Fatalf("no root %q in stats", path)
	return RootStats{}
}

// watches is the number of directories the backend under test watches.
func (h *harness) watches() int {
	st := h.w.Stats()
	if h.backend == "polling" {
		if st.Watches != 0 {
			h.t.Errorf("polling run holds %d inotify watches", st.Watches)
		}
		return st.Polled
	}
	return st.Watches
}

// waitQuietExpired returns once the pending batch has met a quiet window:
// it was either held or flushed. It spins on the loop's state rather than
// sleeping for a guessed duration.
func (h *harness) waitQuietExpired() {
	h.t.Helper()
	deadline := time.Now().Add(failsafe)
	for time.Now().Before(deadline) {
		done := false
		h.onLoop(func(s *state) { done = s.b.held || s.out != nil })
		if done {
			return
		}
		runtime.Gosched()
	}
	h.t.Fatal("quiet window never expired")
}

// onLoop runs f on the loop goroutine and waits for it.
func (h *harness) onLoop(f func(s *state)) {
	done := make(chan struct{})
	if !h.w.call(func() { f(&h.w.st); close(done) }) {
		h.t.Fatal("loop gone")
	}
	<-done
}

func (h *harness) logCount(substr string) int {
	n := 0
	for _, e := range h.logs.All() {
		if strings.Contains(e.Message, substr) {
			n++
		}
	}
	return n
}

func contains(list []string, s string) bool {
	i := sort.SearchStrings(list, s)
	return i < len(list) && list[i] == s
}

func write(t *testing.T, p, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func mkdirs(t *testing.T, root string, rels ...string) {
	t.Helper()
	for _, r := range rels {
		if err := os.MkdirAll(filepath.Join(root, r), 0o755); err != nil {
			t.Fatal(err)
		}
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
