package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/rebuildd/rebuildd/config"
	"github.com/rebuildd/rebuildd/internal/e2e"
)

// A checkout must not run commands on the host (issue 17, item 2). Every
// command here writes a marker file when it runs; the modes that change
// nothing must leave no marker, whatever rebuild.yaml names.

// composeCommandProject writes a project whose rebuild.yaml has compose,
// and puts a docker-compose on PATH that leaves a marker when started. It
// returns the project directory and the marker's path.
func composeCommandProject(t *testing.T, compose string) (string, string) {
	t.Helper()
	dir, bin := t.TempDir(), t.TempDir()
	marker := filepath.Join(t.TempDir(), "ran")
	writeTree(t, dir, map[string]string{
		"compose.yaml": "services:\n  api:\n    build: .\n",
		"Dockerfile":   "FROM scratch\nCOPY . /app\n",
		"rebuild.yaml": strings.ReplaceAll(compose, "MARKER", marker),
	})
	fake := "#!/bin/sh\necho \"$0 $*\" >> " + marker + "\necho 2.40.0\n"
	must(t, os.WriteFile(filepath.Join(bin, "docker-compose"), []byte(fake), 0o755))
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	t.Setenv(config.EnvComposeCommand, "")
	os.Unsetenv(config.EnvComposeCommand)
	t.Chdir(dir)
	return dir, marker
}

// readOnlyModes are the modes that change nothing, each a command line and
// whether it needs an engine to get as far as the Compose CLI.
var readOnlyModes = []struct {
	name   string
	args   []string
	engine bool
}{
	{"explain", []string{"explain"}, false},
	{"advise", []string{"advise"}, false},
	{"check", []string{"--check"}, true},
	{"once dry-run", []string{"--once", "--dry-run"}, true},
	{"watch dry-run", []string{"--dry-run"}, false},
}

// TestReadOnlyModesRunNoProjectCommand: with a hostile compose_command
// (refused as bad input) and with a Compose CLI named in rebuild.yaml
// (accepted, never started), explain, advise, --check and --dry-run run
// nothing.
func TestReadOnlyModesRunNoProjectCommand(t *testing.T) {
	for _, rc := range []struct {
		name, yaml string
		codes      []int // the exit codes that say the mode ran to its end
	}{
		{"hostile", `compose_command: ["/bin/sh", "-c", "echo pwned >> MARKER; echo 2.40.0"]` + "\n", []int{exitUsage}},
		// --check: 3, stale (never built); explain, advise (1: a warning) and watch mode otherwise.
		{"a Compose CLI by name", "compose_command: docker-compose\n", []int{exitOK, exitFailed, exitStale}},
	} {
		for _, m := range readOnlyModes {
			t.Run(rc.name+"/"+m.name, func(t *testing.T) {
				if m.engine {
					e2e.Require(t) // before PATH changes: it asks the docker CLI
				}
				_, marker := composeCommandProject(t, rc.yaml)
				args := m.args
				if args[0] != "explain" && args[0] != "advise" { // they keep no state: no --state-dir
					args = append(args, "--state-dir", t.TempDir())
				}
				code, stderr := runMode(t, args)
				if !slices.Contains(rc.codes, code) || (rc.codes[0] == exitOK && strings.Contains(stderr, "rebuildd: ")) {
					t.Errorf("exit %d, want one of %v and no error; stderr: %s", code, rc.codes, stderr)
				}
				if b, err := os.ReadFile(marker); err == nil {
					t.Errorf("a command ran: %q\nstderr: %s", b, stderr)
				}
			})
		}
	}
}

// TestUserComposeCommandRuns is the control: the same docker-compose,
// named by the user, is started (its version asked) by explain, so the
// marker would show a run above.
func TestUserComposeCommandRuns(t *testing.T) {
	for _, how := range []string{"flag", "environment"} {
		t.Run(how, func(t *testing.T) {
			_, marker := composeCommandProject(t, `compose_command: ["/bin/sh", "-c", "echo pwned >> MARKER"]`+"\n")
			args := []string{"explain"}
			if how == "flag" {
				args = append(args, "--compose-command", "docker-compose")
			} else {
				t.Setenv(config.EnvComposeCommand, "docker-compose")
			}
			if code, stderr := runMode(t, args); code != exitOK {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			b, err := os.ReadFile(marker)
			if err != nil || !strings.Contains(string(b), "docker-compose version --short") || strings.Contains(string(b), "pwned") {
				t.Errorf("marker %q (%v): want the user's docker-compose asked for its version, and nothing of rebuild.yaml's", b, err)
			}
		})
	}
}

// runMode runs rebuildd with args; watch mode (--dry-run without --once)
// is stopped once it is ready, as Ctrl-C would.
func runMode(t *testing.T, args []string) (int, string) {
	t.Helper()
	if !(slices.Contains(args, "--dry-run") && !slices.Contains(args, "--once")) {
		var out, errb bytes.Buffer
		code := run(context.Background(), args, &out, &errb)
		return code, errb.String()
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan int, 1)
	go func() {
		code := run(ctx, append(args, "--log-format", "json"), io.Discard, pw)
		pw.Close()
		done <- code
	}()
	var seen strings.Builder
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		seen.WriteString(sc.Text() + "\n")
		if strings.Contains(sc.Text(), `"msg":"ready"`) {
			cancel()
		}
	}
	return <-done, seen.String()
}
