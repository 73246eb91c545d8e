package rebuild

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/rebuildd/rebuildd/config"
	"github.com/rebuildd/rebuildd/docker"
	"github.com/rebuildd/rebuildd/dockerfile"
	"github.com/rebuildd/rebuildd/fingerprint"
	"github.com/rebuildd/rebuildd/watcher"
)

// liveRig is a watch-mode daemon over fakes that live-updates: the rig's
// tree (web/ is copied with no RUN after it, src/ is bind-mounted).
type liveRig struct {
	*dryRig
	engine     *docker.FakeEngine
	runner     *gatedRunner
	store      *fingerprint.Store
	counted    countingStore // r.store, counting reads of the stored files
	w          *watcher.Fake
	touched    func([]string)
	tap        *logTap
	mu         sync.Mutex
	restarts   []string
	restartErr error // what Restart returns
}

func newLiveRig(t *testing.T, cmd []string) *liveRig {
	r := &liveRig{dryRig: newDryRig(t)}
	r.dryRig.stop()
	r.engine = docker.NewFakeEngine()
	r.runner = &gatedRunner{FakeRunner: docker.NewFakeRunner(r.engine, map[string]string{"api": "api:dev"}, time.Now)}
	var err error
	if r.store, err = fingerprint.OpenStore(filepath.Join(t.TempDir(), "state"), nil); err != nil {
		t.Fatal(err)
	}
	r.counted.Records = r.store
	r.w = watcher.NewFake()
	r.tap = &logTap{ch: make(chan logLine, 1024)}
	ctx, cancel := context.WithCancel(context.Background())
	d := NewDaemon(DaemonOptions{
		Load:  func(context.Context) (*config.Project, error) { return r.proj, nil },
		Model: dockerfile.Load,
		Watch: func(_ []watcher.Root, _ config.Settings, t func([]string)) (BatchSource, error) {
			r.touched = t
			return r.w, nil
		},
		Reconciler: func(p *config.Project, sources func(config.Service) (fingerprint.Source, error)) *Reconciler {
			return &Reconciler{Project: p, Sources: sources, Runner: r.runner, Engine: r.engine, Live: r.engine,
				Store: &r.counted, Index: fingerprint.NewIndex(time.Now), Log: zap.NewNop(), WaitTimeout: time.Minute}
		},
		Restart: func(_ context.Context, service string) error {
			r.mu.Lock()
			defer r.mu.Unlock()
			if r.restartErr != nil {
				return r.restartErr
			}
			r.restarts = append(r.restarts, service)
			return nil
		},
		Log: zap.New(r.tap),
	})
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	if res := r.tap.next(t, "reconciled"); res.fields["status"] != StatusRebuilt {
		t.Fatalf("start-up: %v", res.fields)
	}
	r.tap.next(t, "ready")
	id := r.container(t).ID
	r.engine.SetLive(id, docker.LiveContainer{Cmd: cmd, WorkingDir: "/app", Mounts: []string{"/app/src"}})
	return r
}

// send is the watcher: touch the paths when seen, then deliver them.
func (r *liveRig) send(paths ...string) {
	r.touched(paths)
	r.w.Send(watcher.Batch{Paths: paths})
}

func (r *liveRig) container(t *testing.T) docker.Container {
	t.Helper()
	cs, _ := r.engine.Containers(context.Background(), "rig")
	if len(cs) != 1 {
		t.Fatalf("containers: %v", cs)
	}
	return cs[0]
}

func (r *liveRig) builds() int {
	return strings.Count(strings.Join(r.runner.CallLog(), "\n"), "build api")
}

// check is --check's answer now, from a reconciler of its own.
func (r *liveRig) check(t *testing.T) Outcome {
	t.Helper()
	rec := &Reconciler{Project: r.proj, Sources: func(s config.Service) (fingerprint.Source, error) {
		m, err := dockerfile.Load(s, r.proj.Settings.Services[s.Name])
		if err != nil {
			return fingerprint.Source{}, err
		}
		return fingerprint.SourceOf(s, m), nil
	}, Runner: r.runner, Engine: r.engine, Store: fingerprint.NewOverlay(r.store), Index: fingerprint.NewIndex(time.Now), Log: zap.NewNop()}
	outs, err := rec.Check(context.Background(), nil)
	if err != nil || len(outs) != 1 {
		t.Fatalf("check: %v %v", outs, err)
	}
	return outs[0]
}

