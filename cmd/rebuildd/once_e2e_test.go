package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rebuildd/rebuildd/internal/e2e"
)

// These tests run the real rebuildd binary against a real engine with each
// installed Compose CLI. What Docker did is counted from the engine's event
// stream and image list (e2e.Project.Builds; container creates =
// recreations), never from rebuildd's own output.

// serveTimeout: a busybox httpd container starts in well under a second
// here; 30 s covers a loaded CI machine.
const serveTimeout = 30 * time.Second

// onceCommandTimeout bounds one rebuildd run: a build of a test image takes
// seconds.
const onceCommandTimeout = 3 * time.Minute

// onceRig is a throwaway project plus the state dir its rebuildd uses.
type onceRig struct {
	t     *testing.T
	bin   string
	p     *e2e.Project
	state string
	env   []string // extra environment for rebuildd
}

// result of one rebuildd run.
type result struct {
	code           int
	stdout, stderr string
}

// newOnceRig writes the project plus a rebuild.yaml that makes rebuildd use
// the Compose CLI under test (it would pick the v2 plugin first), and a
// file unique to the project: BuildKit's cache is shared by every project
// on the engine, and an image it finds there keeps its first Created time
// and makes no new image, which Project.Builds could not count.
func newOnceRig(t *testing.T, bin string, c e2e.Compose, files map[string]string) *onceRig {
	r := &onceRig{t: t, bin: bin, p: e2e.NewProject(t, c, files), state: t.TempDir()}
	r.p.Write("rebuild.yaml", onceComposeYAML(c))
	r.p.Write("site/id.txt", r.p.Name)
	return r
}

func onceComposeYAML(c e2e.Compose) string {
	b, _ := json.Marshal(c.Command) // a JSON list is a YAML flow sequence
	return "compose_command: " + string(b) + "\n"
}

// run runs rebuildd with args in the project directory.
func (r *onceRig) run(args ...string) result {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), onceCommandTimeout)
	defer cancel()
	full := append([]string{"-p", r.p.Name, "--state-dir", r.state, "--log-format", "json"}, args...)
	cmd := exec.CommandContext(ctx, r.bin, full...)
	cmd.Dir = r.p.Dir
	cmd.Env = append(append(os.Environ(), r.p.Env()...), r.env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	res := result{stdout: stdout.String(), stderr: stderr.String()}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		res.code = ee.ExitCode()
	case err != nil:
		r.t.Fatalf("run rebuildd: %v", err)
	}
	return res
}

// mustRun runs rebuildd and fails the test unless it exits with code.
func (r *onceRig) mustRun(code int, args ...string) result {
	r.t.Helper()
	res := r.run(args...)
	if res.code != code {
		r.t.Fatalf("rebuildd %s: exit %d, want %d %s\nstdout:\n%s\nstderr:\n%s",
			strings.Join(args, " "), res.code, code, e2e.Explain(res.stderr), res.stdout, res.stderr)
	}
	return res
}

// expectNoNewImage runs fn and checks that it made no image the project
// did not have and created no container: a build may have run (a cache
// hit, which Compose v1's builder reports as a tag), but it gave the same
// image.
func (r *onceRig) expectNoNewImage(what string, fn func()) {
	r.t.Helper()
	since := r.p.Mark()
	fn()
	if fresh, ev := r.p.NewImages(since), r.p.Events(since); len(fresh) != 0 || ev.Creates("") != 0 {
		r.t.Fatalf("%s: new images %v, %d container creates; want none\nevents:\n%s", what, fresh, ev.Creates(""), ev)
	}
}

func (r *onceRig) expect(what string, fn func(), builds, creates int) {
	r.t.Helper()
	since := r.p.Mark()
	fn()
	ev, nb := r.p.Events(since), r.p.Builds(since)
	if nb != builds || ev.Creates("") != creates {
		r.t.Fatalf("%s: %d builds, %d container creates; want %d, %d\nevents:\n%s",
			what, nb, ev.Creates(""), builds, creates, ev)
	}
}

// buildBinary builds rebuildd once for the whole e2e test (or benchmark)
// into its temp dir.
func buildBinary(t testing.TB) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "rebuildd")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// webFiles is a project whose web service serves site/ and does not use
// README.md.
func webFiles(base string, port int) map[string]string {
	return map[string]string{
		"compose.yaml":    e2e.HTTPService("web", ".", port),
		"Dockerfile":      "FROM " + base + "\nCOPY site /www\n" + e2e.HTTPDCmd,
		"site/index.html": "v1",
		"README.md":       "# readme",
	}
}

