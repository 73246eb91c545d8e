package docker

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The answer of `version` is kept, and asked again whenever the command,
// the wrapper, the docker-compose on PATH or the plugin changes.
func TestComposeFlavorCache(t *testing.T) {
	bin, cfg, state := t.TempDir(), t.TempDir(), t.TempDir()
	t.Setenv("PATH", bin)
	t.Setenv("DOCKER_CONFIG", cfg)
	runs := filepath.Join(state, "runs")
	exe := func(dir, name, body string) {
		t.Helper()
		os.MkdirAll(dir, 0o755)
		tmp := filepath.Join(dir, "."+name)
		if err := os.WriteFile(tmp, []byte(body), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil { // a new inode, as installers do
			t.Fatal(err)
		}
	}
	// The wrapper logs each run, then answers like the Compose it wraps.
	wrapper := func(version string) string {
		return "#!/bin/sh\necho run >> " + runs + "\necho " + version + "\n"
	}
	exe(bin, "compose-wrapper", wrapper("v2.40.3"))
	exe(bin, "other-wrapper", wrapper("1.29.2"))
	exe(bin, "docker", "#!/bin/sh\nexit 9\n")
	cache := FlavorCachePath(state)
	count := func() int {
		b, _ := os.ReadFile(runs)
		return strings.Count(string(b), "run")
	}
	steps := []struct {
		name    string
		change  func()
		command string
		v1      bool
		runs    int // total runs of a wrapper so far
	}{
		{"first run asks", func() {}, "compose-wrapper", false, 1},
		{"second run is cached", func() {}, "compose-wrapper", false, 1},
		{"compose_command changed", func() {}, "other-wrapper", true, 2},
		{"back to the first command", func() {}, "compose-wrapper", false, 3},
		{"cached again", func() {}, "compose-wrapper", false, 3},
		{"wrapper edited to wrap v1", func() { exe(bin, "compose-wrapper", wrapper("1.29.2 ")) }, "compose-wrapper", true, 4},
		{"docker-compose installed", func() { exe(bin, "docker-compose", "#!/bin/sh\n") }, "compose-wrapper", true, 5},
		{"docker-compose replaced", func() { exe(bin, "docker-compose", "#!/bin/sh\n# v2\n") }, "compose-wrapper", true, 6},
		{"plugin installed", func() { exe(filepath.Join(cfg, "cli-plugins"), "docker-compose", "#!/bin/sh\n") }, "compose-wrapper", true, 7},
		{"plugin upgraded", func() { exe(filepath.Join(cfg, "cli-plugins"), "docker-compose", "#!/bin/sh\n#\n") }, "compose-wrapper", true, 8},
		{"docker CLI upgraded", func() { exe(bin, "docker", "#!/bin/sh\nexit 8\n") }, "compose-wrapper", true, 9},
		{"nothing changed", func() {}, "compose-wrapper", true, 9},
	}
	for _, s := range steps {
		s.change()
		cli, err := DetectComposeCached(context.Background(), []string{s.command}, cache)
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if cli.V1 != s.v1 || count() != s.runs {
			t.Errorf("%s: v1 = %v after %d runs; want %v after %d", s.name, cli.V1, count(), s.v1, s.runs)
		}
	}
}

// A wrapper's data files (a log it appends to) do not invalidate the
// answer; scripts it is given do.
func TestFlavorKeyFollowsScriptsNotData(t *testing.T) {
	dir := t.TempDir()
	script, data := filepath.Join(dir, "compose.sh"), filepath.Join(dir, "stamps")
	os.WriteFile(script, []byte("#!/bin/sh\n"), 0o644) // not executable, still a script
	os.WriteFile(data, []byte("1\n"), 0o644)
	cmd := []string{"sh", script, "--log", data}
	key := flavorKey(cmd, "/bin/sh")
	os.WriteFile(data, []byte("1\n2\n"), 0o644)
	if flavorKey(cmd, "/bin/sh") != key {
		t.Error("a data file's change invalidated the answer")
	}
	os.WriteFile(script, []byte("#!/bin/sh\nexec docker-compose \"$@\"\n"), 0o644)
	if flavorKey(cmd, "/bin/sh") == key {
		t.Error("editing the script kept the answer")
	}
}

// TestInspectComposeNeverRuns: for the modes that change nothing, a
// command from a project file is never started; its flavour comes from
// the cache when a building mode left one, else from its file, else v2.
func TestInspectComposeNeverRuns(t *testing.T) {
	bin, state := t.TempDir(), t.TempDir()
	t.Setenv("PATH", bin)
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	runs := filepath.Join(state, "runs")
	script := "#!/bin/sh\necho run >> " + runs + "\necho 1.29.2\n"
	if err := os.WriteFile(filepath.Join(bin, "docker-compose"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	cache := FlavorCachePath(state)
	cli, err := InspectCompose(context.Background(), []string{"docker-compose"}, cache)
	if _, rerr := os.Stat(runs); err != nil || rerr == nil || cli.V1 {
		t.Fatalf("InspectCompose: %+v, %v; ran: %v; want v2 assumed and nothing run", cli, err, rerr == nil)
	}
	if cli, err = DetectComposeCached(context.Background(), []string{"docker-compose"}, cache); err != nil || !cli.V1 {
		t.Fatalf("DetectComposeCached: %+v, %v", cli, err)
	}
	os.Remove(runs)
	if cli, err = InspectCompose(context.Background(), []string{"docker-compose"}, cache); err != nil || !cli.V1 {
		t.Errorf("InspectCompose after a building mode asked: %+v, %v; want the cached v1", cli, err)
	}
	if _, err := os.Stat(runs); err == nil {
		t.Error("InspectCompose ran the command")
	}
}

// TestKnownFlavor: a Go binary is Compose v2; another ELF named
// docker-compose is v1's PyInstaller bundle; a script says nothing.
func TestKnownFlavor(t *testing.T) {
	self, err := os.Executable() // a Go binary
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	elf := filepath.Join(dir, "docker-compose")
	sh, err := os.ReadFile("/bin/sh")
	if err != nil || len(sh) < 4 || string(sh[:4]) != "\x7fELF" {
		t.Skip("no ELF /bin/sh to stand in for a PyInstaller bundle")
	}
	os.WriteFile(elf, sh, 0o755)
	wrapper := filepath.Join(t.TempDir(), "docker-compose")
	os.WriteFile(wrapper, []byte("#!/bin/sh\nexec docker compose \"$@\"\n"), 0o755)
	for _, tc := range []struct {
		name      string
		command   []string
		path      string
		v1, known bool
	}{
		{"Go binary", []string{"docker-compose"}, self, false, true},
		{"other ELF", []string{"docker-compose"}, elf, true, true},
		{"shell wrapper", []string{"docker-compose"}, wrapper, false, false},
		{"podman compose", []string{"podman", "compose"}, self, false, false},
	} {
		if v1, known := knownFlavor(tc.command, tc.path); v1 != tc.v1 || known != tc.known {
			t.Errorf("%s: v1 %v known %v, want %v %v", tc.name, v1, known, tc.v1, tc.known)
		}
	}
}
