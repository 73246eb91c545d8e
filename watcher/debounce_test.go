package watcher

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"testing/synctest"
	"time"
)

// fakeWatcher starts a Watcher on the fake backend inside a synctest bubble,
// where time only moves when every goroutine is blocked: the debounce
// arithmetic below is exact, not measured.
func fakeWatcher(t *testing.T, root string, o Options) (*Watcher, *fakeBackend) {
	t.Helper()
	var fb *fakeBackend
	o.Roots = []Root{{Path: root}}
	o.Poll = "off"
	o.hooks.newInotify = func(q *queue, _ *hooks) (backend, error) {
		fb = newFakeBackend(q)
		return fb, nil
	}
	w, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	<-w.Ready()
	return w, fb
}

// noBatch fails if a batch is ready once every goroutine has settled.
func noBatch(t *testing.T, w *Watcher) {
	t.Helper()
	synctest.Wait()
	select {
	case b := <-w.Batches():
		t.Fatalf("unexpected batch %+v", b)
	default:
	}
}

func paths(root string, rels ...string) []string {
	var out []string
	for _, r := range rels {
		out = append(out, filepath.Join(root, r))
	}
	return out
}

func TestDebounce(t *testing.T) {
	tests := []struct {
		name string
		opts Options
		run  func(t *testing.T, root string, w *Watcher, fb *fakeBackend)
	}{
		{
			name: "quiet window restarts with each change",
			opts: Options{Debounce: 200 * time.Millisecond, MaxWait: 2 * time.Second},
			run: func(t *testing.T, root string, w *Watcher, fb *fakeBackend) {
				start := time.Now()
				fb.emit(root+"/a", opWrite)
				time.Sleep(150 * time.Millisecond)
				fb.emit(root+"/b", opWrite)
				time.Sleep(150 * time.Millisecond)
				noBatch(t, w)
				b := <-w.Batches()
				if got := time.Since(start); got != 350*time.Millisecond {
					t.Errorf("flushed after %v, want 350ms (150ms + quiet 200ms)", got)
				}
				if want := paths(root, "a", "b"); !reflect.DeepEqual(b.Paths, want) {
					t.Errorf("paths %v, want %v", b.Paths, want)
				}
			},
		},
		{
			name: "cap flushes a steady stream",
			opts: Options{Debounce: 200 * time.Millisecond, MaxWait: 2 * time.Second},
			run: func(t *testing.T, root string, w *Watcher, fb *fakeBackend) {
				start := time.Now()
				stop := make(chan struct{})
				go func() { // a writer that never pauses for a quiet window
					defer close(stop)
					for i := 0; i < 30; i++ {
						fb.emit(filepath.Join(root, string(rune('A'+i))), opWrite)
						time.Sleep(100 * time.Millisecond)
					}
				}()
				first := <-w.Batches()
				if got := time.Since(start); got != 2*time.Second {
					t.Errorf("first batch after %v, want the 2s cap", got)
				}
				if n := len(first.Paths); n < 20 || n > 21 {
					t.Errorf("first batch has %d paths, want the 20 written before the cap", n)
				}
				second := <-w.Batches()
				<-stop
				if n := len(first.Paths) + len(second.Paths); n != 30 {
					t.Errorf("%d paths in two batches, want 30", n)
				}
			},
		},
		{
			name: "temp files never form a batch, the renamed file does",
			opts: Options{Debounce: 200 * time.Millisecond},
			run: func(t *testing.T, root string, w *Watcher, fb *fakeBackend) {
				for _, n := range []string{"4913", ".main.go.swp", "main.go~", "x___jb_tmp___"} {
					fb.emit(filepath.Join(root, n), opCreate)
				}
				time.Sleep(10 * time.Second)
				noBatch(t, w)
				fb.emit(root+"/main.go~", opRemove)
				fb.emit(root+"/main.go", opCreate)
				if b := <-w.Batches(); !reflect.DeepEqual(b.Paths, paths(root, "main.go")) {
					t.Errorf("paths %v, want main.go only", b.Paths)
				}
			},
		},
		{
			name: "no quiet window flushes at once",
			opts: Options{Debounce: -1},
			run: func(t *testing.T, root string, w *Watcher, fb *fakeBackend) {
				start := time.Now()
				fb.emit(root+"/a", opWrite)
				<-w.Batches()
				if got := time.Since(start); got != 0 {
					t.Errorf("flushed after %v, want 0", got)
				}
			},
		},
		{
			name: "a busy consumer gets later changes merged",
			opts: Options{Debounce: 200 * time.Millisecond},
			run: func(t *testing.T, root string, w *Watcher, fb *fakeBackend) {
				fb.emit(root+"/a", opWrite)
				time.Sleep(time.Second)
				fb.emit(root+"/b", opWrite)
				time.Sleep(time.Second)
				if n := w.Stats().Batches; n != 2 {
					t.Errorf("%d flushes, want 2", n)
				}
				if b := <-w.Batches(); !reflect.DeepEqual(b.Paths, paths(root, "a", "b")) {
					t.Errorf("paths %v, want a and b merged", b.Paths)
				}
				noBatch(t, w)
			},
		},
		{
			name: "overflow is a rescan batch",
			opts: Options{Debounce: 200 * time.Millisecond},
			run: func(t *testing.T, root string, w *Watcher, fb *fakeBackend) {
				fb.overflow()
				if b := <-w.Batches(); !reflect.DeepEqual(b.Rescan, []string{root}) {
					t.Errorf("rescan %v, want the root", b.Rescan)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := tempRoot(t)
			synctest.Test(t, func(t *testing.T) {
				w, fb := fakeWatcher(t, root, tt.opts)
				defer w.Close()
				tt.run(t, root, w, fb)
			})
		})
	}
}

// lockedRepo is a repository with a context app/ and a git index.lock,
// as during a checkout.
func lockedRepo(t *testing.T) (ctx, lock string) {
	repo := tempRoot(t)
	ctx = filepath.Join(repo, "app")
	mkdirs(t, repo, ".git", "app")
	lock = filepath.Join(repo, ".git/index.lock")
	write(t, lock, "")
	return ctx, lock
}

// A git index.lock in the repository above the context holds the batch
// until it goes (plus one quiet window for events in flight), past MaxWait
// too (a checkout outlasting MaxWait is still one batch), but not beyond
// lockHoldMax (a lock a crashed git left behind).
func TestIndexLockHoldsBatch(t *testing.T) {
	for _, tc := range []struct {
		name    string
		maxWait time.Duration
		release bool
		want    func(time.Duration) bool
		wantStr string
	}{
		{"released before the cap", 5 * time.Second, true,
			func(d time.Duration) bool {
				return d >= 2*time.Second+200*time.Millisecond && d <= 2*time.Second+500*time.Millisecond
			},
			"2s + lock poll + one quiet window"},
		{"released after the cap", time.Second, true,
			func(d time.Duration) bool {
				return d >= 2*time.Second+200*time.Millisecond && d <= 2*time.Second+500*time.Millisecond
			},
			"2s + lock poll + one quiet window"},
		{"never released", time.Second, false,
			func(d time.Duration) bool { return d >= lockHoldMax && d <= lockHoldMax+lockPoll },
			"lockHoldMax"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, lock := lockedRepo(t)
			synctest.Test(t, func(t *testing.T) {
				w, fb := fakeWatcher(t, ctx, Options{Debounce: 200 * time.Millisecond, MaxWait: tc.maxWait})
				defer w.Close()
				start := time.Now()
				fb.emit(ctx+"/a", opWrite)
				time.Sleep(time.Second)
				fb.emit(ctx+"/b", opWrite)
				time.Sleep(time.Second)
				noBatch(t, w)
				if tc.release {
					must(t, os.Remove(lock))
				}
				b := <-w.Batches()
				if got := time.Since(start); !tc.want(got) {
					t.Errorf("batch flushed after %v, want %s", got, tc.wantStr)
				}
				if !reflect.DeepEqual(b.Paths, paths(ctx, "a", "b")) {
					t.Errorf("paths %v", b.Paths)
				}
			})
		})
	}
}