func TestOnceE2E(t *testing.T) {
	t.Parallel() // beside TestWatchE2E: own projects, own base images
	e2e.Require(t)
	composes := e2e.Composes(t)
	bin := buildBinary(t)
	for _, c := range composes {
		t.Run(c.Name, func(t *testing.T) {
			t.Parallel() // the two Compose CLIs side by side
			base := e2e.BaseImage(t)
			t.Run("lifecycle", func(t *testing.T) { testOnceLifecycle(t, bin, c, base) })
			t.Run("deps-renews-anon-volume", func(t *testing.T) { testOnceDepsVolume(t, bin, c, base) })
			t.Run("deps-keeps-data-volumes", func(t *testing.T) { testOnceDataVolumes(t, bin, c, base) })
			t.Run("next-deps-stage", func(t *testing.T) { testOnceNextDeps(t, bin, c, base) })
			t.Run("source-run-refreshes-volume", func(t *testing.T) { testOnceSourceRun(t, bin, c, base) })
			t.Run("built-by-hand", func(t *testing.T) { testOnceBuiltByHand(t, bin, c, base) })
			t.Run("hand-up-then-once", func(t *testing.T) { testOnceHandUp(t, bin, c, base) })
			t.Run("bind-mounted-edit", func(t *testing.T) { testOnceBindMount(t, bin, c, base) })
			t.Run("broken-build", func(t *testing.T) { testOnceBrokenBuild(t, bin, c, base) })
			t.Run("shared-image", func(t *testing.T) { testOnceSharedImage(t, bin, c, base) })
			t.Run("engine-unreachable", func(t *testing.T) { testOnceNoEngine(t, bin, c, base) })
		})
	}
}

// testOnceLifecycle: fresh build and start, then nothing for a second run,
// a touch, an unused README edit; a source edit is stale for --check and
// rebuilt by --once.
func testOnceLifecycle(t *testing.T, bin string, c e2e.Compose, base string) {
	port := e2e.FreePort(t)
	r := newOnceRig(t, bin, c, webFiles(base, port))
	url := e2e.URL(port, "/index.html")
	r.expect("fresh --once", func() { r.mustRun(0, "--once") }, 1, 1)
	e2e.WaitServing(t, url, "v1", serveTimeout)

	r.expect("second --once", func() {
		if out := r.mustRun(0, "--once").stdout; out != "web: up-to-date\n" {
			t.Errorf("second --once printed %q", out)
		}
	}, 0, 0)
	future := time.Now().Add(time.Minute)
	if err := os.Chtimes(r.p.Path("site/index.html"), future, future); err != nil {
		t.Fatal(err)
	}
	r.expect("--once after touch", func() { r.mustRun(0, "--once") }, 0, 0)
	r.p.Write("README.md", "# edited, unused by the build")
	r.expect("--once after README edit", func() { r.mustRun(0, "--once") }, 0, 0)
	r.mustRun(0, "--check")

	r.p.Write("site/index.html", "v2")
	r.expect("--check after source edit", func() {
		out := r.mustRun(3, "--check", "--json").stdout
		var doc onceJSON
		if err := json.Unmarshal([]byte(out), &doc); err != nil {
			t.Fatalf("--check --json: %v\n%s", err, out)
		}
		want := onceJSONService{Service: "web", Status: "stale", Reason: "site/index.html changed (source layer)"}
		if len(doc.Services) != 1 || doc.Services[0] != want {
			t.Errorf("--check --json printed %s", out)
		}
	}, 0, 0)
	r.expect("--once after source edit", func() { r.mustRun(0, "--once") }, 1, 1)
	e2e.WaitServing(t, url, "v2", serveTimeout)
	r.mustRun(0, "--check")
}

// testOnceDepsVolume: a deps edit rebuilds and renews the anonymous volume
// that holds the installed deps (the node_modules-volume trap).
func testOnceDepsVolume(t *testing.T, bin string, c e2e.Compose, base string) {
	port := e2e.FreePort(t)
	r := newOnceRig(t, bin, c, map[string]string{
		"compose.yaml": fmt.Sprintf("services:\n  web:\n    build: .\n    volumes:\n      - /deps\n    ports:\n      - \"127.0.0.1:%d:80\"\n", port),
		"Dockerfile": "FROM " + base + "\nCOPY deps.txt /src/\nRUN mkdir -p /deps && cp /src/deps.txt /deps/installed.txt\n" +
			"COPY site /www\n" + `CMD ["httpd", "-f", "-p", "80", "-h", "/"]` + "\n",
		"deps.txt":        "deps-v1",
		"site/index.html": "v1",
	})
	url := e2e.URL(port, "/deps/installed.txt")
	r.mustRun(0, "--once")
	e2e.WaitServing(t, url, "deps-v1", serveTimeout)
	r.p.Write("deps.txt", "deps-v2")
	out := r.mustRun(0, "--once", "--json").stdout
	if !strings.Contains(out, "deps.txt changed (deps layer, RUN mkdir -p /deps") {
		t.Errorf("reason does not name the deps file and its RUN: %s", out)
	}
	// Without --renew-anon-volumes compose would keep the old volume and
	// serve deps-v1 from it.
	e2e.WaitServing(t, url, "deps-v2", serveTimeout)
}

