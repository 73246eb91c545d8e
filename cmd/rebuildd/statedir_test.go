package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/rebuildd/rebuildd/statedir"
)

// TestStateDirRefused drives the attack through the command line:
// --once with a state dir whose lock is a link to someone's file, or one
// everyone may write, stops before touching anything, names the fix, and
// leaves the link's target as it was.
func TestStateDirRefused(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T, state, target string)
		code  int
		want  []string
	}{
		{"symlinked lock", func(t *testing.T, state, target string) {
			must(t, os.Mkdir(state, 0o700))
			must(t, os.Symlink(target, filepath.Join(state, "lock")))
		}, exitFailed, []string{"lock", "symbolic link"}},
		{"world-writable", func(t *testing.T, state, target string) {
			must(t, os.Mkdir(state, 0o700))
			must(t, os.Chmod(state, 0o777))
			must(t, os.Symlink(target, filepath.Join(state, "lock")))
		}, exitUsage, []string{"writable by its group and everyone", "chmod go-w STATE"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeTree(t, dir, map[string]string{"compose.yaml": "services:\n  api:\n    build: .\n", "Dockerfile": "FROM scratch\nCOPY . /app\n"})
			target := filepath.Join(t.TempDir(), "precious")
			must(t, os.WriteFile(target, []byte("keep me\n"), 0o644))
			state := filepath.Join(t.TempDir(), "state")
			tc.setup(t, state, target)
			t.Chdir(dir)
			var out, errb bytes.Buffer
			code := run(context.Background(), []string{"--once", "--state-dir", state}, &out, &errb)
			if code != tc.code {
				t.Errorf("exit %d, want %d; stderr: %s", code, tc.code, errb.String())
			}
			for _, w := range tc.want {
				if w = strings.ReplaceAll(w, "STATE", state); !strings.Contains(errb.String(), w) {
					t.Errorf("stderr %q lacks %q", errb.String(), w)
				}
			}
			if b, err := os.ReadFile(target); err != nil || string(b) != "keep me\n" {
				t.Errorf("the link's target now holds %q (%v)", b, err)
			}
		})
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestSecondRebuilddRefused: while a rebuildd keeps the project (here this
// test process holds its lock), another with a different --state-dir
// refuses before building anything, naming the first by pid.
func TestSecondRebuilddRefused(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{"compose.yaml": "services:\n  api:\n    build: .\n", "Dockerfile": "FROM scratch\nCOPY . /app\n"})
	l, err := statedir.LockProject(dir, "first")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release()
	t.Chdir(dir)
	for _, mode := range [][]string{{"--once"}, {}} { // --once and watch mode
		var out, errb bytes.Buffer
		args := append(mode, "--state-dir", t.TempDir())
		code := run(context.Background(), args, &out, &errb)
		msg := errb.String()
		if code != exitFailed || !strings.Contains(msg, "another rebuildd (pid "+strconv.Itoa(os.Getpid())) || !strings.Contains(msg, "whatever its --state-dir") {
			t.Errorf("%q: exit %d, stderr %q; want exit 1 naming pid %d", args, code, msg, os.Getpid())
		}
	}
}
