package sidecar

import (
	"context"
	"fmt"
	"io/fs"
	"strings"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/mount"
	"github.com/docker/docker/errdefs"
)

// FakeEnv is an Env over fixed files (path -> content; a present key with
// any content also "exists") and a fixed environment.
func FakeEnv(files, env map[string]string) Env {
	return Env{
		ReadFile: func(p string) ([]byte, error) {
			b, ok := files[p]
			if !ok {
				return nil, fmt.Errorf("read %q: %w", p, fs.ErrNotExist)
			}
			return []byte(b), nil
		},
		Exists: func(p string) bool { _, ok := files[p]; return ok },
		Getenv: func(k string) string { return env[k] },
	}
}

// FakeEngine answers ContainerInspect from Containers, matching full IDs and
// unique ID prefixes like the engine does. Err, when set, is returned for
// every call (an engine that is down). Calls counts the calls.
type FakeEngine struct {
	Containers []container.InspectResponse
	Err        error
	Calls      int
}

// ContainerInspect implements Inspector.
func (f *FakeEngine) ContainerInspect(_ context.Context, id string) (container.InspectResponse, error) {
	f.Calls++
	if f.Err != nil {
		return container.InspectResponse{}, f.Err
	}
	var found []container.InspectResponse
	for _, c := range f.Containers {
		if strings.HasPrefix(c.ID, id) {
			found = append(found, c)
		}
	}
	if len(found) != 1 {
		return container.InspectResponse{}, errdefs.NotFound(fmt.Errorf("no such container: %s", id))
	}
	return found[0], nil
}

// FakeContainer builds an inspect answer: id, name, compose labels (empty
// project: none) and bind mounts given as "source:destination" (a source
// without a leading "/" is a named volume).
func FakeContainer(id, name, project, service string, mounts ...string) container.InspectResponse {
	c := container.InspectResponse{
		ContainerJSONBase: &container.ContainerJSONBase{ID: id, Name: "/" + name},
		Config:            &container.Config{Hostname: id[:min(12, len(id))], Labels: map[string]string{}},
	}
	if project != "" {
		c.Config.Labels[LabelProject], c.Config.Labels[LabelService] = project, service
	}
	for _, m := range mounts {
		src, dst, _ := strings.Cut(m, ":")
		mp := container.MountPoint{Type: mount.TypeBind, Source: src, Destination: dst}
		if !strings.HasPrefix(src, "/") {
			mp = container.MountPoint{Type: mount.TypeVolume, Name: src, Source: "/var/lib/docker/volumes/" + src + "/_data", Destination: dst}
		}
		c.Mounts = append(c.Mounts, mp)
	}
	return c
}
