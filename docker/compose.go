package docker

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/rebuildd/rebuildd/config"
)

// Runner runs compose commands for one project. Builds and recreation go
// through the user's own Compose CLI so they behave exactly like the
// commands the user would type (same builder, credentials and project).
type Runner interface {
	// Build builds one service's image, streaming output to out.
	Build(ctx context.Context, service string, out io.Writer) error
	// Up recreates (or creates) services without touching their
	// dependencies and without building.
	Up(ctx context.Context, services []string, renewAnon bool, out io.Writer) error
	// ImageName is the tag compose gives a service without image:.
	ImageName(project, service string) string
}

// ComposeCLI is Runner over `docker compose` or `docker-compose`.
type ComposeCLI struct {
	Command     []string // e.g. ["docker", "compose"]
	V1          bool     // docker-compose 1.x: other image names, other env
	ProjectArgs []string // -f ..., -p ..., passed before every subcommand
	Dir         string   // working directory the user's relative -f paths resolve against
	Env         []string // the process environment plus what the builds need
	// Children, when set, tracks the running commands for a shutdown
	// that must stop them (Children.Stop); nil tracks nothing.
	Children *Children
	// Progress, when set, hears each command begin and end and each build
	// step start (progress.go).
	Progress Progress
}

// DetectCompose finds the Compose CLI: the override (compose_command, or
// the user's --compose-command) when given, else the `docker compose`
// plugin, else `docker-compose` (v1 or v2).
func DetectCompose(ctx context.Context, override []string) (*ComposeCLI, error) {
	return DetectComposeCached(ctx, override, "")
}

// DetectComposeCached is DetectCompose keeping the answer of a `version`
// run in the file cache (see flavorKey for when it is asked again); ""
// keeps nothing.
func DetectComposeCached(ctx context.Context, override []string, cache string) (*ComposeCLI, error) {
	return detectCompose(ctx, override, cache, true)
}

// InspectCompose is DetectComposeCached for a mode that changes nothing
// (explain, advise, --check, --dry-run) given an override from a project
// file: that command is never started, not even for `version`, because
// nothing a checkout names runs in these modes (docs/design.md, "Driving
// Docker"). Its flavour comes from its files (knownFlavor) or the cache,
// else Compose v2 is assumed. The override is a Compose CLI by name
// (config.IsComposeCLI), so the files usually say.
func InspectCompose(ctx context.Context, override []string, cache string) (*ComposeCLI, error) {
	return detectCompose(ctx, override, cache, len(override) == 0)
}

func detectCompose(ctx context.Context, override []string, cache string, mayRun bool) (*ComposeCLI, error) {
	candidates := [][]string{{"docker", "compose"}, {"docker-compose"}}
	if len(override) > 0 {
		candidates = [][]string{override}
	}
	var errs []error
	for _, c := range candidates {
		v1, err := composeFlavor(ctx, c, cache, mayRun)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		cli := &ComposeCLI{Command: c, V1: v1}
		cli.Env = composeEnv(os.Environ(), cli.V1)
		return cli, nil
	}
	return nil, fmt.Errorf("no Compose CLI found (%w): install the docker compose plugin or docker-compose, or name yours with --compose-command", errors.Join(errs...))
}

// composeFlavor tells Compose v1 from v2, without starting it when the
// files say: `docker compose version` takes half a second and the Python
// docker-compose two seconds on the CI machine, more than a whole
// up-to-date check of 50,000 files. Otherwise it asks `version --short`,
// or the cache file holding the answer for the same command and files.
//
// mayRun false never starts the command: files, then the cache, then v2.
func composeFlavor(ctx context.Context, command []string, cache string, mayRun bool) (v1 bool, err error) {
	path, err := exec.LookPath(command[0])
	if err != nil {
		return false, fmt.Errorf("%s: %w", strings.Join(command, " "), err)
	}
	switch {
	case len(command) == 2 && filepath.Base(path) == "docker" && command[1] == "compose" && composePlugin() != "":
		return false, nil
	case len(command) == 1 && pythonScript(path):
		return true, nil // Compose v1 as distributions package it; v2 is a Go binary
	}
	key := flavorKey(command, path)
	if v1, ok := readFlavor(cache, key); ok {
		return v1, nil
	}
	if !mayRun {
		v1, _ := knownFlavor(command, path)
		return v1, nil // unknown: v2, the Compose of today
	}
	v, err := composeVersion(ctx, command)
	if err != nil {
		return false, err
	}
	v1 = strings.HasPrefix(v, "1.")
	writeFlavor(cache, key, v1)
	return v1, nil
}

