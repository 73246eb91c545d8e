// Package examples holds the bundled example stack (stack/) and the
// sidecar snippet (sidecar/). Its test runs the README's run command on a
// clean checkout against the real engine.
package examples

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rebuildd/rebuildd/internal/e2e"
)

// readmeCommand is the README's run command, word for word.
var readmeCommand = []string{"go", "run", "./cmd/rebuildd", "--once", "-f", "examples/stack/compose.yaml"}

// runTimeout bounds one run of the README command: compiling rebuildd
// (seconds with a warm build cache, a few minutes cold on 2 cores) plus
// four small image builds.
const runTimeout = 8 * time.Minute

// serveTimeout: a busybox httpd container serves within a second here;
// 30 s covers a loaded machine.
const serveTimeout = 30 * time.Second

// TestReadmeRunCommand runs the README's command in a fresh clone of the
// repository (what a newcomer has), with the local base image and free
// ports, and checks it exits 0 with every example service serving; then
// `--check` finds nothing stale.
func TestReadmeRunCommand(t *testing.T) {
	e2e.Require(t)
	base := e2e.BaseImage(t)
	e2e.Composes(t) // skip (or fail in CI) without a Compose CLI
	root := checkout(t)
	name := "rbtest" + randHex(5)
	ports := map[string]int{"API_PORT": e2e.FreePort(t), "WEB_PORT": e2e.FreePort(t), "DOCS_PORT": e2e.FreePort(t), "MIRROR_PORT": e2e.FreePort(t)}
	env := []string{"REBUILDD_BASE=" + base, "COMPOSE_PROJECT_NAME=" + name, "XDG_CACHE_HOME=" + t.TempDir(),
		"GOCACHE=" + goEnv(t, "GOCACHE"), "GOMODCACHE=" + goEnv(t, "GOMODCACHE")}
	for k, v := range ports {
		env = append(env, fmt.Sprintf("%s=%d", k, v))
	}
	t.Cleanup(func() { down(t, root, name, env) })

	if code, out := run(t, root, env, readmeCommand...); code != 0 {
		t.Fatalf("%s: exit %d, want 0\n%s", strings.Join(readmeCommand, " "), code, out)
	}
	for _, s := range []struct {
		port       string
		path, want string
	}{
		{"API_PORT", "/index.html", "api v1"},
		{"API_PORT", "/deps.html", "left-pad"}, // the deps layer's RUN ran
		{"WEB_PORT", "/index.html", "web v1"},
		{"DOCS_PORT", "/index.html", "docs v1"},
		{"MIRROR_PORT", "/index.html", "docs v1"},
	} {
		e2e.WaitServing(t, e2e.URL(ports[s.port], s.path), s.want, serveTimeout)
	}
	check := []string{"go", "run", "./cmd/rebuildd", "--check", "-f", "examples/stack/compose.yaml"}
	if code, out := run(t, root, env, check...); code != 0 {
		t.Errorf("%s right after --once: exit %d, want 0 (nothing stale)\n%s", strings.Join(check, " "), code, out)
	}
}

// checkout is a fresh clone of the repository's committed state, so the
// test sees what a newcomer gets (a file left uncommitted fails it); the
// working tree itself when it is not a git repository.
func checkout(t *testing.T) string {
	t.Helper()
	repo, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := exec.Command("git", "-C", repo, "rev-parse", "--git-dir").Output(); err != nil {
		t.Logf("%s is not a git repository: running the command in it as it is", repo)
		return repo
	}
	dir := filepath.Join(t.TempDir(), "rebuildd")
	if out, err := exec.Command("git", "clone", "-q", repo, dir).CombinedOutput(); err != nil {
		t.Fatalf("git clone %q: %v\n%s", repo, err, out)
	}
	return dir
}

// run runs argv in dir with env added and returns the exit code and the
// combined output.
func run(t *testing.T, dir string, env []string, argv ...string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), out.String()
	}
	if err != nil {
		t.Fatalf("run %q: %v\n%s", argv, err, out.String())
	}
	return 0, out.String()
}

// down removes the example project: containers, anonymous volumes, the
// images it built (the shared docs image has a name of its own), and
// whatever a failed `down` left behind with the project's label.
func down(t *testing.T, root, name string, env []string) {
	t.Helper()
	c := e2e.Composes(t)[0]
	argv := append(append([]string{}, c.Command...), "-f", "examples/stack/compose.yaml", "down", "-v", "--rmi", "local", "--remove-orphans", "-t", "0")
	if code, out := run(t, root, append(env, c.Env...), argv...); code != 0 {
		t.Logf("cleanup: %s: exit %d\n%s", strings.Join(argv, " "), code, out)
	}
	label := "label=com.docker.compose.project=" + name
	if ids := strings.Fields(e2e.Docker(t, "ps", "-aq", "--filter", label)); len(ids) > 0 {
		e2e.TryDocker(append([]string{"rm", "-f", "-v"}, ids...)...)
	}
	if ids := strings.Fields(e2e.Docker(t, "network", "ls", "-q", "--filter", label)); len(ids) > 0 {
		e2e.TryDocker(append([]string{"network", "rm"}, ids...)...)
	}
	refs := strings.Fields(e2e.Docker(t, "image", "ls", "--format", "{{.Repository}}:{{.Tag}}", "--filter", "reference="+name+"*"))
	if len(refs) > 0 {
		e2e.TryDocker(append([]string{"image", "rm"}, refs...)...)
	}
}

func goEnv(t *testing.T, key string) string {
	t.Helper()
	out, err := exec.Command("go", "env", key).Output()
	if err != nil {
		t.Fatalf("go env %s: %v", key, err)
	}
	return strings.TrimSpace(string(out))
}

func randHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
