package e2e

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// commandTimeout bounds one compose command. The slowest expected one is a
// cold build of a test image (a few seconds); a minute more than covers a
// loaded CI machine while still failing a hung command inside go test's own
// 10-minute default.
const commandTimeout = 3 * time.Minute

// Project is a throwaway Compose project in a temporary directory, torn down
// when the test ends.
type Project struct {
	t       testing.TB
	Name    string  // unique project name, "rbtest" + 10 hex digits
	Dir     string  // project directory holding compose.yaml and the build contexts
	CLI     Compose // the Compose CLI the project runs with
	created time.Time
	marks   marks     // snapshots for Builds, see builds.go
	events  *eventLog // the project's engine events, recorded live
	syncs   int       // barriers used by Events, for unique names
}

// NewProject writes files (slash-separated paths relative to the project
// directory -> content) into a fresh directory and returns the project. The
// cleanup registered here runs `down -v --rmi local --remove-orphans`,
// removes whatever is left with the project's label, and deletes images
// tagged with the project's name, even when the test fails.
func NewProject(t testing.TB, c Compose, files map[string]string) *Project {
	t.Helper()
	p := &Project{t: t, Name: "rbtest" + randomHex(5), Dir: t.TempDir(), CLI: c, created: time.Now()}
	for rel, body := range files {
		p.Write(rel, body)
	}
	log, err := startEventLog(p.created, p.owns)
	if err != nil {
		t.Fatalf("e2e: %v", Classify(err))
	}
	p.events = log
	t.Cleanup(log.Close) // cleanups run last-in first-out: after down, which reads it
	t.Cleanup(p.down)
	t.Cleanup(func() {
		if t.Failed() {
			diagnose(t)
		}
	})
	p.ensureBases()
	return p
}

// ensureBases restores the base images someone removed (BaseImage), just
// before the project is about to build FROM them.
func (p *Project) ensureBases() {
	p.t.Helper()
	restored, err := ensureBases()
	if err != nil {
		p.t.Fatalf("e2e: base image: %v", Classify(err))
	}
	if len(restored) > 0 {
		p.t.Logf("e2e: someone removed %s during the test; restored", strings.Join(restored, ", "))
	}
}

// builds reports whether compose args may build an image.
func builds(args []string) bool {
	for _, a := range args {
		switch a {
		case "up", "build", "create", "run":
			return true
		}
	}
	return false
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on Linux
	}
	return hex.EncodeToString(b)
}

// Path is the absolute path of rel (slash-separated) inside the project.
func (p *Project) Path(rel string) string {
	return filepath.Join(p.Dir, filepath.FromSlash(rel))
}

// Write creates or replaces the file rel with body, creating parent
// directories.
func (p *Project) Write(rel, body string) {
	p.t.Helper()
	path := p.Path(rel)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		p.t.Fatalf("mkdir %q: %v", filepath.Dir(path), err)
	}
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		p.t.Fatalf("write %q: %v", path, err)
	}
}

// Remove deletes the file or directory rel.
func (p *Project) Remove(rel string) {
	p.t.Helper()
	if err := os.RemoveAll(p.Path(rel)); err != nil {
		p.t.Fatalf("remove %q: %v", p.Path(rel), err)
	}
}

// Env is the environment additions that make a compose command in Dir act on
// this project: the CLI's own needs plus COMPOSE_PROJECT_NAME. Give it to
// rebuildd (appended to os.Environ()) when a test runs it as a subprocess.
func (p *Project) Env() []string {
	return append(append([]string{}, p.CLI.Env...), "COMPOSE_PROJECT_NAME="+p.Name)
}

// Compose runs the project's Compose CLI with -p NAME and args in Dir and
// returns its combined output. On failure the output is also logged, so the
// test log shows why even when the caller only checks the error.
func (p *Project) Compose(args ...string) (string, error) {
	p.t.Helper()
	if builds(args) {
		p.ensureBases()
	}
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	full := append(append(append([]string{}, p.CLI.Command[1:]...), "-p", p.Name), args...)
	out, err := run(ctx, p.Env(), p.Dir, p.CLI.Command[0], full...)
	for attempt := 1; attempt < vanishedAttempts && err != nil && builds(args) && vanished(err); attempt++ {
		// A prune removed an image the classic builder had just committed
		// (docker/buildrace.go): nothing was wrong with the build.
		p.t.Logf("e2e: %s %s: %v; running it again", p.CLI, strings.Join(args, " "), err)
		out, err = run(ctx, p.Env(), p.Dir, p.CLI.Command[0], full...)
	}
	if err != nil {
		p.t.Logf("%s %s failed:\n%s", p.CLI, strings.Join(args, " "), tail(out, 60))
	}
	return out, err
}

