package main

import (
	"context"
	"errors"
	"strings"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/client"

	"github.com/rebuildd/rebuildd/config"
	"github.com/rebuildd/rebuildd/internal/sidecar"
	"github.com/rebuildd/rebuildd/statedir"
)

// lockProject takes the one-rebuildd-per-project lock (statedir.LockProject)
// and, when another rebuildd holds it, names that one as well as this
// process can: by pid from /proc/locks, by container name through the
// Engine API when it runs in a container, and, from inside a sidecar,
// where the holder's pid is not visible, by the project's containers that
// run rebuildd.
func lockProject(ctx context.Context, proj *config.Project) (*statedir.ProjectLock, error) {
	l, err := statedir.LockProject(proj.Dir, proj.Name)
	var le *statedir.ProjectLockedError
	if errors.As(err, &le) {
		nameHolder(ctx, proj.Name, le)
	}
	return l, err
}

// nameHolder fills le.Name from the engine; an engine that does not answer
// leaves the pid or the container ID, which say enough.
func nameHolder(ctx context.Context, project string, le *statedir.ProjectLockedError) {
	if le.Container == "" && le.PID > 0 {
		return // on the host: the pid and command say it all
	}
	cli, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
	if err != nil {
		return
	}
	defer cli.Close()
	ctx, cancel := context.WithTimeout(ctx, enginePingTimeout)
	defer cancel()
	if le.Container != "" {
		if c, err := cli.ContainerInspect(ctx, le.Container); err == nil {
			le.Name = strings.TrimPrefix(c.Name, "/")
		}
		return
	}
	self, _ := findSelf(ctx)
	if names := rebuilddContainers(ctx, cli, project, self); len(names) > 0 {
		le.Name = "container " + strings.Join(names, ", ")
	}
}

// rebuilddContainers lists the running containers of the project, other
// than our own, whose command runs rebuildd: the sidecars that may hold
// the lock. A holder on the host has no container and is not listed.
func rebuilddContainers(ctx context.Context, cli client.APIClient, project string, self *sidecar.Self) []string {
	list, err := cli.ContainerList(ctx, container.ListOptions{
		Filters: filters.NewArgs(filters.Arg("label", sidecar.LabelProject+"="+project)),
	})
	if err != nil {
		return nil
	}
	var names []string
	for _, c := range list {
		if (self != nil && c.ID == self.ID) || !strings.Contains(c.Command, "rebuildd") || len(c.Names) == 0 {
			continue
		}
		names = append(names, strings.TrimPrefix(c.Names[0], "/"))
	}
	return names
}
