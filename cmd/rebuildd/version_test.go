package main

import (
	"bytes"
	"context"
	"regexp"
	"runtime"
	"strings"
	"testing"
)

// runArgs runs the CLI in-process and returns the exit code and outputs.
func runArgs(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func TestVersion(t *testing.T) {
	for _, tc := range []struct{ baked, want string }{
		{"dev", "rebuildd dev (" + runtime.Version() + ", " + runtime.GOOS + "/" + runtime.GOARCH + ")\n"},
		{"v1.4.2", "rebuildd v1.4.2 (" + runtime.Version() + ", " + runtime.GOOS + "/" + runtime.GOARCH + ")\n"},
	} {
		old := version
		version = tc.baked
		code, out, errOut := runArgs(t, "version")
		version = old
		if code != exitOK || out != tc.want {
			t.Errorf("version with %q baked in: exit %d, %q (stderr %q); want 0, %q", tc.baked, code, out, errOut, tc.want)
		}
	}
	if code, _, _ := runArgs(t, "version", "extra"); code != exitUsage {
		t.Errorf("version with an argument: exit %d, want %d", code, exitUsage)
	}
}

// helpScreen is one terminal screen: the help must show whole, with its
// examples, without scrolling.
const helpScreen = 40

func TestHelpFitsOneScreen(t *testing.T) {
	code, out, _ := runArgs(t, "--help")
	if code != exitOK {
		t.Fatalf("--help: exit %d", code)
	}
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if len(lines) > helpScreen {
		t.Errorf("--help is %d lines, more than one screen (%d):\n%s", len(lines), helpScreen, out)
	}
	for _, want := range []string{"Examples:", "rebuildd --once", "--listen", "completion", "version", "status"} {
		if !strings.Contains(out, want) {
			t.Errorf("--help lacks %q:\n%s", want, out)
		}
	}
	for _, l := range lines {
		if len(l) > 130 {
			t.Errorf("--help line wider than a screen (%d columns): %q", len(l), l)
		}
	}
}

// TestCompletion checks cobra's default completion command is on: each
// shell's script names the command it completes.
func TestCompletion(t *testing.T) {
	for shell, want := range map[string]*regexp.Regexp{
		"bash":       regexp.MustCompile(`complete .*rebuildd`),
		"zsh":        regexp.MustCompile(`#compdef rebuildd`),
		"fish":       regexp.MustCompile(`complete -c rebuildd`),
		"powershell": regexp.MustCompile(`Register-ArgumentCompleter .*rebuildd`),
	} {
		code, out, errOut := runArgs(t, "completion", shell)
		if code != exitOK || !want.MatchString(out) {
			t.Errorf("completion %s: exit %d, script lacks %v (stderr %q)", shell, code, want, errOut)
		}
	}
}