// A source edit whose only reader is a COPY with no RUN after it is
// copied into the running container, not built; the image then converges
// without recreating it, and every mode agrees the stack is current.
func TestDaemonSyncsThenConverges(t *testing.T) {
	r := newLiveRig(t, []string{"httpd", "-f", "-h", "/app/web"})
	before, builds := r.container(t), r.builds()

	r.send(r.write(t, "api/web/index.htm", "v2"))
	res := r.tap.next(t, "result")
	if res.fields["action"] != "sync" || !slices.Equal(toStrings(res.fields["container_path"]), []string{"/app/web/index.htm"}) {
		t.Fatalf("result: %v", res.fields)
	}
	if f, _ := r.engine.File(before.ID, "/app/web/index.htm"); f.Content != "v2" || f.UID != 0 || f.Mode.Perm() != 0o644 {
		t.Fatalf("the container's file: %+v", f)
	}
	conv := r.tap.next(t, "result")
	if conv.fields["result"] != "image built from the synced files; nothing recreated" {
		t.Fatalf("converge: %v", conv.fields)
	}
	if got := r.builds(); got != builds+1 {
		t.Fatalf("builds: %d, want %d (the converge alone)", got, builds+1)
	}
	if after := r.container(t); after.ID != before.ID {
		t.Fatalf("the container was recreated: %v", after)
	}
	if out := r.check(t); out.Status != StatusUpToDate {
		t.Fatalf("--check after the converge: %s (%s)", out.Status, out.Reason)
	}

	// An edit and its revert: the revert is synced back, nothing built for it.
	r.runner.close()
	r.send(r.write(t, "api/web/index.htm", "v3"))
	if res := r.tap.next(t, "result"); res.fields["action"] != "sync" {
		t.Fatalf("v3: %v", res.fields)
	}
	if out := r.check(t); out.Status != StatusSynced {
		t.Fatalf("--check after a sync: %s (%s)", out.Status, out.Reason)
	}
	r.runner.open()
	r.tap.next(t, "result") // its converge
	r.send(r.write(t, "api/web/index.htm", "v2"))
	if res := r.tap.next(t, "result"); res.fields["action"] != "sync" {
		t.Fatalf("revert: %v", res.fields)
	}
	if f, _ := r.engine.File(before.ID, "/app/web/index.htm"); f.Content != "v2" {
		t.Fatalf("after the revert the container holds %q", f.Content)
	}
	r.tap.next(t, "result") // its converge
	if out := r.check(t); out.Status != StatusUpToDate {
		t.Fatalf("--check after the revert: %s (%s)", out.Status, out.Reason)
	}
}

// A deletion removes the file in the container; a new nested directory
// syncs with its file.
func TestDaemonSyncsRemovalAndNewDirectory(t *testing.T) {
	r := newLiveRig(t, []string{"httpd", "-f", "-h", "/app/web"})
	c := r.container(t)
	if err := os.MkdirAll(filepath.Join(r.dir, "api/web/deep/er"), 0o750); err != nil {
		t.Fatal(err)
	}
	r.send(filepath.Join(r.dir, "api/web/deep"), r.write(t, "api/web/deep/er/page.htm", "p"))
	if res := r.tap.next(t, "result"); res.fields["action"] != "sync" {
		t.Fatalf("new directory: %v", res.fields)
	}
	for _, p := range []string{"/app/web/deep", "/app/web/deep/er"} {
		if f, ok := r.engine.File(c.ID, p); !ok || !f.Mode.IsDir() || f.Mode.Perm() != 0o750 {
			t.Fatalf("%s: %+v %v", p, f, ok)
		}
	}
	r.tap.next(t, "result") // converge
	r.remove(t, "api/web/index.htm")
	r.send(filepath.Join(r.dir, "api/web/index.htm"))
	if res := r.tap.next(t, "result"); res.fields["action"] != "sync" {
		t.Fatalf("removal: %v", res.fields)
	}
	if !slices.Contains(r.engine.Removes, c.ID+" /app/web/index.htm") {
		t.Fatalf("removes: %v", r.engine.Removes)
	}
}

