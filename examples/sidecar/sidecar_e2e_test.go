// Package sidecar holds the sidecar compose snippet (compose.yaml) and its
// end-to-end test. The test has a package (and so a test binary and a
// go test timeout) of its own: it builds an image and waits for a whole
// stack, which does not fit beside cmd/rebuildd's other e2e tests in one
// binary's 10 minutes on a loaded 2-core machine.
package sidecar

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rebuildd/rebuildd/internal/e2e"
)

// The sidecar end to end: rebuildd in a FROM scratch image (the static
// binary, the Docker CLI, the Compose v2 plugin) running beside the bundled
// example stack with the socket mounted and the project at the same path.
// Compose v1 is a Python program and cannot go into a scratch image, so
// only v2 runs here.

// sidecarWait bounds one step of the sidecar test: the sidecar's first
// reconcile builds the four example services from cache and an edit is one
// build and one recreate, seconds each on an idle machine but over a
// minute in all when CI runs other packages' builds at the same time.
// Four minutes means it is stuck.
const sidecarWait = 4 * time.Minute

// exitUsage is rebuildd's exit code for bad usage or bad input.
const exitUsage = 2

// sidecarPoll is how often the test asks the sidecar or the stack again;
// it waits for other processes, so polling is the only way.
const sidecarPoll = 200 * time.Millisecond

func TestSidecarE2E(t *testing.T) {
	e2e.Require(t)
	base := e2e.BaseImage(t)
	v2 := composeV2(t)
	version := "e2e-" + randHex(4)
	image := buildSidecarImage(t, version)

	t.Run("version", func(t *testing.T) {
		out := e2e.Docker(t, "run", "--rm", image, "version")
		if !strings.HasPrefix(out, "rebuildd "+version+" (go1.") {
			t.Errorf("rebuildd version in the image printed %q, want the version baked in, %q", out, version)
		}
	})
	t.Run("edit on the host is served", func(t *testing.T) { testSidecarEdit(t, v2, base, image) })
	t.Run("wrong mount", func(t *testing.T) { testSidecarWrongMount(t, v2, base, image) })
}

// testSidecarEdit brings the example stack and the sidecar up with
// Compose, edits a source file on the host and waits for the api container
// to serve it: only the sidecar can have copied it in (a live update: the
// file is only COPYed, no RUN after it), and it then builds the image
// without recreating the container.
func testSidecarEdit(t *testing.T, c e2e.Compose, base, image string) {
	ports := map[string]int{"API_PORT": e2e.FreePort(t), "WEB_PORT": e2e.FreePort(t), "DOCS_PORT": e2e.FreePort(t), "MIRROR_PORT": e2e.FreePort(t)}
	p := e2e.NewProject(t, c, exampleFiles(t))
	env := fmt.Sprintf("REBUILDD_BASE=%s\nREBUILDD_IMAGE=%s\nCOMPOSE_FILE=compose.yaml:compose.sidecar.yaml\n", base, image)
	for k, v := range ports {
		env += fmt.Sprintf("%s=%d\n", k, v)
	}
	p.Write(".env", env)
	sidecarCompose(t, p, "up", "-d", "--build")
	api := e2e.URL(ports["API_PORT"], "/index.html")
	e2e.WaitServing(t, api, "api v1", sidecarWait)
	sidecar := p.ContainerName("rebuildd", 1)
	waitSidecarReady(t, sidecar)
	testHostRebuilddRefused(t, p, sidecar)

	since := time.Now()
	p.Write("api/src/index.html", "<h1>api v2</h1>\n")
	e2e.WaitServing(t, api, "api v2", sidecarWait)
	// The status endpoint follows: api idle again, its last result the
	// image's build from the synced files.
	waitSidecarStatus(t, sidecar, regexp.MustCompile(`(?m)^  api +idle .*image built from the synced files`))
	ev := p.Events(since)
	if ev.Creates("api") != 0 || ev.Creates("rebuildd") != 0 {
		t.Errorf("after the edit: %d creates of api, %d of rebuildd; want 0 and 0 (synced, not recreated; it never recreates itself)\nevents:\n%s",
			ev.Creates("api"), ev.Creates("rebuildd"), ev)
	}
	if body := e2e.Get(t, e2e.URL(ports["API_PORT"], "/deps.html")); !strings.Contains(body, "left-pad") {
		t.Errorf("api /deps.html = %q: the deps layer is missing from the rebuilt image", body)
	}
	if t.Failed() {
		out, _ := e2e.TryDocker("logs", sidecar)
		t.Logf("sidecar log:\n%s", out)
	}
}

