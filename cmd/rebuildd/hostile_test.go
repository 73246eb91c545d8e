package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// controlBytes must never reach a terminal from the project's files: ESC
// (colours, clears, titles), CR (overwrites a line), BEL, an 8-bit CSI,
// and a bidi override (reorders what is shown).
var controlBytes = []string{"\x1b", "\r", "\x07", "\x9b", "\u202e"}

func assertPrintable(t *testing.T, what, out string) {
	t.Helper()
	for _, b := range controlBytes {
		if strings.Contains(out, b) {
			t.Errorf("%s holds %q raw:\n%q", what, b, out)
		}
	}
}

// TestControlBytesEscaped: file names and Dockerfile text with control
// bytes are printed escaped by explain and advise, and in the one-line
// message of bad input.
func TestControlBytesEscaped(t *testing.T) {
	evil := "ev\x1b]0;pwned\x07il\r\u202e.txt"
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{
		"compose.yaml": "services:\n  api:\n    build: .\n",
		"Dockerfile":   "FROM scratch\nCOPY . /app\n",
		evil:           "x",
	})
	t.Chdir(dir)
	for _, args := range [][]string{{"explain", "--path", evil}, {"advise"}} {
		var out, errb bytes.Buffer
		code := run(context.Background(), args, &out, &errb)
		if code != exitOK && !(args[0] == "advise" && code == exitFailed) {
			t.Fatalf("%q: exit %d: %s", args, code, errb.String())
		}
		assertPrintable(t, args[0]+" stdout", out.String())
		assertPrintable(t, args[0]+" stderr", errb.String())
		if args[0] == "explain" && !strings.Contains(out.String(), `ev\x1b]0;pwned\x07il\r\u202e.txt`) {
			t.Errorf("explain does not show the path escaped:\n%s", out.String())
		}
	}

	// Bad input quoting a hostile instruction.
	must(t, os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM scratch\n\x1b[2JRUNN\x9b echo\n"), 0o644))
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"explain"}, &out, &errb); code != exitUsage {
		t.Fatalf("exit %d, want %d: %s", code, exitUsage, errb.String())
	}
	assertPrintable(t, "bad-input message", errb.String())
	if !strings.Contains(errb.String(), "Dockerfile:2") {
		t.Errorf("message %q does not name Dockerfile:2", errb.String())
	}
}

// TestPathLongerThanPathMax: a path past PATH_MAX gets a short message, not
// the path several times over.
func TestPathLongerThanPathMax(t *testing.T) {
	long := filepath.Join(t.TempDir(), strings.Repeat(strings.Repeat("a", 200)+"/", 25), "compose.yaml")
	for _, args := range [][]string{
		{"explain", "-f", long},
		{"explain", "-c", long},
		{"--check", "--state-dir", long},
	} {
		dir := t.TempDir()
		writeTree(t, dir, map[string]string{"compose.yaml": "services:\n  api:\n    build: .\n", "Dockerfile": "FROM scratch\n"})
		t.Chdir(dir)
		var out, errb bytes.Buffer
		code := run(context.Background(), args, &out, &errb)
		msg := errb.String()
		if code == exitOK || len(msg) > 600 || !strings.Contains(msg, "bytes)") {
			t.Errorf("%s %s: exit %d, %d-byte message:\n%.800s", args[0], args[1], code, len(msg), msg)
		}
	}
}