// A directory removed with its files goes from the container too, not
// only its files (an empty directory the image lacks was left behind);
// put back before the image converges, it is no removal the converge must
// compare with the new image.
func TestDaemonSyncRemovesGoneDirectory(t *testing.T) {
	r := newLiveRig(t, []string{"httpd", "-f", "-h", "/app/web"})
	c := r.container(t)
	mkdir := func() {
		for _, d := range []string{"api/web/deep/er", "api/web/keep"} {
			if err := os.MkdirAll(filepath.Join(r.dir, d), 0o755); err != nil {
				t.Fatal(err)
			}
		}
	}
	mkdir()
	r.send(r.write(t, "api/web/deep/er/page.htm", "p"), r.write(t, "api/web/keep/k.htm", "k"))
	if res := r.tap.next(t, "result"); res.fields["action"] != "sync" {
		t.Fatalf("new directories: %v", res.fields)
	}
	r.tap.next(t, "result") // converge
	r.runner.close()        // the next converge waits: the mark keeps its removals
	if err := os.RemoveAll(filepath.Join(r.dir, "api/web/deep")); err != nil {
		t.Fatal(err)
	}
	r.remove(t, "api/web/keep/k.htm") // its directory stays, empty: COPY copies it
	r.send(filepath.Join(r.dir, "api/web/deep"), filepath.Join(r.dir, "api/web/deep/er/page.htm"),
		filepath.Join(r.dir, "api/web/keep/k.htm"))
	if res := r.tap.next(t, "result"); res.fields["action"] != "sync" {
		t.Fatalf("removal: %v", res.fields)
	}
	_, removes := r.engine.LiveCalls()
	if !slices.Contains(removes, c.ID+" /app/web/deep") || slices.Contains(removes, c.ID+" /app/web/keep") {
		t.Fatalf("removes: %v", removes)
	}
	for _, p := range []string{"/app/web/deep", "/app/web/deep/er"} {
		if f, ok := r.engine.File(c.ID, p); ok {
			t.Fatalf("%s left in the container: %+v", p, f)
		}
	}
	if marks, err := r.store.SyncMarks(); err != nil || !slices.Contains(marks[c.ID].Removed, "/app/web/deep") {
		t.Fatalf("mark after the removal: %+v %v", marks[c.ID], err)
	}
	mkdir()
	r.send(filepath.Join(r.dir, "api/web/deep"), r.write(t, "api/web/deep/er/page.htm", "p2"))
	for {
		res := r.tap.next(t, "result")
		if res.fields["status"] == "cancelled" {
			continue // the held converge, cancelled by the change
		}
		if res.fields["action"] != "sync" {
			t.Fatalf("put back: %v", res.fields)
		}
		break
	}
	if f, ok := r.engine.File(c.ID, "/app/web/deep/er"); !ok || !f.Mode.IsDir() {
		t.Fatalf("directory not put back: %+v %v", f, ok)
	}
	if marks, err := r.store.SyncMarks(); err != nil || slices.Contains(marks[c.ID].Removed, "/app/web/deep") ||
		slices.Contains(marks[c.ID].Removed, "/app/web/deep/er") {
		t.Fatalf("mark after the directory came back: %+v %v", marks[c.ID], err)
	}
	r.runner.open()
}

// A deps edit is never synced; a container without rm rebuilds a removal.
func TestDaemonDepsEditRebuilds(t *testing.T) {
	r := newLiveRig(t, []string{"httpd", "-f", "-h", "/app/web"})
	r.send(r.write(t, "api/package.json", `{"v":2}`))
	res := r.tap.next(t, "result")
	if res.fields["action"] == "sync" || !strings.Contains(res.fields["result"].(string), "rebuilt") {
		t.Fatalf("deps edit: %v", res.fields)
	}
}

// A process that does not reload is restarted after the sync.
func TestDaemonSyncRestartsWhatDoesNotReload(t *testing.T) {
	r := newLiveRig(t, []string{"node", "server.js"})
	r.send(r.write(t, "api/web/index.htm", "v2"))
	res := r.tap.next(t, "result")
	if res.fields["action"] != "sync" || !slices.Equal(toStrings(res.fields["restarted"]), []string{"api"}) {
		t.Fatalf("result: %v", res.fields)
	}
}

// gatedRunner is a FakeRunner whose builds wait while the gate is closed:
// a converge build the test holds while it asks --check.
type gatedRunner struct {
	*docker.FakeRunner
	mu   sync.Mutex
	gate chan struct{} // nil: open
}

func (g *gatedRunner) close() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.gate = make(chan struct{})
}

func (g *gatedRunner) open() {
	g.mu.Lock()
	defer g.mu.Unlock()
	close(g.gate)
	g.gate = nil
}

func (g *gatedRunner) Build(ctx context.Context, service string, out io.Writer) error {
	g.mu.Lock()
	gate := g.gate
	g.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return g.FakeRunner.Build(ctx, service, out)
}

