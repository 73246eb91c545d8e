package conformance

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rebuildd/rebuildd/internal/e2e"
)

// builder is one way the engine builds: the legacy builder through
// `docker build` (what Compose v1 uses), or BuildKit through Compose v2
// (the Debian docker CLI here refuses DOCKER_BUILDKIT=1 without the buildx
// plugin, while Compose v2 talks to the engine's BuildKit itself).
type builder struct {
	name    string      // "legacy" or "buildkit"
	compose e2e.Compose // Compose v2, for "buildkit"
}

// BuildKit reports whether b is BuildKit (RUN --mount works, the
// Dockerfile-specific ignore file is read, only the target's stages build).
func (b builder) BuildKit() bool { return b.name == "buildkit" }

// builders returns the builders to run, after e2e.Require. BuildKit needs
// Compose v2; without it the test says so (and fails with REBUILDD_E2E=1,
// through e2e.Composes).
func builders(t *testing.T) []builder {
	t.Helper()
	e2e.Require(t)
	var out []builder
	if *flagBuilder != "legacy" {
		for _, c := range e2e.Composes(t) {
			if !c.V1() {
				out = append(out, builder{name: "buildkit", compose: c})
			}
		}
		if len(out) == 0 {
			t.Log("no Compose v2 here: BuildKit cases do not run (scripts/install-test-deps.sh installs it)")
		}
	}
	if *flagBuilder != "buildkit" {
		out = append(out, builder{name: "legacy"})
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
	return each(jobs, legacyBuild)
}

// buildEach builds every job with its own command, side by side, so each
// output (plain progress for BuildKit) is the job's alone.
func (b builder) buildEach(jobs []job, root string) (map[string]string, error) {
	if !b.BuildKit() {
		return each(jobs, legacyBuild)
	}
	return each(jobs, func(j job) (string, error) {
		outs, err := b.composeBuild([]job{j}, root)
		return outs[j.tag], err
	})
}

// buildAll is build, with each failed job's error by tag instead of the
// first error: a context case whose build fails is a result, not the end of
// the batch. One Compose command builds every BuildKit job, so its error is
// every job's.
func (b builder) buildAll(jobs []job, root string) (map[string]string, map[string]error) {
	if !b.BuildKit() {
		return eachErr(jobs, legacyBuild)
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

func legacyBuild(j job) (string, error) {
	args := []string{"build", "-f", filepath.Join(j.dir, filepath.FromSlash(j.dockerfile)), "-t", j.tag}
	if j.target != "" {
		args = append(args, "--target", j.target)
	}
	return command([]string{"DOCKER_BUILDKIT=0"}, "", "docker", append(args, j.dir)...)
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
		"-f", file, "-p", "rbconf"+strings.ToLower(filepath.Base(dir)), "--progress", "plain", "build")
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
