package docker

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/client"
	"github.com/docker/docker/errdefs"
)

// Image is what the plan needs to know about an image.
type Image struct {
	ID string
}

// Container is one container of a compose service.
type Container struct {
	ID       string
	Name     string
	Service  string
	ImageID  string
	State    string // running, exited, created, dead, ...
	ExitCode int    // of an exited container
	Health   string // "" when the container has no healthcheck
}

// Engine is what rebuildd reads from the Docker Engine. Builds and
// recreation go through the Compose CLI (Runner); the Engine is for state.
type Engine interface {
	// Image inspects ref; nil, nil when there is no such image.
	Image(ctx context.Context, ref string) (*Image, error)
	// Containers lists every container (any state) of the compose project.
	Containers(ctx context.Context, project string) ([]Container, error)
	// Wait waits until the container runs, and is healthy when it has a
	// healthcheck, or the timeout passes.
	Wait(ctx context.Context, id string, timeout time.Duration) error
}

// Compose's container labels (docker/compose api.ProjectLabel, ServiceLabel;
// v1 writes the same ones).
const (
	labelProject = "com.docker.compose.project"
	labelService = "com.docker.compose.service"
)

// UnreachableError is the engine not answering at all.
type UnreachableError struct {
	Host string
	Err  error
}

func (e *UnreachableError) Error() string {
	return fmt.Sprintf("cannot reach the Docker engine at %s: is Docker running? (%v)", e.Host, e.Err)
}

func (e *UnreachableError) Unwrap() error { return e.Err }

// DockerEngine is Engine over the docker/docker client.
type DockerEngine struct {
	cli *client.Client
	// waitPoll is how often Wait looks at a container: a container start
	// takes tens of milliseconds to seconds, so 100 ms adds little delay
	// and only a handful of cheap inspect calls.
	waitPoll time.Duration
}

// NewDockerEngine connects like the docker CLI: DOCKER_HOST (and the other
// DOCKER_* variables) first, else the current docker context, and
// negotiates the API version (old engines speak 1.41). It pings the engine
// so an unreachable one fails here with a clear message.
func NewDockerEngine(ctx context.Context) (*DockerEngine, error) {
	opts := []client.Opt{client.FromEnv, client.WithAPIVersionNegotiation()}
	if os.Getenv("DOCKER_HOST") == "" {
		if host := contextHost(); host != "" {
			opts = append(opts, client.WithHost(host))
		}
	}
	cli, err := client.NewClientWithOpts(opts...)
	if err != nil {
		return nil, fmt.Errorf("docker client: %w", err)
	}
	if _, err := cli.Ping(ctx); err != nil {
		cli.Close()
		return nil, &UnreachableError{Host: cli.DaemonHost(), Err: err}
	}
	return &DockerEngine{cli: cli, waitPoll: 100 * time.Millisecond}, nil
}

// Ping asks the engine whether it answers (GET /_ping): the status
// endpoint's probe, so /healthz fails while the engine is away.
func (e *DockerEngine) Ping(ctx context.Context) error {
	if _, err := e.cli.Ping(ctx); err != nil {
		return &UnreachableError{Host: e.cli.DaemonHost(), Err: err}
	}
	return nil
}

// Close releases the client. Safe to call twice.
func (e *DockerEngine) Close() error {
	if e.cli == nil {
		return nil
	}
	err := e.cli.Close()
	e.cli = nil
	return err
}

// contextHost is the docker endpoint of the current docker context
// (DOCKER_CONTEXT, else currentContext in config.json), "" for the default.
func contextHost() string {
	cfgDir := os.Getenv("DOCKER_CONFIG")
	if cfgDir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return ""
		}
		cfgDir = filepath.Join(home, ".docker")
	}
	name := os.Getenv("DOCKER_CONTEXT")
	if name == "" {
		var cfg struct{ CurrentContext string }
		b, err := os.ReadFile(filepath.Join(cfgDir, "config.json"))
		if err != nil || json.Unmarshal(b, &cfg) != nil {
			return ""
		}
		name = cfg.CurrentContext
	}
	if name == "" || name == "default" {
		return ""
	}
	// The CLI stores a context's metadata under the SHA-256 of its name.
	sum := sha256.Sum256([]byte(name))
	b, err := os.ReadFile(filepath.Join(cfgDir, "contexts", "meta", hex.EncodeToString(sum[:]), "meta.json"))
	if err != nil {
		return ""
	}
	var meta struct {
		Endpoints map[string]struct{ Host string }
	}
	if json.Unmarshal(b, &meta) != nil {
		return ""
	}
	return meta.Endpoints["docker"].Host
}