// testHostRebuilddRefused: with the sidecar keeping the stack, a rebuildd
// started on the host for the same project (its own state dir) refuses,
// naming the sidecar's container: two of them raced on compose up (issue
// 17). The lock is an flock on the project directory, which the sidecar
// mounts at the same path.
func testHostRebuilddRefused(t *testing.T, p *e2e.Project, sidecar string) {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "rebuildd")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/rebuildd/rebuildd/cmd/rebuildd").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), sidecarWait)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--once", "--state-dir", t.TempDir())
	cmd.Dir, cmd.Env = p.Dir, append(os.Environ(), p.Env()...)
	out, err := cmd.CombinedOutput()
	if code := cmd.ProcessState.ExitCode(); code != 1 || !strings.Contains(string(out), "in container "+sidecar) {
		t.Errorf("host rebuildd beside the sidecar: exit %d (%v), want 1 naming container %s; output:\n%s", code, err, sidecar, out)
	}
}

// testSidecarWrongMount runs the image with the project mounted at another
// path: rebuildd must stop with exit 2 and print the volumes: line to use.
func testSidecarWrongMount(t *testing.T, c e2e.Compose, base, image string) {
	p := e2e.NewProject(t, c, exampleFiles(t))
	p.Write(".env", "REBUILDD_BASE="+base+"\n")
	name := p.Name + "-wrongmount"
	ctx, cancel := context.WithTimeout(context.Background(), sidecarWait)
	defer cancel()
	t.Cleanup(func() { e2e.TryDocker("rm", "-f", name) })
	cmd := exec.CommandContext(ctx, "docker", "run", "--name", name,
		"-v", "/var/run/docker.sock:/var/run/docker.sock", "-v", p.Dir+":/src", "-w", "/src",
		"-e", "COMPOSE_PROJECT_NAME="+p.Name, image, "--log-format", "json")
	out, err := cmd.CombinedOutput()
	code := -1
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	}
	// The lines to paste, each on a line of its own (a message escaped to
	// one line once printed them as \n).
	want := "\n      - " + p.Dir + ":" + p.Dir + "\n"
	if code != exitUsage || !strings.Contains(string(out), want) || !strings.Contains(string(out), "\n    working_dir: "+p.Dir) {
		t.Errorf("project mounted at /src: exit %d (%v), want %d with %q and the working_dir; output:\n%s", code, err, exitUsage, want, out)
	}
	// One volumes: entry covers the project and the contexts inside it.
	if n := strings.Count(string(out), "      - "); n != 1 {
		t.Errorf("the message offers %d volumes: entries, want 1; output:\n%s", n, out)
	}
}

// exampleFiles are examples/stack plus the sidecar snippet as
// compose.sidecar.yaml, read from the repository.
func exampleFiles(t *testing.T) map[string]string {
	t.Helper()
	files := map[string]string{}
	root := filepath.Join("..", "stack")
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		rel, _ := filepath.Rel(root, path)
		files[filepath.ToSlash(rel)] = string(b)
		return err
	})
	if err != nil {
		t.Fatalf("read the example: %v", err)
	}
	b, err := os.ReadFile("compose.yaml")
	if err != nil {
		t.Fatalf("read the sidecar snippet: %v", err)
	}
	files["compose.sidecar.yaml"] = string(b)
	return files
}

