package rebuild

import (
	"context"
	"path/filepath"
	"reflect"
	"strings"
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

// until collects the tap's lines up to and including the next msg line
// of service ("": of any).
func (t *logTap) until(tb testing.TB, msg, service string) []logLine {
	tb.Helper()
	var got []logLine
	deadline := time.After(20 * time.Second)
	for {
		select {
		case l := <-t.ch:
			got = append(got, l)
			if l.msg == msg && (service == "" || l.fields["service"] == service) {
				return got
			}
		case <-deadline:
			tb.Fatalf("no %q line of %s; got %v", msg, service, got)
		}
	}
}

// atInfo keeps the lines a person sees without REBUILDD_DEBUG. "build"
// is at info for harnesses that time a build's start; the console shows
// it as the service's status line, not as a line.
func atInfo(lines []logLine) []logLine {
	var out []logLine
	for _, l := range lines {
		if l.level >= zapcore.InfoLevel && l.msg != "build" {
			out = append(out, l)
		}
	}
	return out
}

// TestDaemonSaysEachChangeOnce follows a real (fake-engine) daemon through
// the kinds of change a person makes and checks what reaches info level:
// one decision and one result per build, with the files, layer and
// instruction as fields; one line for a bind-mounted edit; nothing for an
// ignored file; one error line, with the build's last lines, for a
// failed build.
func TestDaemonSaysEachChangeOnce(t *testing.T) {
	r := newDryRig(t) // for its tree, project and helpers; this daemon is not dry
	r.stop()
	engine := docker.NewFakeEngine()
	runner := docker.NewFakeRunner(engine, map[string]string{"api": "api:dev"}, time.Now)
	store, err := fingerprint.OpenStore(filepath.Join(t.TempDir(), "state"), nil)
	if err != nil {
		t.Fatal(err)
	}
	w := watcher.NewFake()
	tap := &logTap{ch: make(chan logLine, 1024)}
	ctx, cancel := context.WithCancel(context.Background())
	d := NewDaemon(DaemonOptions{
		Load:  func(context.Context) (*config.Project, error) { return r.proj, nil },
		Model: dockerfile.Load,
		Watch: func([]watcher.Root, config.Settings, func([]string)) (BatchSource, error) { return w, nil },
		Reconciler: func(p *config.Project, sources func(config.Service) (fingerprint.Source, error)) *Reconciler {
			return &Reconciler{Project: p, Sources: sources, Runner: runner, Engine: engine, Store: store,
				Index: fingerprint.NewIndex(time.Now), Log: zap.New(tap), WaitTimeout: time.Minute}
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

	// Start-up: the image is missing; its decision and what the reconcile
	// did, nothing of the build's steps.
	start := atInfo(tap.until(t, "ready", ""))
	if msgs := messages(start); !reflect.DeepEqual(msgs, []string{"decision", "reconciled", "watching", "ready"}) {
		t.Errorf("start-up lines at info: %v", msgs)
	}

	// A deps edit: its decision, then its result.
	w.Send(watcher.Batch{Paths: []string{r.write(t, "api/package.json", `{"v":2}`), r.write(t, "api/README.md", "x")}})
	lines := atInfo(tap.until(t, "result", "api"))
	if msgs := messages(lines); !reflect.DeepEqual(msgs, []string{"decision", "result"}) {
		t.Fatalf("deps edit, lines at info: %v", lines)
	}
	dec := lines[0].fields
	want := map[string]any{"action": "rebuild", "impact": "deps", "files": []any{"package.json"},
		"step": `RUN ["/bin/install"]`, "at": "Dockerfile:4"}
	for k, v := range want {
		if !reflect.DeepEqual(dec[k], v) {
			t.Errorf("decision %s = %#v, want %#v (README.md, beside it, is no build input)", k, dec[k], v)
		}
	}
	if res := lines[1].fields["result"]; res != "rebuilt, recreated api-1" {
		t.Errorf("result %q, want \"rebuilt, recreated api-1\"", res)
	}

	// A bind-mounted edit answers in one line; an ignored one says nothing.
	w.Send(watcher.Batch{Paths: []string{r.write(t, "api/src/a.js", "b")}})
	w.Send(watcher.Batch{Paths: []string{r.write(t, "api/README.md", "y")}})
	w.Send(watcher.Batch{Paths: []string{r.write(t, "api/package.json", `{"v":3}`)}}) // sentinel
	lines = atInfo(tap.until(t, "result", "api"))
	if msgs := messages(lines); !reflect.DeepEqual(msgs, []string{"decision", "decision", "result"}) {
		t.Fatalf("bind-mounted, ignored, deps: lines at info: %v", lines)
	}
	if f := lines[0].fields; f["action"] != "none" || f["mount"] != "./src:/app/src" {
		t.Errorf("bind-mounted edit: %v", f)
	}

	// A failed build: one error line, with the output's last lines.
	runner.Fail["api"] = "#4 [3/4] RUN /bin/install\n#4 ERROR: exit code: 3\n"
	w.Send(watcher.Batch{Paths: []string{r.write(t, "api/package.json", `{"v":4}`)}})
	lines = atInfo(tap.until(t, "result", "api"))
	var errs []logLine
	for _, l := range lines {
		if l.level >= zapcore.ErrorLevel {
			errs = append(errs, l)
		}
	}
	if len(errs) != 1 || errs[0].msg != "result" {
		t.Fatalf("failed build: error lines %v, want the result alone", errs)
	}
	f := errs[0].fields
	if !strings.Contains(f["output_tail"].(string), "ERROR: exit code: 3") || !strings.HasPrefix(f["error"].(string), "build failed") {
		t.Errorf("failed build's line: %v", f)
	}
}

func messages(lines []logLine) []string {
	var out []string
	for _, l := range lines {
		out = append(out, l.msg)
	}
	return out
}

func TestDescribeOutcomes(t *testing.T) {
	for _, tc := range []struct {
		outs []Outcome
		want string
	}{
		{[]Outcome{{Service: "api", Status: StatusRebuilt, Containers: []string{"api-1"}}}, "rebuilt, recreated api-1"},
		{[]Outcome{{Service: "api", Status: StatusRebuilt}}, "rebuilt; the image is the one running, nothing recreated"},
		{[]Outcome{{Service: "docs", Status: StatusRebuilt, Containers: []string{"docs-1"}, Decision: Decision{Builder: true}},
			{Service: "docs-mirror", Status: StatusRebuilt, Containers: []string{"docs-mirror-1"}}},
			"rebuilt, recreated docs-1, docs-mirror-1"},
		{[]Outcome{{Service: "api", Status: StatusRebuilt, Containers: []string{"api-1"}, Decision: Decision{Builder: true}},
			{Service: "worker", Status: StatusRebuilt, Containers: []string{"worker-1"}, Decision: Decision{Builder: true}}},
			"rebuilt, worker rebuilt, recreated api-1, worker-1"},
		{[]Outcome{{Service: "named", Status: StatusRebuilt, Decision: Decision{Builder: true}},
			{Service: "twin", Status: StatusRebuilt, Containers: []string{"twin-1"}}},
			"rebuilt, recreated twin-1"},
		{[]Outcome{{Service: "api", Status: StatusFailed}}, ""},
	} {
		if got := describeOutcomes(tc.outs[0].Service, tc.outs); got != tc.want {
			t.Errorf("describeOutcomes(%+v) = %q, want %q", tc.outs, got, tc.want)
		}
	}
}

func TestShortName(t *testing.T) {
	for in, want := range map[string]string{"shop-api-1": "api-1", "shop_api_1": "api_1", "other-api-1": "other-api-1", "shop-": "shop-"} {
		if got := shortName("shop", in); got != want {
			t.Errorf("shortName(shop, %q) = %q, want %q", in, got, want)
		}
	}
}

func TestSettled(t *testing.T) {
	deps := Request{Impact: dockerfile.ImpactDeps, Step: "RUN npm ci", At: "Dockerfile:5"}
	for _, tc := range []struct {
		impacts []string
		want    Request
	}{
		{[]string{"deps"}, deps},
		{[]string{"deps", "source"}, deps},
		{[]string{"source"}, Request{Impact: dockerfile.ImpactSource}}, // only a touch of the deps file
		{[]string{"image missing"}, deps},
	} {
		if got := settled(deps, Decision{Impacts: tc.impacts}); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("impacts %v: %+v, want %+v", tc.impacts, got, tc.want)
		}
	}
}
