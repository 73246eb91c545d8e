package main

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The harness itself needs an engine and minutes; CI only checks that it
// builds and that the parts that decide what a number means are right.

func TestStampSub(t *testing.T) {
	tests := []struct {
		argv string
		want string
	}{
		{"docker compose -p proj build web", "build"},
		{"docker compose -f a.yaml -f b.yaml -p proj --project-directory . up -d --no-deps web", "up"},
		{"docker compose version --short", "version"},
		{"docker-compose --profile x --env-file .env build", "build"},
	}
	for _, tt := range tests {
		s := stamp{argv: strings.Fields(tt.argv)}
		if got := s.sub(); got != tt.want {
			t.Errorf("sub(%q) = %q, want %q", tt.argv, got, tt.want)
		}
	}
}

func TestBuildsInWindow(t *testing.T) {
	in := "100 docker compose version --short\n200 docker compose -p p build web\n300 docker compose -p p up -d web\n400 docker compose -p p build web\n"
	ss, err := parseStamps(bufio.NewScanner(strings.NewReader(in)))
	if err != nil {
		t.Fatal(err)
	}
	got := builds(ss, time.Unix(0, 150), time.Unix(0, 400))
	if len(got) != 1 || got[0].at != time.Unix(0, 200) {
		t.Fatalf("builds in [150,400) = %v, want the one at 200 (400 is outside)", got)
	}
}

func TestStampWrapperExecs(t *testing.T) {
	if _, err := exec.LookPath("true"); err != nil {
		t.Skip("no true(1)")
	}
	file := filepath.Join(t.TempDir(), "s")
	if err := os.WriteFile(file, []byte("1 docker compose version\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// runStamp replaces the process, so run it in a child: this test
	// binary with the wrapper's arguments (TestMain below).
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "BENCH_STAMP_ARGS="+file+" -- true")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("wrapper: %v\n%s", err, out)
	}
	ss, err := readStamps(file)
	if err != nil || len(ss) != 2 || strings.Join(ss[1].argv, " ") != "true" {
		t.Fatalf("stamps after one wrapped run = %v (%v), want the old one and \"true\"", ss, err)
	}
}

func TestMain(m *testing.M) {
	if a := os.Getenv("BENCH_STAMP_ARGS"); a != "" {
		if err := runStamp(strings.Fields(a)); err != nil {
			os.Exit(3)
		}
	}
	os.Exit(m.Run())
}

func TestPending(t *testing.T) {
	r := []line{{msg: "decision"}, {msg: "build"}, {msg: "result"}, {msg: "decision"}}
	if n := pending(toolRebuildd, r); n != 1 {
		t.Errorf("rebuildd pending = %d, want 1", n)
	}
	c := []line{{text: `Rebuilding service(s) ["web"] after changes were detected...`}, {text: `service(s) ["web"] successfully built`}}
	if n := pending(toolCompose, c); n != 0 {
		t.Errorf("compose pending = %d, want 0", n)
	}
}

func TestParseClassify(t *testing.T) {
	out := `goos: linux
BenchmarkClassify/warm-dockerignore-only-2         	 1000000	       120.5 ns/op	        120.5 ns/path	       118.0 cpu-ns/path
BenchmarkClassify/cold-node-2     	     100	  5000000 ns/op	       455.0 ns/path	       450.1 cpu-ns/path
PASS`
	got := parseClassify(out)
	if len(got) != 2 || got[0].name != "warm-dockerignore-only" || got[0].nsPath != 120.5 ||
		got[1].name != "cold-node" || got[1].cpuPath != 450.1 {
		t.Fatalf("parseClassify = %+v", got)
	}
}

func TestParseJSONLog(t *testing.T) {
	l := line{text: `{"level":"info","ts":"2026-11-26T21:00:00.123456789Z","msg":"ready","watches":3}`}
	parseJSONLog(&l)
	if l.msg != "ready" || l.ts.Nanosecond() != 123456789 {
		t.Fatalf("parsed %+v", l)
	}
}