// vanishedAttempts bounds the runs of a building compose command that a
// prune raced, as rebuildd's own builds are (docker/buildrace.go).
const vanishedAttempts = 3

// vanished reports whether err is a build that failed because an image it
// used was removed meanwhile.
func vanished(err error) bool {
	var env *EnvError
	return errors.As(err, &env) && env.Cause == causeVanished
}

// MustCompose is Compose that fails the test on error.
func (p *Project) MustCompose(args ...string) string {
	p.t.Helper()
	out, err := p.Compose(args...)
	if err != nil {
		p.t.Fatalf("%s %s: %v", p.CLI, strings.Join(args, " "), err)
	}
	return out
}

// ContainerName is the name of the index-th container of service under
// this project's Compose version.
func (p *Project) ContainerName(service string, index int) string {
	return p.CLI.ContainerName(p.Name, service, index)
}

// ImageName is the image Compose builds for service when it has no image:.
func (p *Project) ImageName(service string) string {
	return p.CLI.ImageName(p.Name, service)
}

// ImageID returns the ID of image ref ("" when it does not exist).
func (p *Project) ImageID(ref string) string {
	out, err := TryDocker("image", "inspect", "--format", "{{.Id}}", ref)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(out)
}

// ContainerImage returns the image ID the index-th container of service
// runs ("" when there is no such container).
func (p *Project) ContainerImage(service string, index int) string {
	out, err := TryDocker("container", "inspect", "--format", "{{.Image}}", p.ContainerName(service, index))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(out)
}

// down tears the project down. `compose down` can fail when the test broke
// the compose file on purpose, so the label sweep after it removes
// containers, networks and volumes directly; only a failing sweep is an error.
func (p *Project) down() {
	p.t.Helper()
	if _, err := p.Compose("down", "-v", "--rmi", "local", "--remove-orphans", "-t", "0"); err != nil {
		p.t.Logf("e2e: cleanup: compose down failed, sweeping by label instead")
	}
	label := "label=com.docker.compose.project=" + p.Name
	p.sweep([]string{"ps", "-aq", "--filter", label}, []string{"rm", "-f", "-v"})
	p.sweep([]string{"network", "ls", "-q", "--filter", label}, []string{"network", "rm"})
	p.sweep([]string{"volume", "ls", "-q", "--filter", label}, []string{"volume", "rm", "-f"})
	// Images go by name and without -f: an ID can also carry another
	// project's tag when both builds hit the same cache.
	for _, ref := range []string{p.Name + "*", p.Name + "*/*"} {
		p.sweep([]string{"image", "ls", "--format", "{{.Repository}}:{{.Tag}}", "--filter", "reference=" + ref},
			[]string{"image", "rm"})
	}
	p.removeLeftovers()
}

// removeLeftovers removes every image the project built during the test,
// including those a later build untagged (down --rmi only knows the current
// ones), so repeated rebuilds leave no dangling images on the machine: the
// images with the project's label (v2) and those tagged under its name (v1,
// from the engine's events). An image still in use or tagged elsewhere
// stays: rm without -f refuses it. It also removes the anonymous volumes
// the project's containers mounted, which `down -v` misses after a recreate.
func (p *Project) removeLeftovers() {
	p.t.Helper()
	out, err := TryDocker("image", "ls", "-a", "-q", "--no-trunc", "--filter", "label=com.docker.compose.project="+p.Name)
	if err != nil {
		p.t.Logf("e2e: cleanup: %v", err)
	}
	ids := strings.Fields(out)
	events := p.Events(p.created)
	for _, e := range events {
		if e.Type == "image" && e.Action == "tag" {
			ids = append(ids, e.ID)
		}
	}
	ids = append(ids, createdFrom(events, p.Name)...)
	for _, id := range uniq(ids) {
		if p.ImageID(id) != "" {
			TryDocker("image", "rm", id) // refusals are expected, see above
		}
	}
	for _, v := range anonymousVolumes(events) {
		TryDocker("volume", "rm", v) // gone already when down -v got it
	}
}

func (p *Project) sweep(list, rm []string) {
	p.t.Helper()
	out, err := TryDocker(list...)
	if err != nil {
		p.t.Errorf("e2e: cleanup of %s: %v", p.Name, err)
		return
	}
	ids := uniq(strings.Fields(out))
	if len(ids) == 0 {
		return
	}
	if _, err := TryDocker(append(rm, ids...)...); err != nil {
		p.t.Errorf("e2e: cleanup of %s: %v", p.Name, err)
	}
}

func uniq(ids []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}