// testOnceBuiltByHand: `compose build` without up leaves a new image the
// container does not run, and no record of what it holds: --once builds
// once (from the cache: the same image) and recreates.
func testOnceBuiltByHand(t *testing.T, bin string, c e2e.Compose, base string) {
	port := e2e.FreePort(t)
	r := newOnceRig(t, bin, c, webFiles(base, port))
	r.mustRun(0, "--once")
	r.p.Write("site/index.html", "by hand "+r.p.Name)
	r.p.MustCompose("build", "web")
	since := r.p.Mark()
	out := r.mustRun(0, "--once").stdout
	// No record vouches for the hand-built image: one build (a cache hit,
	// no new image) finds it holds the current sources.
	want := "web: recreated (recorded: a build from the current sources gave the image already under the tag)\n"
	if out != want {
		t.Errorf("--once printed %q, want %q", out, want)
	}
	if fresh, ev := r.p.NewImages(since), r.p.Events(since); len(fresh) != 0 || ev.Creates("") != 1 {
		t.Fatalf("--once after a hand build: new images %v, %d creates; want none, 1\n%s", fresh, ev.Creates(""), ev)
	}
	e2e.WaitServing(t, e2e.URL(port, "/index.html"), "by hand", serveTimeout)
	r.expect("--once after that", func() { r.mustRun(0, "--once") }, 0, 0)
}

// testOnceHandUp: a stack brought up by hand with `compose up --build` is
// never called stale from timestamps: --check says unknown (exit 4),
// --once builds once from the cache (same image, nothing recreated) and
// records it, and --check then says up to date.
func testOnceHandUp(t *testing.T, bin string, c e2e.Compose, base string) {
	port := e2e.FreePort(t)
	r := newOnceRig(t, bin, c, webFiles(base, port))
	r.p.MustCompose("up", "-d", "--build")
	e2e.WaitServing(t, e2e.URL(port, "/index.html"), "v1", serveTimeout)
	image := r.p.ContainerImage("web", 1)
	r.expect("--check with no record", func() {
		res := r.mustRun(4, "--check")
		if !strings.HasPrefix(res.stdout, "web: unknown (no record of what image") {
			t.Errorf("--check printed %q", res.stdout)
		}
	}, 0, 0)
	r.expectNoNewImage("--once with no record", func() {
		out := r.mustRun(0, "--once").stdout
		if out != "web: up-to-date (recorded: a build from the current sources gave the image the containers run)\n" {
			t.Errorf("--once printed %q", out)
		}
	})
	if after := r.p.ContainerImage("web", 1); after != image {
		t.Errorf("container image changed from %s to %s", image, after)
	}
	r.expect("--check after --once", func() { r.mustRun(0, "--check") }, 0, 0)
}

// testOnceBindMount: an edit a bind mount delivers is up to date for
// --check and --once (no build, no recreate: the container already serves
// it); --check --images says the image is stale.
func testOnceBindMount(t *testing.T, bin string, c e2e.Compose, base string) {
	port := e2e.FreePort(t)
	files := webFiles(base, port)
	files["compose.yaml"] = fmt.Sprintf("services:\n  web:\n    build: .\n    volumes:\n      - ./site:/www\n    ports:\n      - \"127.0.0.1:%d:80\"\n", port)
	r := newOnceRig(t, bin, c, files)
	url := e2e.URL(port, "/index.html")
	r.mustRun(0, "--once")
	e2e.WaitServing(t, url, "v1", serveTimeout)
	r.p.Write("site/index.html", "v2")
	e2e.WaitServing(t, url, "v2", serveTimeout) // through the bind mount
	r.expect("--check and --once after a bind-mounted edit", func() {
		res := r.mustRun(0, "--check")
		if !strings.Contains(res.stdout, "web: up-to-date (changed source files are live in the containers (bind-mounted: ./site:/www)") {
			t.Errorf("--check printed %q", res.stdout)
		}
		r.mustRun(0, "--once")
	}, 0, 0)
	r.expect("--check --images", func() {
		res := r.mustRun(3, "--check", "--images")
		if !strings.Contains(res.stdout, "web: stale (site/index.html changed (source layer))") {
			t.Errorf("--check --images printed %q", res.stdout)
		}
	}, 0, 0)
	r.expect("a deps-less Dockerfile edit is stale everywhere", func() {
		r.p.Write("Dockerfile", files["Dockerfile"]+"ENV EDITED=1\n")
		r.mustRun(3, "--check")
		r.mustRun(0, "--once")
		r.mustRun(0, "--check")
	}, 1, 1)
}