func toStrings(v any) []string {
	switch x := v.(type) {
	case []string:
		return x
	case []any:
		out := make([]string, len(x))
		for i, e := range x {
			out[i], _ = e.(string)
		}
		return out
	}
	return nil
}

func (r *liveRig) remove(t *testing.T, rel string) {
	t.Helper()
	if err := os.Remove(filepath.Join(r.dir, rel)); err != nil {
		t.Fatal(err)
	}
}

// A sync cut short leaves a mark that vouches for nothing: the container,
// though it runs the recorded image, is stale in every mode.
func TestSyncCutShortIsStale(t *testing.T) {
	r := newLiveRig(t, []string{"httpd", "-f", "-h", "/app/web"})
	c := r.container(t)
	r.engine.PutErr = errors.New("the engine went away mid-copy")
	r.send(r.write(t, "api/web/index.htm", "v2"))
	res := r.tap.next(t, "result")
	if res.fields["action"] == "sync" {
		t.Fatalf("a failed copy logged as a sync: %v", res.fields)
	}
	marks, err := r.store.SyncMarks()
	if err != nil {
		t.Fatal(err)
	}
	if m, ok := marks[c.ID]; ok && m.Sum != "" {
		t.Fatalf("mark after a failed copy: %+v", m)
	}
	// The rebuild that follows recreates it: the mark the failed sync
	// wrote while the rebuild's work ran vouches for nothing, so it is not
	// "synced during this run" (a read-only container: the engine refuses
	// the copy, and the container kept serving the old file).
	if r, ok := res.fields["result"].(string); !ok || !strings.Contains(r, "recreated") || strings.Contains(r, "nothing recreated") {
		t.Fatalf("the rebuild after a failed copy: %v", res.fields)
	}
	if now := r.container(t); now.ID == c.ID {
		t.Fatalf("the container a sync failed on was not recreated: %v (%v)", now, res.fields)
	}
	if out := r.check(t); out.Status != StatusUpToDate {
		t.Fatalf("--check after the rebuild: %s (%s)", out.Status, out.Reason)
	}
}

// Marks of containers that are gone (recreated) are dropped by the next
// sync of their service.
func TestSyncDropsMarksOfGoneContainers(t *testing.T) {
	r := newLiveRig(t, []string{"httpd", "-f", "-h", "/app/web"})
	old := r.container(t)
	r.send(r.write(t, "api/web/index.htm", "v2"))
	r.tap.next(t, "result") // sync
	r.tap.next(t, "result") // converge
	r.send(r.write(t, "api/package.json", `{"v":2}`))
	if res := r.tap.next(t, "result"); !strings.Contains(res.fields["result"].(string), "recreated") {
		t.Fatalf("deps edit: %v", res.fields)
	}
	now := r.container(t)
	r.engine.SetLive(now.ID, docker.LiveContainer{Cmd: []string{"httpd", "-f", "-h", "/app/web"}, WorkingDir: "/app", Mounts: []string{"/app/src"}})
	r.send(r.write(t, "api/web/index.htm", "v3"))
	if res := r.tap.next(t, "result"); res.fields["action"] != "sync" {
		t.Fatalf("sync into the new container: %v", res.fields)
	}
	marks, err := r.store.SyncMarks()
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := marks[old.ID]; ok || len(marks) != 1 {
		t.Fatalf("marks after the recreate and a sync: %v (old container %s)", marks, old.ID)
	}
}

// A file that a symbolic link of the context points to, where a COPY
// names the link (BuildKit copies what it points to), is not synced: the
// image holds its content at the link's destination too. Other files of
// the same COPY still sync.
func TestSyncFollowedLinkTargetRebuilds(t *testing.T) {
	r := newLiveRig(t, []string{"httpd", "-f", "-h", "/app/web"})
	if err := os.Symlink("index.htm", filepath.Join(r.dir, "api/web/link.htm")); err != nil {
		t.Fatal(err)
	}
	r.write(t, "api/web/other.htm", "o1")
	df := r.write(t, "api/Dockerfile", rigDockerfile+"COPY web/link.htm /followed.htm\n")
	r.send(df, filepath.Join(r.dir, "api/web/link.htm"), filepath.Join(r.dir, "api/web/other.htm"))
	if res := r.tap.next(t, "result"); !strings.Contains(res.fields["result"].(string), "recreated") {
		t.Fatalf("Dockerfile edit: %v", res.fields)
	}
	c := r.container(t)
	r.engine.SetLive(c.ID, docker.LiveContainer{Cmd: []string{"httpd", "-f", "-h", "/app/web"}, WorkingDir: "/app", Mounts: []string{"/app/src"}})

	r.send(r.write(t, "api/web/other.htm", "o2"))
	if res := r.tap.next(t, "result"); res.fields["action"] != "sync" {
		t.Fatalf("a file no followed link points to: %v", res.fields)
	}
	r.tap.next(t, "result") // its converge

	r.send(r.write(t, "api/web/index.htm", "v2"))
	res := r.tap.next(t, "result")
	if res.fields["action"] == "sync" || !strings.Contains(res.fields["result"].(string), "recreated") {
		t.Fatalf("the target of a followed link: %v", res.fields)
	}
}