// sidecarCompose runs compose in the project as a user would in a shell
// there: PWD is the project directory (the snippet mounts ${PWD}), which
// exec does not set when the environment is given.
func sidecarCompose(t *testing.T, p *e2e.Project, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), sidecarWait)
	defer cancel()
	argv := append(append(append([]string{}, p.CLI.Command[1:]...), "-p", p.Name), args...)
	cmd := exec.CommandContext(ctx, p.CLI.Command[0], argv...)
	cmd.Dir = p.Dir
	cmd.Env = append(append(os.Environ(), p.Env()...), "PWD="+p.Dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v\n%s", p.CLI, strings.Join(args, " "), err, out)
	}
}

// waitSidecarReady asks the sidecar's own status command until it says
// ready, which also checks the healthcheck command works in the image.
func waitSidecarReady(t *testing.T, container string) {
	t.Helper()
	waitSidecarStatus(t, container, regexp.MustCompile(`^rebuildd ready`))
}

// waitSidecarStatus runs `rebuildd status` in the sidecar until it exits 0
// with output matching want.
func waitSidecarStatus(t *testing.T, container string, want *regexp.Regexp) {
	t.Helper()
	deadline := time.Now().Add(sidecarWait)
	for {
		out, err := e2e.TryDocker("exec", container, "rebuildd", "status", "--listen", "127.0.0.1:7878")
		if err == nil && want.MatchString(out) {
			return
		}
		if time.Now().After(deadline) {
			logs, _ := e2e.TryDocker("logs", container)
			t.Fatalf("sidecar status does not match %v after %s: %v\n%s\nsidecar log:\n%s", want, sidecarWait, err, out, logs)
		}
		time.Sleep(sidecarPoll)
	}
}

// composeV2 returns the Compose v2 CLI: the sidecar image carries its
// plugin binary.
func composeV2(t *testing.T) e2e.Compose {
	t.Helper()
	for _, c := range e2e.Composes(t) {
		if c.Name == "v2" {
			return c
		}
	}
	skipOrFailE2E(t, "e2e: the sidecar test needs the Compose v2 plugin (run scripts/install-test-deps.sh)")
	return e2e.Compose{}
}

func skipOrFailE2E(t *testing.T, msg string) {
	t.Helper()
	if e2e.Strict() {
		t.Fatalf("%s (%s=1 is set, so this is a failure, not a skip)", msg, e2e.StrictEnv)
	}
	t.Skip(msg)
}

func randHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// buildSidecarImage builds the sidecar image the way a user without a
// registry does, with scripts/build-sidecar-image.sh (the repository's
// Dockerfile needs golang and docker:cli images from a registry), tagged
// for this test and labelled so a machine's cleanup can tell it is a test
// image. The script imports the files (`docker import`): no builder, so no
// build cache for another test's cleanup or a prune to pull from under it.
// The image is kept from others' removal while the test runs and removed
// when it ends.
func buildSidecarImage(t *testing.T, version string) string {
	t.Helper()
	tag := "rebuildd-sidecar-test:" + randHex(5)
	ctx, cancel := context.WithTimeout(context.Background(), sidecarWait)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", filepath.Join("..", "..", "scripts", "build-sidecar-image.sh"),
		"-t", tag, "--version", version, "--label", "org.rebuildd.test.package=examples/sidecar")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("scripts/build-sidecar-image.sh: %v\n%s", e2e.Classify(err), stderr.String())
	}
	t.Cleanup(func() { e2e.TryDocker("image", "rm", "-f", tag) })
	if id := strings.TrimSpace(string(out)); !strings.HasPrefix(id, "sha256:") {
		t.Fatalf("scripts/build-sidecar-image.sh printed %q, want the image ID\n%s", id, stderr.String())
	}
	e2e.KeepImage(t, tag)
	return tag
}
