package main

import (
	"strings"
	"testing"
)

// Flags that do not belong together are bad usage (exit 2) with one line
// saying what to do, before anything is loaded or run; flags that do belong
// together get past the check (here to "no compose file", also exit 2).
func TestModeFlagsThatDoNotBelongTogether(t *testing.T) {
	t.Chdir(t.TempDir())
	noComposeFileEnv(t)
	for _, tc := range []struct {
		args []string
		want string // in stderr; "" : accepted, the project is what is missing
	}{
		{[]string{"--once", "--check"}, "give one of them"},
		{[]string{"--json"}, "--json prints the result of --once or --check"},
		{[]string{"--dry-run", "--json"}, "--json prints the result of --once or --check"},
		{[]string{"--check", "--dry-run"}, "--check never runs anything"},
		{[]string{"--once", "--no-initial"}, "--no-initial skips watch mode's start-up reconcile"},
		{[]string{"--check", "--poll"}, "--poll is how watch mode watches"},
		{[]string{"--once", "--listen", "127.0.0.1:7878"}, "--listen serves watch mode's status"},
		{[]string{"-q", "-v"}, "contradict"},
		{[]string{"--images"}, "--images says what --once and --check must find current"},
		{[]string{"--check", "--images", "--json"}, ""},
		{[]string{"--once", "--json"}, ""},
		{[]string{"--check", "--json"}, ""},
		{[]string{"--once", "--dry-run", "-v"}, ""},
		{[]string{"--dry-run", "--no-initial", "--poll"}, ""},
	} {
		code, out, errOut := runArgs(t, tc.args...)
		if code != exitUsage || out != "" {
			t.Errorf("%q: exit %d, stdout %q; want %d and nothing on stdout", tc.args, code, out, exitUsage)
		}
		if tc.want == "" {
			if !strings.Contains(errOut, "no compose file") {
				t.Errorf("%q: stderr %q, want the flags accepted and the missing compose file reported", tc.args, errOut)
			}
			continue
		}
		if !strings.Contains(errOut, tc.want) || strings.Count(strings.TrimSpace(errOut), "\n") > 0 {
			t.Errorf("%q: stderr %q, want one line with %q", tc.args, errOut, tc.want)
		}
	}
}

// Each subcommand's help shows its own flags only, and status describes
// --listen as the address it asks, not one it serves.
func TestSubcommandsShowTheirOwnFlags(t *testing.T) {
	for _, tc := range []struct {
		cmd        string
		want, lack []string
	}{
		{"version", nil, []string{"--listen", "--state-dir", "--file", "--log-format"}},
		{"completion", nil, []string{"--listen", "--state-dir", "--file", "--log-format"}},
		{"status", []string{"--listen", "the running rebuildd serves its status on"}, []string{"--state-dir", "--file", "serve /healthz"}},
		{"explain", []string{"--file", "--project-name", "--path", "--engine-api VERSION "}, []string{"--listen", "--state-dir", "--once"}},
		{"advise", []string{"--file", "--engine-api VERSION "}, []string{"--listen", "--state-dir", "--path"}},
	} {
		code, out, _ := runArgs(t, tc.cmd, "--help")
		if code != exitOK {
			t.Errorf("%s --help: exit %d", tc.cmd, code)
		}
		for _, w := range tc.want {
			if !strings.Contains(out, w) {
				t.Errorf("%s --help lacks %q:\n%s", tc.cmd, w, out)
			}
		}
		for _, l := range tc.lack {
			if strings.Contains(out, l) {
				t.Errorf("%s --help shows %q, which is not its flag:\n%s", tc.cmd, l, out)
			}
		}
	}
	if code, _, errOut := runArgs(t, "version", "--state-dir", "x"); code != exitUsage || !strings.Contains(errOut, "unknown flag: --state-dir") {
		t.Errorf("version --state-dir: exit %d, %q; want %d, unknown flag", code, errOut, exitUsage)
	}
}

// Shell completion offers the project's build services (loaded with the
// flags given so far), not those already typed, and no file names.
func TestCompletionOffersServices(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{
		"compose.yaml":   "services:\n  api:\n    build: ./api\n  web:\n    build: ./web\n  db:\n    image: postgres\n",
		"api/Dockerfile": "FROM scratch\n", "web/Dockerfile": "FROM scratch\n",
		"other.yaml": "services:\n  worker:\n    build: ./api\n",
	})
	t.Chdir(dir)
	noComposeFileEnv(t)
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{""}, []string{"api", "web"}},
		{[]string{"api", ""}, []string{"web"}},
		{[]string{"explain", ""}, []string{"api", "web"}},
		{[]string{"advise", "web", ""}, []string{"api"}},
		{[]string{"-f", "other.yaml", ""}, []string{"worker"}},
	} {
		code, out, _ := runArgs(t, append([]string{"__complete"}, tc.args...)...)
		var got []string
		for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
			name, _, _ := strings.Cut(l, "\t")
			if name != "" && !strings.HasPrefix(name, ":") && !isSubcommand(name) {
				got = append(got, name)
			}
		}
		if code != exitOK || strings.Join(got, " ") != strings.Join(tc.want, " ") || !strings.HasSuffix(strings.TrimSpace(out), ":4") {
			t.Errorf("complete %q: exit %d, services %q; want %q and no file completion (:4)\n%s", tc.args, code, got, tc.want, out)
		}
	}
}

func isSubcommand(name string) bool {
	switch name {
	case "advise", "completion", "explain", "help", "status", "version":
		return true
	}
	return false
}
