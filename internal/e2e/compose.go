package e2e

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// Compose is one Compose CLI the e2e tests run against.
type Compose struct {
	Name    string   // "v2" (the docker compose plugin) or "v1" (Debian's docker-compose)
	Command []string // argv prefix: {"docker", "compose"} or {"docker-compose"}
	// Env holds KEY=VALUE additions every invocation needs on this machine
	// (docs/e2e.md says why). Tests that start rebuildd, which runs compose
	// itself, must pass them on too.
	Env     []string
	Version string // as printed by `version --short`, e.g. "2.40.3" or "1.29.2"
}

// V1 reports whether this is Compose v1 (the Python docker-compose), whose
// naming and flags differ from v2 (docs/e2e.md).
func (c Compose) V1() bool { return c.Name == "v1" }

// sep is the separator Compose puts between project, service and index in
// the names it makes: "_" in v1, "-" in v2.
func (c Compose) sep() string {
	if c.V1() {
		return "_"
	}
	return "-"
}

// ContainerName is the name Compose gives the index-th (from 1) container of
// service: "proj_web_1" in v1, "proj-web-1" in v2.
func (c Compose) ContainerName(project, service string, index int) string {
	return fmt.Sprintf("%s%s%s%s%d", project, c.sep(), service, c.sep(), index)
}

// ImageName is the image Compose tags for a service with build: and no
// image: ("proj_web" in v1, "proj-web" in v2), without the ":latest".
func (c Compose) ImageName(project, service string) string {
	return project + c.sep() + service
}

// String is the command line, for test names and messages.
func (c Compose) String() string { return strings.Join(c.Command, " ") }

// v2Env: Compose v2.40 builds with BuildKit through its own embedded buildx
// library when the buildx plugin is missing, as here; COMPOSE_BAKE=false
// says so up front instead of a warning on every build, and keeps builds on
// that path if a buildx plugin appears later.
var v2Env = []string{"COMPOSE_BAKE=false"}

// v1Env: Compose v1.29 builds through `docker build`
// (COMPOSE_DOCKER_CLI_BUILD defaults to 1). The docker CLI 28 here uses the
// classic builder only because no buildx plugin is installed; pinning
// DOCKER_BUILDKIT=0 keeps v1 on the classic builder either way, so the suite
// always covers both builders: classic under v1, BuildKit under v2.
var v1Env = []string{"DOCKER_BUILDKIT=0"}

// candidates are the Compose CLIs tried, in the order tests run them.
var candidates = []Compose{
	{Name: "v2", Command: []string{"docker", "compose"}, Env: v2Env},
	{Name: "v1", Command: []string{"docker-compose"}, Env: v1Env},
}

// versionTimeout bounds `compose version`. Compose v1 is a Python program:
// it needs about a second to start, and over 10s was seen here while the
// other core compiled; a minute only cuts off a CLI that hangs.
const versionTimeout = time.Minute

var detected struct {
	once     sync.Once
	found    []Compose
	problems []string
}

// detectComposes asks each candidate for its version once per test binary.
// A `docker-compose` that turns out to be v2 (the standalone v2 binary) is
// not counted as v1: the point of running both is covering v1's behaviour.
func detectComposes() ([]Compose, []string) {
	detected.once.Do(func() {
		for _, c := range candidates {
			args := append(append([]string{}, c.Command[1:]...), "version", "--short")
			ctx, cancel := context.WithTimeout(context.Background(), versionTimeout)
			out, err := run(ctx, c.Env, "", c.Command[0], args...)
			cancel()
			c.Version = strings.TrimPrefix(strings.TrimSpace(out), "v")
			switch {
			case err != nil:
				detected.problems = append(detected.problems, fmt.Sprintf("%s: %v", c, err))
			case !strings.HasPrefix(c.Version, c.Name[1:]+"."):
				detected.problems = append(detected.problems,
					fmt.Sprintf("%s: version %q is not %s", c, c.Version, c.Name))
			default:
				detected.found = append(detected.found, c)
			}
		}
	})
	return detected.found, detected.problems
}

// Composes returns the Compose CLIs to run each e2e scenario against, v2
// first. Without REBUILDD_E2E=1 it returns what is installed and skips when
// there is none; with it, both v1 and v2 must be there or the test fails.
// Run scripts/install-test-deps.sh to install both.
func Composes(t testing.TB) []Compose {
	t.Helper()
	found, problems := detectComposes()
	if len(found) == 0 || (Strict() && len(problems) > 0) {
		skipOrFail(t, "e2e: Compose CLI missing (run scripts/install-test-deps.sh as root): %s",
			strings.Join(problems, "; "))
	}
	return found
}
