package humanlog

import (
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/rebuildd/rebuildd/docker"
)

// fakeNow is a settable clock.
type fakeNow struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeNow) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeNow) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newTestScreen(width int, color bool) (*Screen, *FakeTerminal, *fakeNow) {
	term := &FakeTerminal{Width: width}
	clk := &fakeNow{t: time.Date(2026, 12, 4, 14, 3, 9, 0, time.UTC)}
	return NewScreen(term, Options{Color: color}, clk.Now, func() int { return term.Width }), term, clk
}

func wantRows(t *testing.T, term *FakeTerminal, want ...string) {
	t.Helper()
	if err := term.Err(); err != nil {
		t.Fatal(err)
	}
	if got := term.Rows(); (len(got) > 0 || len(want) > 0) && !reflect.DeepEqual(got, want) {
		t.Fatalf("screen:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestScreenStatusLines follows one build and one recreate the way a
// person sees them: nothing for the first second, then a status line per
// service whose step and clock move in place, erased around every log
// line, gone when the command ends.
func TestScreenStatusLines(t *testing.T) {
	for _, color := range []bool{false, true} {
		t.Run(fmt.Sprintf("color=%v", color), func(t *testing.T) {
			s, term, clk := newTestScreen(80, color)
			fmt.Fprint(s, "14:03:09 api  deps.txt -> deps (RUN npm ci, Dockerfile:5) -> rebuild\n")
			s.Begin("api", docker.PhaseBuild)
			s.Step("api", docker.Step{N: 1, Total: 7, Text: "FROM node:22"})
			clk.Add(500 * time.Millisecond)
			s.Tick()
			wantRows(t, term, "14:03:09 api  deps.txt -> deps (RUN npm ci, Dockerfile:5) -> rebuild")

			clk.Add(700 * time.Millisecond)
			s.Step("api", docker.Step{N: 3, Total: 7, Text: "RUN npm ci"})
			wantRows(t, term, "14:03:09 api  deps.txt -> deps (RUN npm ci, Dockerfile:5) -> rebuild",
				"         api  building [3/7] RUN npm ci  1s")

			s.Begin("web", docker.PhaseRecreate)
			clk.Add(11 * time.Second)
			s.Tick()
			wantRows(t, term, "14:03:09 api  deps.txt -> deps (RUN npm ci, Dockerfile:5) -> rebuild",
				"         api  building [3/7] RUN npm ci  12s",
				"         web  recreating  11s")

			fmt.Fprint(s, "14:03:21 docs  index.html -> source (COPY . ., Dockerfile:3) -> rebuild\n")
			wantRows(t, term, "14:03:09 api  deps.txt -> deps (RUN npm ci, Dockerfile:5) -> rebuild",
				"14:03:21 docs  index.html -> source (COPY . ., Dockerfile:3) -> rebuild",
				"         api  building [3/7] RUN npm ci  12s",
				"         web  recreating  11s")

			s.End("web")
			s.End("api")
			fmt.Fprint(s, "14:03:22 api  rebuilt in 13.0s\n")
			wantRows(t, term, "14:03:09 api  deps.txt -> deps (RUN npm ci, Dockerfile:5) -> rebuild",
				"14:03:21 docs  index.html -> source (COPY . ., Dockerfile:3) -> rebuild",
				"14:03:22 api  rebuilt in 13.0s")
		})
	}
}

// TestScreenFitsWidth: a status line is cut to the terminal's width, so it
// never wraps (a wrapped row would survive the erase).
func TestScreenFitsWidth(t *testing.T) {
	s, term, clk := newTestScreen(50, true)
	s.Begin("api", docker.PhaseBuild)
	s.Step("api", docker.Step{Stage: "deps", N: 3, Total: 7, Text: runInstruction})
	clk.Add(75 * time.Second)
	s.Tick()
	wantRows(t, term, "         api  building [deps 3/7] RUN mkd…  1m15s")
	term.Width = 40 // the instruction goes first, then the step
	s.Tick()
	wantRows(t, term, "         api  building [deps…  1m15s")
	s.Close()
	wantRows(t, term)
}

// TestScreenConcurrent has several services' status lines and log lines
// written at once (run with -race): every log line arrives whole, in one
// row, and the status lines are gone once the commands end.
func TestScreenConcurrent(t *testing.T) {
	s, term, clk := newTestScreen(100, true)
	services := []string{"api", "web", "docs", "worker"}
	var wg sync.WaitGroup
	for _, svc := range services {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.Begin(svc, docker.PhaseBuild)
			for i := 1; i <= 20; i++ {
				s.Step(svc, docker.Step{N: i, Total: 20, Text: "RUN step"})
				fmt.Fprintf(s, "14:03:09 %s  line %d\n", svc, i)
				clk.Add(100 * time.Millisecond)
				s.Tick()
			}
			s.End(svc)
		}()
	}
	wg.Wait()
	rows := term.Rows()
	if err := term.Err(); err != nil {
		t.Fatal(err)
	}
	if len(rows) != 80 {
		t.Fatalf("%d rows, want the 80 log lines alone:\n%s", len(rows), strings.Join(rows, "\n"))
	}
	seen := map[string]bool{}
	for _, r := range rows {
		var svc string
		var n int
		if _, err := fmt.Sscanf(r, "14:03:09 %s  line %d", &svc, &n); err != nil || seen[r] {
			t.Fatalf("garbled or repeated row %q", r)
		}
		seen[r] = true
	}
}

// TestLogProgress: off a terminal, each step is one "progress" line with
// the time since its command began.
func TestLogProgress(t *testing.T) {
	core, logs := observer.New(zap.InfoLevel)
	clk := &fakeNow{t: time.Date(2026, 12, 4, 14, 3, 9, 0, time.UTC)}
	p := LogProgress(zap.New(core), clk.Now)
	p.Begin("api", docker.PhaseBuild)
	clk.Add(2 * time.Second)
	p.Step("api", docker.Step{Stage: "dev", N: 3, Total: 7, Text: "RUN npm ci"})
	p.End("api")
	p.Begin("api", docker.PhaseRecreate) // no steps: no lines
	p.End("api")
	all := logs.All()
	if len(all) != 1 || all[0].Message != "progress" {
		t.Fatalf("lines %v, want one progress line", all)
	}
	want := map[string]any{"service": "api", "phase": "building", "stage": "dev", "step": int64(3), "steps": int64(7),
		"instruction": "RUN npm ci", "elapsed": 2 * time.Second}
	if got := all[0].ContextMap(); !reflect.DeepEqual(got, want) {
		t.Errorf("fields %v, want %v", got, want)
	}
}

func TestCut(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    int
		want string
	}{
		{"RUN npm ci", 60, "RUN npm ci"},
		{"RUN  mkdir -p /x \\\n  && ls", 60, "RUN mkdir -p /x \\ && ls"},
		{runInstruction, 60, "RUN mkdir -p /www/node_modules && while read -r dep; do […"},
		{"COPY --from=build /app/dist/a-very-long-file-name-without-spaces.js ./", 30, "COPY --from=build /app/dist/a…"}, // no word ends near
		{strings.Repeat("x", 40), 10, "xxxxxxxxx…"},
		{"日本語のファイル名.txt", 5, "日本語のフ…"[:len("日本語の")] + "…"},
	} {
		if got := Cut(tc.in, tc.n); got != tc.want {
			t.Errorf("Cut(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
		if n := len([]rune(Cut(tc.in, tc.n))); n > tc.n {
			t.Errorf("Cut(%q, %d) is %d characters", tc.in, tc.n, n)
		}
	}
}

// Build output streamed with --verbose reaches the terminal escaped, above
// the status lines.
func TestEscapeLinesUnderStatus(t *testing.T) {
	s, term, clk := newTestScreen(80, false)
	s.Begin("api", docker.PhaseBuild)
	clk.Add(2 * time.Second)
	out := EscapeLines(s)
	fmt.Fprint(out, "api | \x1b[31mred\x1b[0m\x1b[2A\r\n")
	fmt.Fprint(out, "api | two\napi | three\n")
	wantRows(t, term, `api | \x1b[31mred\x1b[0m\x1b[2A\r`, "api | two", "api | three", "         api  building  2s")
}