// pluginDirs are where the docker CLI looks for plugins (docker/cli
// cli-plugins/manager: the user's config dir, then the system dirs).
func pluginDirs() []string {
	cfg := os.Getenv("DOCKER_CONFIG")
	if cfg == "" {
		if home, err := os.UserHomeDir(); err == nil {
			cfg = filepath.Join(home, ".docker")
		}
	}
	return []string{filepath.Join(cfg, "cli-plugins"),
		"/usr/local/lib/docker/cli-plugins", "/usr/local/libexec/docker/cli-plugins",
		"/usr/lib/docker/cli-plugins", "/usr/libexec/docker/cli-plugins"}
}

// composePlugin is the path of the docker-compose CLI plugin, "" when none.
func composePlugin() string {
	for _, d := range pluginDirs() {
		p := filepath.Join(d, "docker-compose")
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p
		}
	}
	return ""
}

// pythonScript reports whether the executable at path is a Python script.
func pythonScript(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	head := make([]byte, 128)
	n, _ := f.Read(head)
	line, _, _ := strings.Cut(string(head[:n]), "\n")
	return strings.HasPrefix(line, "#!") && strings.Contains(line, "python")
}

// composeVersion runs `<cmd> version --short` ("2.29.1", "v2.5.0", "1.29.2").
func composeVersion(ctx context.Context, command []string) (string, error) {
	args := append(append([]string{}, command[1:]...), "version", "--short")
	out, err := exec.CommandContext(ctx, command[0], args...).Output()
	if err != nil {
		return "", fmt.Errorf("%s: %w", strings.Join(command, " "), err)
	}
	return strings.TrimPrefix(strings.TrimSpace(string(out)), "v"), nil
}

// composeEnv adds the settings builds need, unless the user set them:
//   - COMPOSE_BAKE=false: Compose v2.36+ may delegate builds to `docker
//     buildx bake`, which fails where the buildx plugin is missing; the
//     built-in builder gives the same images.
//   - COMPOSE_DOCKER_CLI_BUILD=0 for v1: docker-compose would shell out to
//     `docker build`, which recent CLIs send to buildx (missing on many
//     hosts); v1's native builder talks to the engine directly.
func composeEnv(env []string, v1 bool) []string {
	set := func(k, v string) {
		for _, e := range env {
			if strings.HasPrefix(e, k+"=") {
				return
			}
		}
		env = append(env, k+"="+v)
	}
	if v1 {
		set("COMPOSE_DOCKER_CLI_BUILD", "0")
	} else {
		set("COMPOSE_BAKE", "false")
	}
	return env
}

// ProjectArgs turns the user's project options into compose flags. The
// project name is always passed (resolved by config), so compose acts on
// exactly the project rebuildd inspected.
func ProjectArgs(o config.Options, projectName string) []string {
	var args []string
	for _, f := range o.Files {
		args = append(args, "-f", f)
	}
	if projectName != "" {
		args = append(args, "-p", projectName)
	}
	if o.ProjectDir != "" {
		args = append(args, "--project-directory", o.ProjectDir)
	}
	for _, p := range o.Profiles {
		args = append(args, "--profile", p)
	}
	for _, e := range o.EnvFiles {
		args = append(args, "--env-file", e)
	}
	return args
}

// ImageName implements Runner: `<project>-<service>` for v2,
// `<project>_<service>` for v1.
func (c *ComposeCLI) ImageName(project, service string) string {
	return Names{V1: c.V1}.ImageName(project, service)
}