func TestGenerate(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	dir := filepath.Join(t.TempDir(), "p")
	l := layout{files: 250, nmFiles: 10, changed: 30}
	if err := generate(dir, l, 8080); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("git", "-C", dir, "diff", "--name-only", "main", "other").Output()
	if err != nil {
		t.Fatal(err)
	}
	if n := len(strings.Fields(string(out))); n != l.changed {
		t.Errorf("branch other changes %d files, want %d", n, l.changed)
	}
	// A second call reuses the tree and resets what a run changed.
	p := filepath.Join(dir, l.srcFile(0))
	if err := os.WriteFile(p, []byte("edited"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := generate(dir, l, 8081); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(p); string(b) != "file 0\n" {
		t.Errorf("%s after reuse = %q, want it reset", p, b)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "compose.yaml")); !strings.Contains(string(b), "8081:80") {
		t.Errorf("compose.yaml not rewritten with the new port:\n%s", b)
	}
}

func TestP90(t *testing.T) {
	ms := func(ns ...int) []time.Duration {
		var out []time.Duration
		for _, n := range ns {
			out = append(out, time.Duration(n)*time.Millisecond)
		}
		return out
	}
	for _, tt := range []struct {
		in   []time.Duration
		want time.Duration
	}{
		{ms(5), 5 * time.Millisecond},
		{ms(5, 1, 4, 2, 3), 5 * time.Millisecond},                      // of 5, the slowest
		{ms(10, 9, 8, 7, 6, 5, 4, 3, 2, 1), 9 * time.Millisecond},      // of 10, the 9th
		{ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11), 10 * time.Millisecond}, // of 11, the 10th
	} {
		if got := p90(tt.in); got != tt.want {
			t.Errorf("p90(%v) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestParseJSONLogLiveUpdate(t *testing.T) {
	timing := line{text: `{"level":"debug","ts":"2026-12-04T23:34:11.42Z","msg":"sync timing","service":"web","decide":0.00025,"plan":0.0096,"copy":0.1513}`}
	parseJSONLog(&timing)
	if timing.msg != "sync timing" || timing.decide != 250*time.Microsecond || timing.plan != 9600*time.Microsecond || timing.cpy != 151300*time.Microsecond {
		t.Errorf("sync timing parsed as %+v", timing)
	}
	res := line{text: `{"level":"info","ts":"2026-12-04T23:34:11.43Z","msg":"result","service":"web","action":"sync","result":"synced to /www/index.html","took":0.162,"container_paths":["/www/index.html"]}`}
	parseJSONLog(&res)
	if res.msg != "result" || res.action != "sync" || res.took != 162*time.Millisecond {
		t.Errorf("result parsed as %+v", res)
	}
	// A field of an unexpected type costs only that field.
	odd := line{text: `{"msg":"result","took":"soon","action":["x"]}`}
	parseJSONLog(&odd)
	if odd.msg != "result" || odd.took != 0 || odd.action != "" {
		t.Errorf("odd line parsed as %+v", odd)
	}
}

func TestLiveOwnPart(t *testing.T) {
	x := liveResult{runs: 2, timed: 2,
		work:   []time.Duration{quietWindow + 2*time.Millisecond, quietWindow + 5*time.Millisecond},
		decide: []time.Duration{time.Millisecond, time.Millisecond},
		plan:   []time.Duration{3 * time.Millisecond, 10 * time.Millisecond},
		copy:   []time.Duration{140 * time.Millisecond, 300 * time.Millisecond}}
	got := x.own()
	if len(got) != 2 || got[0] != 6*time.Millisecond || got[1] != 16*time.Millisecond {
		t.Errorf("own = %v, want [6ms 16ms]: the wake-up beyond the window, decide and plan, never the copy", got)
	}
	x.timed = 1
	if got := x.own(); got != nil {
		t.Errorf("own with a run lacking its sync timing line = %v, want nil", got)
	}
}
