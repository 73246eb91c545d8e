package conformance

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rebuildd/rebuildd/ignore"
	"github.com/rebuildd/rebuildd/internal/e2e"
)

// builder is one way the engine builds, named as the ignore dialect it
// reads the context with (ignore.Dialect), so each builder's oracle runs
// check the dialect rebuildd uses for it:
//
//   - "buildkit": BuildKit through Compose v2 (the docker CLI here has no
//     buildx plugin, and Compose v2 talks to the engine's BuildKit itself);
//   - "classic": `docker build` with DOCKER_BUILDKIT=0, the docker CLI on
//     PATH (28 here: moby's go-archive walk);
//   - "classic-20.10": the same with a Docker 20.10 CLI (Debian's
//     /usr/bin/docker here), whose walk matches with the old one-parent rule;
//   - "docker-py": Compose v1 with COMPOSE_DOCKER_CLI_BUILD=0, its own
//     Python builder, which is how rebuildd runs Compose v1;
//   - "buildkit-20.10": `docker build` with DOCKER_BUILDKIT=1 and a Docker
//     20.10 CLI (Debian's /usr/bin/docker), whose own BuildKit client walks
//     the context (what Compose v1 with COMPOSE_DOCKER_CLI_BUILD=1
//     DOCKER_BUILDKIT=1 runs on such a CLI).
type builder struct {
	name    string
	dialect ignore.Dialect
	compose e2e.Compose // buildkit, docker-py
	docker  string      // the docker CLI of the classic builders and of buildkit-20.10
	// layers: the layer oracle runs too. The three classic builders share
	// the daemon's builder and differ only in the context they send, so
	// the layer oracle runs one of them.
	layers bool
}

// BuildKit reports whether b is BuildKit (RUN --mount works, the
// Dockerfile-specific ignore file is read, only the target's stages build).
func (b builder) BuildKit() bool { return b.dialect == ignore.BuildKit }

// builders returns the builders to run, after e2e.Require: every one that
// works here, or the one -conformance.builder names. With REBUILDD_E2E=1
// a missing Compose fails (e2e.Composes); a missing 20.10 CLI is said.
func builders(t *testing.T) []builder {
	t.Helper()
	e2e.Require(t)
	var all []builder
	for _, c := range e2e.Composes(t) {
		if c.V1() {
			env := append(withoutKey(c.Env, "DOCKER_BUILDKIT"), "COMPOSE_DOCKER_CLI_BUILD=0")
			c.Env = env
			all = append(all, builder{name: "docker-py", dialect: ignore.DockerPy, compose: c})
		} else {
			all = append(all, builder{name: "buildkit", dialect: ignore.BuildKit, compose: c, layers: true})
		}
	}
	if major, ok := dockerMajor("docker"); ok {
		d := ignore.Classic
		if major < 23 {
			d = ignore.Classic2010
		}
		all = append(all, builder{name: d.String(), dialect: d, docker: "docker", layers: true})
	}
	if major, ok := dockerMajor(debianDocker); ok && major < 23 && !slices.ContainsFunc(all, func(b builder) bool { return b.dialect == ignore.Classic2010 }) {
		all = append(all, builder{name: ignore.Classic2010.String(), dialect: ignore.Classic2010, docker: debianDocker})
	}
	if major, ok := dockerMajor(debianDocker); ok && major < 23 {
		all = append(all, builder{name: ignore.BuildKit2010.String(), dialect: ignore.BuildKit2010, docker: debianDocker})
	}
	var out []builder
	for _, b := range all {
		if *flagBuilder == "" || *flagBuilder == b.name || *flagBuilder == "legacy" && b.docker != "" && b.layers {
			out = append(out, b)
		}
	}
	if len(out) == 0 {
		t.Logf("builder %q does not run here (builders here: %s)", *flagBuilder, builderNames(all))
	}
	return out
}

// debianDocker is where Debian's docker.io puts its (20.10) CLI, which
// the docker CLI on PATH may shadow.
const debianDocker = "/usr/bin/docker"

// dockerMajor is the major version of a docker CLI, from `docker
// --version`; ok is false when there is none.
func dockerMajor(docker string) (int, bool) {
	out, err := exec.Command(docker, "--version").Output()
	if err != nil {
		return 0, false
	}
	var major int
	_, err = fmt.Sscanf(strings.TrimPrefix(string(out), "Docker version "), "%d.", &major)
	return major, err == nil
}

func builderNames(bs []builder) string {
	var names []string
	for _, b := range bs {
		names = append(names, b.name)
	}
	return strings.Join(names, ", ")
}

func withoutKey(env []string, key string) []string {
	var out []string
	for _, e := range env {
		if !strings.HasPrefix(e, key+"=") {
			out = append(out, e)
		}
	}
	return out
}

// job is one image to build.
type job struct {
	dir        string // context directory
	dockerfile string // context-relative Dockerfile
	target     string // "" = last stage
	tag        string
}

// buildTimeout bounds one builder command. A batch of 50 tiny contexts
// takes seconds; the bound only stops a hung engine inside go test's own
// timeout.
const buildTimeout = 5 * time.Minute

// parallelBuilds is how many build commands run at once: a tiny build
// spends most of its time waiting on the engine (container start, commit,
// layer diff), so a few in flight use the 2 cores better than one; more
// just queue.
const parallelBuilds = 3

// build builds every job and returns each job's output, by tag: legacy
// builds side by side, BuildKit builds in one Compose command. BuildKit's
// output of several jobs is one interleaved log, so a caller that reads
// cache misses uses buildEach.
func (b builder) build(jobs []job, root string) (map[string]string, error) {
	if b.BuildKit() {
		return b.composeBuild(jobs, root)
	}
	return each(jobs, b.one(root))
}