// Build implements Runner.
// Compose v1 builds with the classic builder (docker-py's or the CLI's),
// which keeps the container of a failed RUN step unless told not to:
// every broken save would leave one behind.
//
// A build that failed because an image it used was removed meanwhile (a
// prune racing the classic builder, buildrace.go) runs again, up to
// vanishedAttempts times in all.
func (c *ComposeCLI) Build(ctx context.Context, service string, out io.Writer) error {
	if !InBackground(ctx) {
		var end func()
		out, end = c.track([]string{service}, PhaseBuild, out)
		defer end()
	}
	args := []string{"build", service}
	if c.V1 {
		args = []string{"build", "--force-rm", service}
	}
	for attempt := 1; ; attempt++ {
		w := &vanishWatch{out: out}
		err := c.run(ctx, w, args...)
		if err == nil || !w.seen || ctx.Err() != nil || attempt == vanishedAttempts {
			return err
		}
		if out != nil {
			fmt.Fprintln(out, "an image this build was using was removed meanwhile (docker image prune, or another cleanup): building again")
		}
	}
}

// Up implements Runner.
func (c *ComposeCLI) Up(ctx context.Context, services []string, renewAnon bool, out io.Writer) error {
	out, end := c.track(services, PhaseRecreate, out)
	defer end()
	args := []string{"up", "-d", "--no-deps", "--no-build"}
	if renewAnon {
		args = append(args, "--renew-anon-volumes")
	}
	return c.run(ctx, out, append(args, services...)...)
}

// Args is the full command line of a subcommand (for logs and tests).
func (c *ComposeCLI) Args(sub ...string) []string {
	args := append(append([]string{}, c.Command...), c.ProjectArgs...)
	return append(args, sub...)
}

func (c *ComposeCLI) run(ctx context.Context, out io.Writer, sub ...string) error {
	argv := c.Args(sub...)
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir, cmd.Env = c.Dir, c.Env
	cmd.Stdout, cmd.Stderr = out, out
	// Cancelling (on_busy: cancel, shutdown) stops the whole process group:
	// compose v1 and `docker build` run children that would otherwise go on
	// building after their parent died.
	// The group is also why a terminal's Ctrl-C reaches rebuildd alone
	// (children.go): rebuildd decides what a signal stops.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM) }
	cmd.WaitDelay = cancelGrace
	err := cmd.Start()
	if err == nil {
		gone := c.Children.add(cmd.Process.Pid)
		err = cmd.Wait()
		gone()
	}
	if err != nil {
		return fmt.Errorf("%s: %w", strings.Join(argv, " "), err)
	}
	return nil
}

// cancelGrace is how long a cancelled compose command may take to stop
// after SIGTERM before it is killed: compose needs a moment to tell the
// builder to stop, and a build that ignores it must not hold rebuildd up.
const cancelGrace = 5 * time.Second

// tailLines is how much failed build output is shown again: enough for the
// failing step and its error, short enough to read in a terminal.
const tailLines = 30

// PrefixWriter prefixes each line with "service | " and keeps the last
// tailLines lines for the failure message. Used by one goroutine (the
// compose command's stdout and stderr copier write through one io.Writer).
type PrefixWriter struct {
	prefix string
	out    io.Writer // nil: keep the tail only (quiet)
	part   []byte
	tail   []string
}

func NewPrefixWriter(service string, out io.Writer) *PrefixWriter {
	return &PrefixWriter{prefix: service + " | ", out: out}
}

func (w *PrefixWriter) Write(p []byte) (int, error) {
	w.part = append(w.part, p...)
	for {
		i := bytes.IndexByte(w.part, '\n')
		if i < 0 {
			return len(p), nil
		}
		w.line(string(w.part[:i]))
		w.part = w.part[i+1:]
	}
}

func (w *PrefixWriter) line(s string) {
	s = strings.TrimRight(s, "\r")
	if w.out != nil {
		fmt.Fprintf(w.out, "%s%s\n", w.prefix, s)
	}
	w.tail = append(w.tail, s)
	if len(w.tail) > tailLines {
		w.tail = w.tail[len(w.tail)-tailLines:]
	}
}

// Tail flushes a partial last line and returns the last lines.
func (w *PrefixWriter) Tail() []string {
	if len(w.part) > 0 {
		w.line(string(w.part))
		w.part = nil
	}
	return w.tail
}