func TestResolveLink(t *testing.T) {
	files := map[string]fingerprint.FileSum{
		"web/a":    {Link: "b"},
		"web/b":    {Link: "../site/c"},
		"site/c":   {},
		"abs":      {Link: "/site/c"},
		"up":       {Link: "../../../site"},
		"loop":     {Link: "loop"},
		"web/dirl": {Link: "."},
	}
	for rel, want := range map[string]string{"web/a": "site/c", "abs": "site/c", "up": "site", "loop": "loop", "web/dirl": "web", "site/c": "site/c"} {
		if got := resolveLink(files, rel); got != want {
			t.Errorf("resolveLink(%q) = %q, want %q", rel, got, want)
		}
	}
}

// A container whose process must be restarted to serve a sync holds the
// mark that vouches for nothing until the restart is done: when the
// restart fails (or rebuildd is killed before it), the container is
// recreated, never kept as "synced" with its process on the old files.
func TestSyncMarkWaitsForTheRestart(t *testing.T) {
	r := newLiveRig(t, []string{"node", "server.js"})
	c := r.container(t)
	r.mu.Lock()
	r.restartErr = errors.New("compose restart failed")
	r.mu.Unlock()
	r.send(r.write(t, "api/web/index.htm", "v2"))
	res := r.tap.next(t, "result")
	if res.fields["action"] == "sync" {
		t.Fatalf("a sync whose restart failed logged as a sync: %v", res.fields)
	}
	if now := r.container(t); now.ID == c.ID {
		t.Fatalf("the container whose restart failed was kept: %v (%v)", now, res.fields)
	}
	if out := r.check(t); out.Status != StatusUpToDate {
		t.Fatalf("--check: %s (%s)", out.Status, out.Reason)
	}
}

// A container with a read-only root file system (compose's read_only) is
// not synced: nothing is copied, no mark is written, and the change
// rebuilds, as a dry run also says.
func TestSyncSkipsReadOnlyContainer(t *testing.T) {
	r := newLiveRig(t, []string{"httpd", "-f", "-h", "/app/web"})
	c := r.container(t)
	r.engine.SetLive(c.ID, docker.LiveContainer{Cmd: []string{"httpd", "-f", "-h", "/app/web"}, WorkingDir: "/app",
		Mounts: []string{"/app/src"}, ReadOnly: true})
	r.send(r.write(t, "api/web/index.htm", "v2"))
	res := r.tap.next(t, "result")
	if res.fields["action"] == "sync" || !strings.Contains(res.fields["result"].(string), "recreated") {
		t.Fatalf("read-only container: %v", res.fields)
	}
	if puts, _ := r.engine.LiveCalls(); len(puts) > 0 {
		t.Fatalf("copied into a read-only container: %v", puts)
	}
	if marks, _ := r.store.SyncMarks(); len(marks) > 0 {
		t.Fatalf("marks: %v", marks)
	}
}

// countingStore counts Files calls: reading a 50,000-file record's stored
// sums costs about 110 ms, which the first sync should not pay.
type countingStore struct {
	fingerprint.Records
	files atomic.Int32
}

func (c *countingStore) Files(service string) (map[string]fingerprint.FileSum, error) {
	c.files.Add(1)
	return c.Records.Files(service)
}

// The first sync after a start takes what the container holds from the
// print the start-up build was taken from, not from the stored files.
func TestFirstSyncReadsNoStoredFiles(t *testing.T) {
	r := newLiveRig(t, []string{"httpd", "-f", "-h", "/app/web"})
	before := r.counted.files.Load()
	r.send(r.write(t, "api/web/index.htm", "v2"))
	if res := r.tap.next(t, "result"); res.fields["action"] != "sync" {
		t.Fatalf("result: %v", res.fields)
	}
	if n := r.counted.files.Load() - before; n != 0 {
		t.Fatalf("the sync read the stored files %d times", n)
	}
}
