package sidecar

import (
	"context"
	"fmt"
	"path"
	"strings"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/errdefs"
)

// Inspector is the one Engine API call the sidecar check needs;
// *client.Client is one, FakeEngine is the tests'.
type Inspector interface {
	ContainerInspect(ctx context.Context, id string) (container.InspectResponse, error)
}

// Compose's container labels (docker/compose api.ProjectLabel and
// ServiceLabel; Compose v1 writes the same).
const (
	LabelProject = "com.docker.compose.project"
	LabelService = "com.docker.compose.service"
)

// Self is rebuildd's own container as the engine sees it.
type Self struct {
	ID      string
	Name    string  // without the leading "/"
	Project string  // Compose project label, "" when not started by Compose
	Service string  // Compose service label, "" when not started by Compose
	Mounts  []Mount // as the engine reports them
}

// Mount is one mount of the container.
type Mount struct {
	Type        string // bind, volume, tmpfs, ...
	Source      string // bind: the host path; volume: the volume's data dir
	Name        string // volume: the volume name
	Destination string // the path inside the container
}

// Find returns our own container, or nil when the process is not in a
// container this engine knows (on the host, or in a container of another
// engine such as a CI runner's): then rebuildd behaves as on the host.
// An error means the engine could not answer; the caller decides whether
// that matters.
func Find(ctx context.Context, env Env, eng Inspector) (*Self, error) {
	if !env.InContainer() {
		return nil, nil
	}
	host := env.Getenv("HOSTNAME")
	for _, id := range env.CandidateIDs() {
		c, err := eng.ContainerInspect(ctx, id)
		switch {
		case errdefs.IsNotFound(err):
			continue
		case err != nil:
			return nil, fmt.Errorf("inspect own container %q: %w", id, err)
		}
		// A hostname that only looks like an ID could prefix-match a
		// stranger's container; the real one carries it as its hostname.
		if id == host && len(id) < 64 && c.Config != nil && c.Config.Hostname != host {
			continue
		}
		return selfOf(c), nil
	}
	return nil, nil
}

func selfOf(c container.InspectResponse) *Self {
	s := &Self{Mounts: make([]Mount, 0, len(c.Mounts))}
	if c.ContainerJSONBase != nil {
		s.ID, s.Name = c.ID, strings.TrimPrefix(c.Name, "/")
	}
	if c.Config != nil {
		s.Project, s.Service = c.Config.Labels[LabelProject], c.Config.Labels[LabelService]
	}
	for _, m := range c.Mounts {
		s.Mounts = append(s.Mounts, Mount{Type: string(m.Type), Source: m.Source, Name: m.Name, Destination: m.Destination})
	}
	return s
}

// ExcludedService is the service rebuildd must never rebuild or recreate in
// project: its own, when its container belongs to that project ("" when
// not). Recreating itself would kill the process doing the recreate halfway.
func (s *Self) ExcludedService(project string) string {
	if s == nil || s.Project == "" || s.Project != project {
		return ""
	}
	return s.Service
}

// covering returns the mount whose destination is dir or its nearest
// ancestor, and dir's path below it; ok is false when no mount covers dir.
func (s *Self) covering(dir string) (m Mount, rel string, ok bool) {
	best := -1
	for _, c := range s.Mounts {
		d := path.Clean(c.Destination)
		r, in := below(dir, d)
		if in && len(d) > best {
			best, m, rel, ok = len(d), c, r, true
		}
	}
	return m, rel, ok
}

// below reports whether p is dir or inside it, and p relative to dir ("."
// for dir itself). Both are clean absolute paths.
func below(p, dir string) (string, bool) {
	if p == dir {
		return ".", true
	}
	prefix := dir
	if !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	if strings.HasPrefix(p, prefix) {
		return p[len(prefix):], true
	}
	return "", false
}