// unreachable marks a failure to connect at all as *UnreachableError, so
// watch mode can tell "Docker went away" (wait and reconnect) from an
// engine that answered with an error.
func (e *DockerEngine) unreachable(err error) error {
	if client.IsErrConnectionFailed(err) {
		return &UnreachableError{Host: e.cli.DaemonHost(), Err: err}
	}
	return err
}

// Image implements Engine.
func (e *DockerEngine) Image(ctx context.Context, ref string) (*Image, error) {
	img, err := e.cli.ImageInspect(ctx, ref)
	if errdefs.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, e.unreachable(fmt.Errorf("inspect image %q: %w", ref, err))
	}
	return &Image{ID: img.ID}, nil
}

// Containers implements Engine.
func (e *DockerEngine) Containers(ctx context.Context, project string) ([]Container, error) {
	list, err := e.cli.ContainerList(ctx, container.ListOptions{
		All:     true,
		Filters: filters.NewArgs(filters.Arg("label", labelProject+"="+project)),
	})
	if err != nil {
		return nil, e.unreachable(fmt.Errorf("list containers of project %q: %w", project, err))
	}
	out := make([]Container, 0, len(list))
	for _, c := range list {
		name := ""
		if len(c.Names) > 0 {
			name = strings.TrimPrefix(c.Names[0], "/")
		}
		out = append(out, Container{
			ID: c.ID, Name: name, Service: c.Labels[labelService],
			ImageID: c.ImageID, State: string(c.State), ExitCode: exitCode(c.Status),
		})
	}
	return out, nil
}

// exitCode reads the code from a container list's status, "Exited (137)
// 5 seconds ago"; 0 when there is none.
func exitCode(status string) int {
	_, rest, ok := strings.Cut(status, "Exited (")
	if !ok {
		return 0
	}
	code, _, _ := strings.Cut(rest, ")")
	n, _ := strconv.Atoi(code)
	return n
}

// Wait implements Engine.
func (e *DockerEngine) Wait(ctx context.Context, id string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(e.waitPoll)
	defer tick.Stop()
	last := "not started"
	for {
		c, err := e.cli.ContainerInspect(ctx, id)
		if err != nil && ctx.Err() == nil {
			return fmt.Errorf("inspect container %q: %w", id, err)
		}
		if err == nil {
			done, state, err := readiness(c)
			if done || err != nil {
				return err
			}
			last = state
		}
		select {
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return fmt.Errorf("container %s is %s after %s: see `docker logs %s`", ShortID(id), last, timeout, ShortID(id))
			}
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// readiness: running (and healthy when a healthcheck exists) is done; a
// container that exited or turned unhealthy will not get better.
func readiness(c container.InspectResponse) (done bool, state string, err error) {
	if c.State == nil {
		return false, "unknown", nil
	}
	st := c.State
	switch {
	case st.Status == "exited" || st.Status == "dead":
		return false, st.Status, fmt.Errorf("container %s %s with code %d: see `docker logs %s`", ShortID(c.ID), st.Status, st.ExitCode, ShortID(c.ID))
	case !st.Running:
		return false, st.Status, nil
	case st.Health == nil || st.Health.Status == "" || st.Health.Status == "none":
		return true, "running", nil
	case st.Health.Status == "healthy":
		return true, "healthy", nil
	case st.Health.Status == "unhealthy":
		return false, "unhealthy", fmt.Errorf("container %s is unhealthy: see `docker inspect %s`", ShortID(c.ID), ShortID(c.ID))
	}
	return false, st.Health.Status, nil
}

func ShortID(id string) string {
	id = strings.TrimPrefix(id, "sha256:")
	if len(id) > 12 {
		return id[:12]
	}
	return id
}