func TestCloseTwice(t *testing.T) {
	root := tempRoot(t)
	synctest.Test(t, func(t *testing.T) {
		w, fb := fakeWatcher(t, root, Options{})
		mkdirs(t, root, "d")
		fb.emit(root+"/d", opCreate)
		synctest.Wait()
		if !fb.watched(root + "/d") {
			t.Errorf("created directory not watched")
		}
		before := w.Stats()
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Errorf("second Close: %v", err)
		}
		if _, ok := <-w.Batches(); ok {
			t.Errorf("Batches not closed")
		}
		if err := w.SetRoots(nil); err != ErrClosed {
			t.Errorf("SetRoots after Close = %v, want ErrClosed", err)
		}
		if after := w.Stats(); after.Watches != before.Watches || after.Watches != 2 {
			t.Errorf("stats after close %+v, before %+v", after, before)
		}
	})
}

// Polling: a checkout outlasting MaxWait writes its last file just before
// it removes index.lock; the batch waits for a scan that started after the
// lock went, so the checkout is one batch.
func TestIndexLockPastCapPolling(t *testing.T) {
	ctx, lock := lockedRepo(t)
	synctest.Test(t, func(t *testing.T) {
		w, err := New(Options{Roots: []Root{{Path: ctx}}, Poll: "on", PollInterval: time.Second,
			Debounce: 200 * time.Millisecond, MaxWait: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		defer w.Close()
		<-w.Ready()
		time.Sleep(100 * time.Millisecond)
		write(t, ctx+"/a", "a") // seen by the scan at 1s
		time.Sleep(2200 * time.Millisecond)
		write(t, ctx+"/b", "b") // at 2.3s, past the cap: the checkout's last file
		must(t, os.Remove(lock))
		b := <-w.Batches()
		if !reflect.DeepEqual(b.Paths, paths(ctx, "a", "b")) {
			t.Errorf("checkout split: the first batch has %v", b.Paths)
		}
	})
}

// A lock left behind holds one batch for lockHoldMax, then is said once
// and holds no more batches until git writes it again.
func TestStaleIndexLock(t *testing.T) {
	ctx, _ := lockedRepo(t)
	synctest.Test(t, func(t *testing.T) {
		w, fb := fakeWatcher(t, ctx, Options{Debounce: 200 * time.Millisecond, MaxWait: time.Second})
		defer w.Close()
		start := time.Now()
		fb.emit(ctx+"/a", opWrite)
		<-w.Batches()
		if got := time.Since(start); got < lockHoldMax {
			t.Errorf("first batch after %v, want it held for lockHoldMax", got)
		}
		start = time.Now()
		fb.emit(ctx+"/b", opWrite)
		<-w.Batches()
		if got := time.Since(start); got != 200*time.Millisecond {
			t.Errorf("batch after the stale lock was said: %v, want one quiet window", got)
		}
	})
}

// Touched hears of each change when it arrives, a quiet window before the
// batch holding it; editor temp files are left out there as well.
func TestTouchedBeforeTheBatch(t *testing.T) {
	root := tempRoot(t)
	synctest.Test(t, func(t *testing.T) {
		var touched []string
		w, fb := fakeWatcher(t, root, Options{Debounce: time.Second,
			Touched: func(p []string) { touched = append(touched, p...) }})
		defer w.Close()
		fb.emit(root+"/a.js", opWrite)
		fb.emit(root+"/.a.js.swp", opWrite)
		synctest.Wait()
		if !reflect.DeepEqual(touched, paths(root, "a.js")) {
			t.Errorf("touched %v before the batch, want a.js", touched)
		}
		noBatch(t, w)
		if b := <-w.Batches(); !reflect.DeepEqual(b.Paths, paths(root, "a.js")) {
			t.Errorf("batch %v", b.Paths)
		}
	})
}
