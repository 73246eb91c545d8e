package rebuild

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/rebuildd/rebuildd/config"
	"github.com/rebuildd/rebuildd/docker"
	"github.com/rebuildd/rebuildd/dockerfile"
	"github.com/rebuildd/rebuildd/fingerprint"
	"github.com/rebuildd/rebuildd/watcher"
)

// logTap is a zap core that hands every entry to the test, so the test
// waits for the daemon's own "result" lines instead of sleeping.
type logTap struct {
	ch     chan logLine
	fields []zapcore.Field
}

type logLine struct {
	msg    string
	level  zapcore.Level
	fields map[string]any
}

func (t *logTap) Enabled(zapcore.Level) bool { return true }
func (t *logTap) With(f []zapcore.Field) zapcore.Core {
	return &logTap{ch: t.ch, fields: append(append([]zapcore.Field{}, t.fields...), f...)}
}
func (t *logTap) Check(e zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	return ce.AddCore(e, t)
}
func (t *logTap) Write(e zapcore.Entry, f []zapcore.Field) error {
	enc := zapcore.NewMapObjectEncoder()
	for _, x := range append(append([]zapcore.Field{}, t.fields...), f...) {
		x.AddTo(enc)
	}
	t.ch <- logLine{msg: e.Message, level: e.Level, fields: enc.Fields}
	return nil
}
func (t *logTap) Sync() error { return nil }

// next returns the next log line with msg, failing after a generous
// deadline (a hung daemon, not a timing assertion).
func (t *logTap) next(tb testing.TB, msg string) logLine {
	tb.Helper()
	deadline := time.After(20 * time.Second)
	for {
		select {
		case l := <-t.ch:
			if l.msg == msg {
				return l
			}
		case <-deadline:
			tb.Fatalf("no %q log line", msg)
		}
	}
}

// dryRig runs a dry-run daemon on a real tree with a fake watcher.
type dryRig struct {
	dir    string
	w      *watcher.Fake
	tap    *logTap
	mu     sync.Mutex
	proj   *config.Project
	broken error // Load fails with it when set (a compose file that does not parse)
	stop   func()
}

const rigDockerfile = `FROM scratch
WORKDIR /app
COPY package.json ./
RUN ["/bin/install"]
COPY src ./src
COPY web ./web
`

func newDryRig(t *testing.T) *dryRig { return newDryRigWith(t, nil) }

// dryReconciler is what cmd/rebuildd gives a dry run that sees engine;
// nil (no engine): the daemon decides from memory alone.
func dryReconciler(engine docker.Engine) func(*config.Project, func(config.Service) (fingerprint.Source, error)) *Reconciler {
	if engine == nil {
		return nil
	}
	live, _ := engine.(docker.Live)
	return func(p *config.Project, sources func(config.Service) (fingerprint.Source, error)) *Reconciler {
		return &Reconciler{Project: p, Sources: sources, Runner: docker.Names{}, Engine: engine, Live: live,
			Store: fingerprint.NewOverlay(nil), Index: fingerprint.NewIndex(time.Now), Log: zap.NewNop()}
	}
}

// newDryRigWith is newDryRig whose dry run sees engine (nil: none).
func newDryRigWith(t *testing.T, engine docker.Engine) *dryRig {
	dir := t.TempDir()
	for name, body := range map[string]string{
		"api/Dockerfile":    rigDockerfile,
		"api/.dockerignore": "README.md\n",
		"api/package.json":  "{}",
		"api/README.md":     "hi",
		"api/src/a.js":      "a",
		"api/web/index.htm": "v1",
		"compose.yaml":      "services: {}\n",
	} {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	r := &dryRig{dir: dir, w: watcher.NewFake(), tap: &logTap{ch: make(chan logLine, 1024)}}
	r.proj = r.project(apiService(dir))
	ctx, cancel := context.WithCancel(context.Background())
	d := NewDaemon(DaemonOptions{
		Load: func(context.Context) (*config.Project, error) {
			r.mu.Lock()
			defer r.mu.Unlock()
			if r.broken != nil {
				return nil, r.broken
			}
			return r.proj, nil
		},
		Model:      dockerfile.Load,
		Reconciler: dryReconciler(engine),
		Watch:      func([]watcher.Root, config.Settings, func([]string)) (BatchSource, error) { return r.w, nil },
		DryRun:     true,
		Log:        zap.New(r.tap),
	})
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	var once sync.Once
	r.stop = func() { // idempotent: tests may stop early, Cleanup stops again
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Run: %v", err)
			}
		})
	}
	t.Cleanup(r.stop)
	r.tap.next(t, "ready")
	return r
}

