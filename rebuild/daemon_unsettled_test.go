package rebuild

import (
	"context"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/rebuildd/rebuildd/config"
	"github.com/rebuildd/rebuildd/docker"
	"github.com/rebuildd/rebuildd/dockerfile"
	"github.com/rebuildd/rebuildd/fingerprint"
	"github.com/rebuildd/rebuildd/watcher"
)

// heldRunner is a FakeRunner whose builds wait for the test: a build
// that is "running" while the test edits files.
type heldRunner struct {
	*docker.FakeRunner
	started chan string
	release chan struct{}
}

// begun waits for the next build to start, failing after a generous
// deadline (a build that never comes, not a timing assertion).
func (h *heldRunner) begun(t *testing.T, what string) {
	t.Helper()
	select {
	case <-h.started:
	case <-time.After(20 * time.Second):
		t.Fatalf("no build started: %s", what)
	}
}

func (h *heldRunner) Build(ctx context.Context, service string, out io.Writer) error {
	select { // a test that fails stops the daemon: a held build must let go
	case h.started <- service:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-h.release:
	case <-ctx.Done():
		return ctx.Err()
	}
	return h.FakeRunner.Build(ctx, service, out)
}

// An edit and its revert while a build runs leave the content as the
// print the build started from, but the build may have sent the edited
// file: watch mode builds once more (and only once), where comparing
// fingerprints alone would say "unchanged" and keep that image.
func TestDaemonEditAndRevertDuringBuildBuildsAgain(t *testing.T) {
	r := newDryRig(t) // for its tree, project and helpers; this daemon is not dry
	r.stop()
	engine := docker.NewFakeEngine()
	held := &heldRunner{FakeRunner: docker.NewFakeRunner(engine, map[string]string{"api": "api:dev"}, time.Now),
		started: make(chan string), release: make(chan struct{})}
	store, err := fingerprint.OpenStore(filepath.Join(t.TempDir(), "state"), nil)
	if err != nil {
		t.Fatal(err)
	}
	w := watcher.NewFake()
	var touched func([]string) // the daemon's hook, set before the first batch
	// send is what the watcher does with a change: touch its paths when
	// it sees them, then deliver them in a batch.
	send := func(paths ...string) {
		touched(paths)
		w.Send(watcher.Batch{Paths: paths})
	}
	tap := &logTap{ch: make(chan logLine, 1024)}
	ctx, cancel := context.WithCancel(context.Background())
	d := NewDaemon(DaemonOptions{
		Load:  func(context.Context) (*config.Project, error) { return r.proj, nil },
		Model: dockerfile.Load,
		Watch: func(_ []watcher.Root, _ config.Settings, t func([]string)) (BatchSource, error) {
			touched = t
			return w, nil
		},
		Reconciler: func(p *config.Project, sources func(config.Service) (fingerprint.Source, error)) *Reconciler {
			return &Reconciler{Project: p, Sources: sources, Runner: held, Engine: engine, Store: store,
				Index: fingerprint.NewIndex(time.Now), Log: zap.NewNop(), WaitTimeout: time.Minute}
		},
		Log: zap.New(tap),
	})
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()

	// Start-up: the image is missing, so the first build runs.
	held.begun(t, "start-up")
	held.release <- struct{}{}
	tap.next(t, "ready")

	web := r.write(t, "api/web/index.htm", "v2")
	send(web)
	tap.next(t, "queued")
	held.begun(t, "v2") // the build of v2 runs...
	r.write(t, "api/web/index.htm", "half-saved")
	r.write(t, "api/web/index.htm", "v2")
	send(web)             // ...while the file is edited and reverted
	tap.next(t, "queued") // marked before the build ends
	held.release <- struct{}{}
	if res := tap.next(t, "result").fields["result"]; res != "rebuilt, recreated api-1" {
		t.Fatalf("the build of v2: %v", res)
	}

	held.begun(t, "follow-up") // the content equals v2, but v2's build was unsettled
	// The same again during this recheck, which gives the same image (a
	// process rewriting a file with the same content during every build):
	// the chain ends here instead of building for ever.
	r.write(t, "api/web/index.htm", "half-saved")
	r.write(t, "api/web/index.htm", "v2")
	send(web)
	tap.next(t, "queued")
	held.SameID["api"] = true
	held.release <- struct{}{}
	if res := tap.next(t, "result").fields["result"]; !strings.Contains(res.(string), "rebuilt") {
		t.Fatalf("follow-up after an edit and revert during the build: %v", res)
	}
	if res := tap.next(t, "result").fields["result"]; res != "nothing to do" {
		t.Fatalf("after a recheck that gave the same image: %v", res)
	}

	// That build was settled: a save without change now does nothing.
	send(r.write(t, "api/web/index.htm", "v2"))
	if res := tap.next(t, "result").fields["result"]; res != "nothing to do" {
		t.Fatalf("save without change after the settled build: %v", res)
	}
	if got := strings.Count(strings.Join(held.CallLog(), "\n"), "build api"); got != 3 {
		t.Errorf("builds: %d (%v), want 3: start-up, v2, one follow-up", got, held.CallLog())
	}
}