// one builds one job with its own command: `docker build` for the classic
// builders, one Compose command for the others. Compose v1 builds with
// docker-py one service after another and stops at the first failure, so
// a batch in one command would lose the other jobs' results.
func (b builder) one(root string) func(job) (string, error) {
	if b.docker != "" {
		return b.legacyBuild
	}
	return func(j job) (string, error) {
		outs, err := b.composeBuild([]job{j}, root)
		return outs[j.tag], err
	}
}

// buildEach builds every job with its own command, side by side, so each
// output (plain progress for BuildKit) is the job's alone.
func (b builder) buildEach(jobs []job, root string) (map[string]string, error) {
	return each(jobs, b.one(root))
}

// buildAll is build, with each failed job's error by tag instead of the
// first error: a context case whose build fails is a result, not the end of
// the batch. One Compose command builds every BuildKit job, so its error is
// every job's.
func (b builder) buildAll(jobs []job, root string) (map[string]string, map[string]error) {
	if !b.BuildKit() {
		return eachErr(jobs, b.one(root))
	}
	outs, err := b.composeBuild(jobs, root)
	errs := map[string]error{}
	for _, j := range jobs {
		if err != nil {
			errs[j.tag] = err
		}
	}
	return outs, errs
}

// each runs fn on every job, parallelBuilds at a time, and returns the
// outputs by tag and the first error.
func each(jobs []job, fn func(job) (string, error)) (map[string]string, error) {
	outs, errs := eachErr(jobs, fn)
	for _, j := range jobs {
		if errs[j.tag] != nil {
			return outs, errs[j.tag]
		}
	}
	return outs, nil
}

// eachErr runs fn on every job, parallelBuilds at a time, and returns the
// outputs and the errors by tag.
func eachErr(jobs []job, fn func(job) (string, error)) (map[string]string, map[string]error) {
	outs := make(map[string]string, len(jobs))
	errs := map[string]error{}
	var mu sync.Mutex
	sem := make(chan struct{}, parallelBuilds)
	var wg sync.WaitGroup
	for _, j := range jobs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			out, err := fn(j)
			mu.Lock()
			defer mu.Unlock()
			outs[j.tag] = out
			if err != nil {
				errs[j.tag] = err
			}
		}()
	}
	wg.Wait()
	return outs, errs
}

// legacyBuild runs `docker build`: the classic builder, or for
// buildkit-20.10 the CLI's own BuildKit client.
func (b builder) legacyBuild(j job) (string, error) {
	args := []string{"build", "-f", filepath.Join(j.dir, filepath.FromSlash(j.dockerfile)), "-t", j.tag}
	if j.target != "" {
		args = append(args, "--target", j.target)
	}
	env := []string{"DOCKER_BUILDKIT=0"}
	if b.dialect == ignore.BuildKit2010 {
		env = []string{"DOCKER_BUILDKIT=1"}
		args = append(args, "--progress", "plain")
	}
	return command(env, "", b.docker, append(args, j.dir)...)
}

// composeBuild writes one compose file with a service per job, in root, and
// builds them all with one `docker compose build`: Compose v2 runs the
// builds side by side on the engine's BuildKit.
func (b builder) composeBuild(jobs []job, root string) (map[string]string, error) {
	var y strings.Builder
	y.WriteString("services:\n")
	svc := map[string]string{}
	for i, j := range jobs {
		name := fmt.Sprintf("j%d", i)
		svc[name] = j.tag
		fmt.Fprintf(&y, "  %s:\n    image: %q\n    build:\n      context: %q\n      dockerfile: %q\n", name, j.tag, j.dir, j.dockerfile)
		if j.target != "" {
			fmt.Fprintf(&y, "      target: %q\n", j.target)
		}
	}
	dir, err := os.MkdirTemp(root, "compose")
	if err != nil {
		return nil, fmt.Errorf("compose dir: %w", err)
	}
	file := filepath.Join(dir, "compose.yaml")
	if err := os.WriteFile(file, []byte(y.String()), 0o644); err != nil {
		return nil, fmt.Errorf("write %q: %w", file, err)
	}
	args := append(append([]string{}, b.compose.Command[1:]...),
		"-f", file, "-p", "rbconf"+strings.ToLower(filepath.Base(dir)))
	if b.BuildKit() { // Compose v1's builder has no such option
		args = append(args, "--progress", "plain")
	}
	args = append(args, "build")
	// BUILDX_GIT_INFO=false: the generated contexts are not git trees, and
	// buildx would warn about each.
	env := append([]string{"BUILDX_GIT_INFO=false"}, b.compose.Env...)
	out, err := command(env, dir, b.compose.Command[0], args...)
	outs := map[string]string{}
	for _, tag := range svc { // interleaved: parse progress one job at a time
		outs[tag] = out
	}
	return outs, err
}

// command runs name args with env added and returns the combined output;
// the error carries the output's tail.
func command(env []string, dir, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), buildTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	err := cmd.Run()
	if err != nil {
		return buf.String(), fmt.Errorf("%s %s: %w\n%s", name, strings.Join(args, " "), err, lastLines(buf.String(), 40))
	}
	return buf.String(), nil
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// removeImages deletes the images a test tagged, in one command.
func removeImages(t *testing.T, tags []string) {
	t.Helper()
	if len(tags) == 0 {
		return
	}
	if _, err := command(nil, "", "docker", append([]string{"rmi", "-f"}, tags...)...); err != nil {
		t.Logf("cleanup: %v", err)
	}
}