func apiService(dir string) config.Service {
	return config.Service{Name: "api", Image: "api:dev",
		Build:      &config.Build{Context: filepath.Join(dir, "api"), Dockerfile: filepath.Join(dir, "api/Dockerfile")},
		BindMounts: []config.BindMount{{Source: filepath.Join(dir, "api/src"), Target: "/app/src"}},
		BuildHash:  "b1", RuntimeHash: "r1"}
}

func (r *dryRig) project(svcs ...config.Service) *config.Project {
	st := config.Settings{Parallel: 1, Services: map[string]config.ServiceSettings{}}
	for _, s := range svcs {
		st.Services[s.Name] = config.ServiceSettings{OnSource: "auto"}
	}
	return &config.Project{Name: "rig", Dir: r.dir, ComposeFiles: []string{filepath.Join(r.dir, "compose.yaml")},
		Settings: st, Services: svcs}
}

func (r *dryRig) write(t *testing.T, rel, body string) string {
	t.Helper()
	p := filepath.Join(r.dir, rel)
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// send delivers a batch and a sentinel batch after it: the sentinel's
// decision proves every decision of the first batch was logged.
func (r *dryRig) send(paths ...string) { r.w.Send(watcher.Batch{Paths: paths}) }

// decision waits for the next "decision" line of service.
func (r *dryRig) decision(t *testing.T, service string) logLine {
	t.Helper()
	for {
		if l := r.tap.next(t, "decision"); l.fields["service"] == service {
			return l
		}
	}
}

// A dry run decides exactly as a real one: through the decision function,
// final before it is printed. A touch, a save without change and an edit
// and its revert decide "none" at debug level: no line says "rebuild".
func TestDaemonDryRun(t *testing.T) {
	r := newDryRig(t)
	web := r.write(t, "api/web/index.htm", "v2")
	r.send(web)
	if d := r.decision(t, "api"); d.fields["action"] != "rebuild" || d.level != zapcore.InfoLevel {
		t.Fatalf("baked-in source edit: %v", d.fields)
	}
	if got := r.tap.next(t, "result").fields["result"]; got != "would rebuild (dry run)" {
		t.Fatalf("baked-in source edit: %v", got)
	}

	for _, step := range []struct {
		name  string
		write func()
	}{
		{"touch (same content)", func() { r.send(r.write(t, "api/web/index.htm", "v2")) }},
		{"edit and revert in one batch", func() {
			r.write(t, "api/web/index.htm", "v3")
			r.send(r.write(t, "api/web/index.htm", "v2"))
		}},
	} {
		step.write()
		if d := r.decision(t, "api"); d.fields["action"] != "none" || d.level != zapcore.DebugLevel {
			t.Fatalf("%s: %v at %v", step.name, d.fields, d.level)
		}
		if res := r.tap.next(t, "result"); res.fields["result"] != "nothing to do" || res.level != zapcore.DebugLevel {
			t.Fatalf("%s: result %v at %v", step.name, res.fields, res.level)
		}
	}

	// ignored and bind-mounted paths decide "none" and run nothing; the
	// deps edit after them is the next result.
	r.send(r.write(t, "api/README.md", "changed"), r.write(t, "api/src/a.js", "changed"))
	d := r.decision(t, "api")
	if d.fields["action"] != "none" || d.fields["impact"] != "source" {
		t.Fatalf("README + bind-mounted source: %v", d.fields)
	}
	r.send(r.write(t, "api/package.json", `{"v":2}`))
	res := r.tap.next(t, "result")
	if res.fields["result"] != "would rebuild (dry run)" || res.fields["service"] != "api" {
		t.Fatalf("deps edit: %v", res.fields)
	}

	// A directory moved away is reported as that one path: what was below
	// it was read, so it is not "unused".
	web = filepath.Join(r.dir, "api/web")
	if err := os.Rename(web, filepath.Join(r.dir, "web-moved")); err != nil {
		t.Fatal(err)
	}
	r.send(web)
	if res := r.tap.next(t, "result"); res.fields["result"] != "would rebuild (dry run)" {
		t.Fatalf("directory moved away: %v", res.fields)
	}
}

// A dry run that sees an engine pretends what it would have built is
// there: a missing image is "would rebuild" once (at start), an edit of
// a file only COPYed would sync into the container it pretends runs, and
// then the image would catch up; a touch after it decides "none" (not
// "image missing" for ever).
func TestDaemonDryRunWithEngine(t *testing.T) {
	r := newDryRigWith(t, docker.NewFakeEngine())
	r.send(r.write(t, "api/web/index.htm", "v2"))
	if got := r.tap.next(t, "result").fields["result"]; got != "would sync to /app/web/index.htm" {
		t.Fatalf("edit: %v", got)
	}
	if got := r.tap.next(t, "result").fields["result"]; got != "would build the image from the synced files (dry run)" {
		t.Fatalf("converge: %v", got)
	}
	r.send(r.write(t, "api/web/index.htm", "v2"))
	if d := r.decision(t, "api"); d.fields["action"] != "none" || d.level != zapcore.DebugLevel {
		t.Fatalf("touch after a pretended build: %v at %v", d.fields, d.level)
	}
	// The pretended converge recreated nothing: the next edit syncs too,
	// as in the real watch mode.
	r.tap.next(t, "result") // the touch's "nothing to do"
	r.send(r.write(t, "api/web/index.htm", "v3"))
	if got := r.tap.next(t, "result").fields["result"]; got != "would sync to /app/web/index.htm" {
		t.Fatalf("edit after the converge: %v", got)
	}
}

// A change that arrives while the Dockerfile is broken is held, not
// dropped: the fix builds it.
func TestDaemonBrokenDockerfileHoldsTheChange(t *testing.T) {
	r := newDryRig(t)
	df := r.write(t, "api/Dockerfile", "FROM scratch\nCOPY\n")
	r.send(df)
	l := r.tap.next(t, "not built until this is fixed; changes wait, the running container stays as it is")
	if !strings.Contains(l.fields["error"].(string), "Dockerfile:2") {
		t.Fatalf("want file:line in the error, got %v", l.fields)
	}
	r.send(r.write(t, "api/src/../web/index.htm", "held edit"))
	if h := r.tap.next(t, "held until the configuration loads again; nothing is lost: the fix re-checks it"); h.fields["service"] != "api" {
		t.Fatalf("held: %v", h.fields)
	}
	r.send(r.write(t, "api/Dockerfile", rigDockerfile))
	res := r.tap.next(t, "result")
	if res.fields["result"] != "would rebuild (dry run)" {
		t.Fatalf("after the fix: %v", res.fields)
	}
	// One build for the fix and the held change together: the next
	// decision is the sentinel's, not a second one for the Dockerfile.
	sentinel := r.write(t, "api/src/a.js", "sentinel")
	r.send(sentinel)
	if d := r.tap.next(t, "decision"); fmt.Sprint(d.fields["paths"]) != fmt.Sprint([]string{sentinel}) {
		t.Fatalf("the fix was decided twice; next decision: %v", d.fields)
	}
}

// A broken compose file holds every change, and its fix re-checks them.
func TestDaemonBrokenComposeHoldsChanges(t *testing.T) {
	r := newDryRig(t)
	r.mu.Lock()
	good := r.proj
	r.broken = errors.New("compose.yaml:3: mapping values are not allowed here")
	r.mu.Unlock()
	r.send(r.write(t, "compose.yaml", "services: [\n"))
	r.tap.next(t, "configuration not reloaded; the last good one keeps running, and changes wait until the file is fixed")
	r.send(r.write(t, "api/web/index.htm", "edited while broken"))
	r.tap.next(t, "held until the configuration loads again; nothing is lost: the fix re-checks it")
	r.mu.Lock()
	r.proj, r.broken = good, nil
	r.mu.Unlock()
	r.send(r.write(t, "compose.yaml", "services: {}\n"))
	if res := r.tap.next(t, "result"); res.fields["result"] != "would rebuild (dry run)" {
		t.Fatalf("after the fix: %v", res.fields)
	}
}

func TestDaemonComposeEditAddsService(t *testing.T) {
	r := newDryRig(t)
	if err := os.MkdirAll(filepath.Join(r.dir, "web"), 0o755); err != nil {
		t.Fatal(err)
	}
	r.write(t, "web/Dockerfile", "FROM scratch\nCOPY . /srv\n")
	web := config.Service{Name: "web", Build: &config.Build{Context: filepath.Join(r.dir, "web"),
		Dockerfile: filepath.Join(r.dir, "web/Dockerfile")}, BuildHash: "w", RuntimeHash: "w"}
	r.mu.Lock()
	r.proj = r.project(apiService(r.dir), web)
	r.mu.Unlock()
	r.send(r.write(t, "compose.yaml", "services: {api: {}, web: {}}\n"))
	r.tap.next(t, "configuration reloaded")
	res := r.tap.next(t, "result") // logged by a worker, after the batch was handled
	if res.fields["service"] != "web" {
		t.Fatalf("new service not built: %v", res.fields)
	}
	calls := r.w.SetRootsCalls()
	if len(calls) != 1 || !hasRoot(calls[0], filepath.Join(r.dir, "web")) {
		t.Fatalf("the new service's context must be watched; SetRoots calls: %v", calls)
	}
	r.send(r.write(t, "web/index.html", "x"))
	if res := r.tap.next(t, "result"); res.fields["service"] != "web" || res.fields["result"] != "would rebuild (dry run)" {
		t.Fatalf("edit in the new service: %v", res.fields)
	}
}

func hasRoot(roots []watcher.Root, path string) bool {
	for _, r := range roots {
		if r.Path == path && len(r.Files) == 0 {
			return true
		}
	}
	return false
}

// A service the dry run pretends it recreated keeps its real container's
// ID (a live update planned for it asks a container the engine knows, as
// the real watch mode would), running the pretended image.
func TestDryEngineKeepsContainerID(t *testing.T) {
	fake := docker.NewFakeEngine()
	fake.List = []docker.Container{{ID: "c1", Name: "api-1", Service: "api", ImageID: "old", State: "exited", ExitCode: 137},
		{ID: "c2", Name: "db-1", Service: "db", ImageID: "db", State: "running"}}
	e := newDryEngine(fake)
	e.ran("api", "dry-run:x")
	e.ran("web", "dry-run:y")
	cs, err := e.Containers(context.Background(), "rig")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]docker.Container{}
	for _, c := range cs {
		got[c.Service] = c
	}
	if c := got["api"]; c.ID != "c1" || c.ImageID != "dry-run:x" || c.State != "running" || c.ExitCode != 0 {
		t.Errorf("api: %+v", c)
	}
	if c := got["db"]; c.ImageID != "db" {
		t.Errorf("db: %+v", c)
	}
	if c := got["web"]; c.ID != "dry-run-web" || c.ImageID != "dry-run:y" || len(cs) != 3 {
		t.Errorf("web: %+v (%d containers)", c, len(cs))
	}
}