// testOnceBrokenBuild: a failing build exits 1, shows the build's tail and
// leaves the old container serving.
func testOnceBrokenBuild(t *testing.T, bin string, c e2e.Compose, base string) {
	port := e2e.FreePort(t)
	r := newOnceRig(t, bin, c, webFiles(base, port))
	r.mustRun(0, "--once")
	url := e2e.URL(port, "/index.html")
	e2e.WaitServing(t, url, "v1", serveTimeout)
	before := r.p.ContainerImage("web", 1)
	r.p.Write("site/index.html", "v2")
	r.p.Write("Dockerfile", "FROM "+base+"\nCOPY site /www\nRUN echo broken-step-output && exit 7\n"+e2e.HTTPDCmd)
	r.expect("--once with a failing build", func() {
		res := r.mustRun(1, "--once")
		if !strings.Contains(res.stderr, "broken-step-output") {
			t.Errorf("stderr lacks the build's tail:\n%s", res.stderr)
		}
		if !strings.Contains(res.stdout, "web: failed (build failed") {
			t.Errorf("stdout: %q", res.stdout)
		}
	}, 0, 0)
	if got := e2e.Get(t, url); got != "v1" {
		t.Errorf("old container serves %q, want v1", got)
	}
	if after := r.p.ContainerImage("web", 1); after != before {
		t.Errorf("container image changed from %s to %s", before, after)
	}
	r.mustRun(3, "--check") // still stale: a failed build records nothing
}

// testOnceSharedImage: two services naming one image build it once and
// are both recreated.
func testOnceSharedImage(t *testing.T, bin string, c e2e.Compose, base string) {
	p1, p2 := e2e.FreePort(t), e2e.FreePort(t)
	files := webFiles(base, p1)
	r := newOnceRig(t, bin, c, files)
	tag := r.p.Name + "-shared"
	r.p.Write("compose.yaml", fmt.Sprintf(`services:
  one:
    build: .
    image: %[1]s
    ports: ["127.0.0.1:%[2]d:80"]
  two:
    build: .
    image: %[1]s
    ports: ["127.0.0.1:%[3]d:80"]
`, tag, p1, p2))
	r.expect("fresh --once, shared image", func() { r.mustRun(0, "--once") }, 1, 2)
	r.p.Write("site/index.html", "v2")
	r.expect("--once after source edit, shared image", func() {
		out := r.mustRun(0, "--once").stdout
		if !strings.Contains(out, "one: rebuilt") || !strings.Contains(out, "two: rebuilt") {
			t.Errorf("--once printed %q", out)
		}
	}, 1, 2)
	e2e.WaitServing(t, e2e.URL(p1, "/index.html"), "v2", serveTimeout)
	e2e.WaitServing(t, e2e.URL(p2, "/index.html"), "v2", serveTimeout)
}

// testOnceNoEngine: an unreachable engine exits 1 with a message that says
// where rebuildd looked and what to do.
func testOnceNoEngine(t *testing.T, bin string, c e2e.Compose, base string) {
	r := newOnceRig(t, bin, c, webFiles(base, e2e.FreePort(t)))
	r.env = []string{"DOCKER_HOST=unix:///nonexistent"}
	res := r.mustRun(1, "--once")
	want := "cannot reach the Docker engine at unix:///nonexistent: is Docker running?"
	if !strings.Contains(res.stderr, want) {
		t.Errorf("stderr %q lacks %q", res.stderr, want)
	}
	// A dry run needs no engine: it decides from the records and says what
	// it could not know.
	res = r.mustRun(0, "--once", "--dry-run")
	if res.stdout != "web: unknown (no record of what image "+r.p.ImageName("web")+" was built from; a build (cheap from the cache) finds out and records it)\n" {
		t.Errorf("--once --dry-run without an engine printed %q", res.stdout)
	}
	if !strings.Contains(res.stderr, "does not answer: deciding from the records alone") {
		t.Errorf("--once --dry-run without an engine does not say so: %q", res.stderr)
	}
	r.mustRun(4, "--check")
}
