package docker

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/rebuildd/rebuildd/ignore"
)

// Builder is the builder a project's builds run on, as far as the build
// context goes: which ignore file it reads and how (docs/conformance.md,
// "Dialects"). The layer model must use its dialect, or rebuildd watches
// and fingerprints another context than the one Docker builds.
type Builder struct {
	Dialect ignore.Dialect
	Reason  string // why this builder, for explain and logs
}

// DefaultBuilder is assumed when no Compose CLI can be found and
// rebuild.yaml does not say: Compose v2, the current Compose, builds with
// BuildKit.
var DefaultBuilder = Builder{Dialect: ignore.BuildKit,
	Reason: "no Compose CLI found: assuming Compose v2 and BuildKit (set builder: in rebuild.yaml to say otherwise)"}

// DetectBuilder decides the builder of a project: rebuild.yaml's builder
// key when it names one, else the one the Compose CLI (compose_command, or
// the detected one) builds with, else DefaultBuilder. It starts no build
// and needs no engine. mayRun false: composeCommand came from a project
// file and the mode changes nothing, so it is not started (InspectCompose).
func DetectBuilder(ctx context.Context, setting string, composeCommand []string, mayRun bool) Builder {
	if b, ok := settingBuilder(setting); ok {
		return b
	}
	detect := DetectComposeCached
	if !mayRun {
		detect = InspectCompose
	}
	cli, err := detect(ctx, composeCommand, "")
	if err != nil {
		return DefaultBuilder
	}
	return ChooseBuilder(setting, cli)
}

// ChooseBuilder is DetectBuilder with the Compose CLI already detected
// (nil when there is none).
func ChooseBuilder(setting string, cli *ComposeCLI) Builder {
	if b, ok := settingBuilder(setting); ok {
		return b
	}
	if cli == nil {
		return DefaultBuilder
	}
	return composeBuilder(cli.V1, cli.Env, dockerCLI{})
}

// settingBuilder reads rebuild.yaml's builder key; ok is false for "" and
// "auto" (config has validated the rest).
func settingBuilder(setting string) (Builder, bool) {
	if setting == "" || setting == "auto" {
		return Builder{}, false
	}
	d, err := ignore.ParseDialect(setting)
	if err != nil {
		return Builder{}, false
	}
	return Builder{Dialect: d, Reason: "rebuild.yaml builder: " + d.String()}, true
}

// dockerCLIInfo is what the decision needs to know about the docker CLI
// that Compose v1 shells out to; a seam for tests.
type dockerCLIInfo interface {
	major() (int, bool) // the client's major version; false when unknown
	buildx() bool       // the buildx plugin is installed
}

// composeBuilder is the decision. Compose v2 builds with BuildKit unless
// DOCKER_BUILDKIT is false, then with its own copy of the CLI's classic
// builder (docker/cli BuildKitEnabled). Compose v1 builds with docker-py
// unless COMPOSE_DOCKER_CLI_BUILD is true (rebuildd sets it to 0 when the
// user has not: composeEnv), then with `docker build`, which is what the
// docker CLI makes of it.
func composeBuilder(v1 bool, env []string, docker dockerCLIInfo) Builder {
	buildkit, set := envBool(env, "DOCKER_BUILDKIT")
	if !v1 {
		if set && !buildkit {
			return Builder{ignore.Classic, "Compose v2 with DOCKER_BUILDKIT=0: its classic builder"}
		}
		return Builder{ignore.BuildKit, "Compose v2: BuildKit"}
	}
	if !pyBool(env, "COMPOSE_DOCKER_CLI_BUILD", true) {
		return Builder{ignore.DockerPy, "Compose v1 with COMPOSE_DOCKER_CLI_BUILD=0: its own builder (docker-py)"}
	}
	major, known := docker.major()
	switch {
	case set && buildkit && known && major < 23:
		// The CLI before 23 sends the context with its own, older BuildKit
		// client (fsutil 2020): BuildKit reads the ignore file, the client's
		// walk decides (issue 13, docs/conformance.md).
		return Builder{ignore.BuildKit2010, "Compose v1 through `docker build` of a Docker " + strconv.Itoa(major) + " CLI with DOCKER_BUILDKIT=1: BuildKit, fed by that CLI's older context walk"}
	case set && buildkit:
		return Builder{ignore.BuildKit, "Compose v1 through `docker build` with DOCKER_BUILDKIT=1: BuildKit"}
	case known && major < 23:
		// Docker 20.10 builds classic unless DOCKER_BUILDKIT=1 (or the
		// daemon advertises BuildKit, which rebuildd does not ask).
		return Builder{ignore.Classic2010, "Compose v1 through `docker build` of a Docker " + strconv.Itoa(major) + " CLI: the classic builder"}
	case !set && docker.buildx():
		return Builder{ignore.BuildKit, "Compose v1 through `docker build` with buildx installed: BuildKit"}
	}
	return Builder{ignore.Classic, "Compose v1 through `docker build` without BuildKit: the classic builder"}
}

// envBool reads key from env (the last setting wins, as for exec) as the
// docker CLI does: strconv.ParseBool; set is false when it is unset,
// empty or not a boolean.
func envBool(env []string, key string) (value, set bool) {
	v, ok := lookupEnv(env, key)
	if !ok || v == "" {
		return false, false
	}
	b, err := strconv.ParseBool(v)
	return b, err == nil
}

// pyBool reads key from env as Compose v1's Environment.get_boolean does:
// unset or empty is def, "0" and "false" (any case) are false, anything
// else true.
func pyBool(env []string, key string, def bool) bool {
	v, ok := lookupEnv(env, key)
	switch {
	case !ok || v == "":
		return def
	case v == "0" || strings.EqualFold(v, "false"):
		return false
	}
	return true
}

func lookupEnv(env []string, key string) (string, bool) {
	for i := len(env) - 1; i >= 0; i-- {
		if v, ok := strings.CutPrefix(env[i], key+"="); ok {
			return v, true
		}
	}
	return "", false
}

// dockerCLI is the docker CLI on PATH.
type dockerCLI struct{}

var dockerVersion = regexp.MustCompile(`version (\d+)\.`)

// major runs `docker --version` ("Docker version 20.10.24+dfsg1, build
// 297e128"), which reads no daemon. Only Compose v1 with
// COMPOSE_DOCKER_CLI_BUILD=1 asks.
func (dockerCLI) major() (int, bool) {
	out, err := exec.Command("docker", "--version").Output()
	if err != nil {
		return 0, false
	}
	m := dockerVersion.FindSubmatch(out)
	if m == nil {
		return 0, false
	}
	n, err := strconv.Atoi(string(m[1]))
	return n, err == nil
}

// buildx reports whether the docker CLI has the buildx plugin.
func (dockerCLI) buildx() bool {
	for _, d := range pluginDirs() {
		if fi, err := os.Stat(filepath.Join(d, "docker-buildx")); err == nil && !fi.IsDir() {
			return true
		}
	}
	return false
}
