package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// dryWatch runs `rebuildd --dry-run` in watch mode in this process, on a
// real tree with the real watcher, and hands the test its stderr lines.
type dryWatch struct {
	t     *testing.T
	dir   string
	lines chan string
}

func startDryWatch(t *testing.T, format string) *dryWatch {
	t.Helper()
	dir := t.TempDir()
	for name, body := range map[string]string{
		"compose.yaml":  "services:\n  api:\n    build: .\n    image: rebuildd-dryrun-test-never-built\n",
		"rebuild.yaml":  "debounce: 1s\n", // an edit and its revert land in one batch
		"Dockerfile":    "FROM scratch\nCOPY deps.txt /deps.txt\nCOPY src /src\n",
		".dockerignore": "README.md\n",
		"deps.txt":      "left-pad\n",
		"src/a.txt":     "v1\n",
		"README.md":     "hi\n",
	} {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("REBUILDD_DEBUG", "1") // the debug "nothing to do" lines say each step is over
	// No engine: the dry run decides from its records alone, as on a
	// machine without Docker (and never finds the test's image missing).
	t.Setenv("DOCKER_HOST", "unix://"+filepath.Join(dir, "no-docker.sock"))
	ctx, cancel := context.WithCancel(context.Background())
	r, w := io.Pipe()
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"--dry-run", "--log-format", format, "--state-dir", t.TempDir(),
			"-f", filepath.Join(dir, "compose.yaml")}, io.Discard, w)
		w.Close()
	}()
	d := &dryWatch{t: t, dir: dir, lines: make(chan string, 1024)}
	go func() {
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			d.lines <- sc.Text()
		}
		close(d.lines)
	}()
	t.Cleanup(func() {
		cancel()
		if code := <-done; code != exitOK {
			t.Errorf("rebuildd --dry-run exited %d", code)
		}
		for range d.lines { // drain, so the writer is never stuck
		}
	})
	return d
}

// until returns the lines up to and including the first for which match
// holds, failing after a generous deadline (a hung watcher, not a timing
// assertion).
func (d *dryWatch) until(what string, match func(string) bool) []string {
	d.t.Helper()
	var got []string
	deadline := time.After(30 * time.Second)
	for {
		select {
		case l, ok := <-d.lines:
			if !ok {
				d.t.Fatalf("rebuildd ended before %s:\n%s", what, strings.Join(got, "\n"))
			}
			got = append(got, l)
			if match(l) {
				return got
			}
		case <-deadline:
			d.t.Fatalf("no %s within 30s:\n%s", what, strings.Join(got, "\n"))
		}
	}
}

func (d *dryWatch) write(rel, body string) {
	d.t.Helper()
	if err := os.WriteFile(filepath.Join(d.dir, rel), []byte(body), 0o644); err != nil {
		d.t.Fatal(err)
	}
}

// noChangeSteps are the edits that change no content: each must decide
// "nothing to do" and print nothing at info level.
func (d *dryWatch) noChangeSteps() []struct {
	name string
	do   func()
} {
	return []struct {
		name string
		do   func()
	}{
		{"touch", func() {
			now := time.Now()
			if err := os.Chtimes(filepath.Join(d.dir, "src/a.txt"), now, now); err != nil {
				d.t.Fatal(err)
			}
		}},
		{"save without change", func() { d.write("src/a.txt", "v1\n") }},
		{"edit and revert", func() { d.write("deps.txt", "is-even\n"); d.write("deps.txt", "left-pad\n") }},
	}
}

// TestDryRunWatchNoChangeNoRebuild is the dry-run watch test: a
// touch, a save without change and an edit and its revert each produce
// no "decision" line with action rebuild, and nothing at info level; a
// real edit after them does (the test can see one).
func TestDryRunWatchNoChangeNoRebuild(t *testing.T) {
	d := startDryWatch(t, "json")
	type entry struct {
		Level, Msg, Service, Action, Result string
	}
	parse := func(l string) entry {
		var e entry
		if err := json.Unmarshal([]byte(l), &e); err != nil {
			t.Fatalf("not a JSON line: %q", l)
		}
		return e
	}
	d.until(`"msg":"ready"`, func(l string) bool { return parse(l).Msg == "ready" })
	for _, step := range d.noChangeSteps() {
		step.do()
		lines := d.until(step.name+"'s end", func(l string) bool {
			e := parse(l)
			return e.Msg == "result" && e.Service == "api"
		})
		for _, l := range lines {
			e := parse(l)
			if e.Msg == "decision" && e.Action == "rebuild" {
				t.Errorf("%s: a rebuild decision: %s", step.name, l)
			}
			if e.Level != "debug" {
				t.Errorf("%s: a line at %s level: %s", step.name, e.Level, l)
			}
		}
	}
	d.write("src/a.txt", "v2\n")
	d.until("the real edit's rebuild decision", func(l string) bool {
		e := parse(l)
		return e.Msg == "decision" && e.Action == "rebuild" && e.Level == "info"
	})
}

// The same steps on the console a person reads: nothing but debug lines,
// then one decision line and one result line for the real edit.
func TestDryRunWatchConsole(t *testing.T) {
	d := startDryWatch(t, "console")
	d.until("ready", func(l string) bool { return strings.Contains(l, " ready: ") })
	for _, step := range d.noChangeSteps() {
		step.do()
		for _, l := range d.until(step.name+"'s end", func(l string) bool { return strings.Contains(l, "debug api  nothing to do") }) {
			if !strings.Contains(l, " debug ") {
				t.Errorf("%s: %q at info level", step.name, l)
			}
		}
	}
	d.write("src/a.txt", "v2\n")
	var info []string
	for _, l := range d.until("the real edit's result", func(l string) bool { return strings.Contains(l, "api  would rebuild (dry run)") }) {
		if !strings.Contains(l, " debug ") {
			info = append(info, l)
		}
	}
	want := []string{"api  src/a.txt -> source (COPY src /src, Dockerfile:3) -> rebuild", "api  would rebuild (dry run)"}
	if len(info) != len(want) {
		t.Fatalf("the real edit printed %d lines, want %d:\n%s", len(info), len(want), strings.Join(info, "\n"))
	}
	for i, w := range want {
		if !strings.HasSuffix(info[i], w) || strings.ContainsAny(info[i], "{}") {
			t.Errorf("line %q, want it to end %q and hold no field blob", info[i], w)
		}
	}
}
