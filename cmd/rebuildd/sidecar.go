package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"

	"github.com/docker/docker/client"

	"github.com/rebuildd/rebuildd/config"
	"github.com/rebuildd/rebuildd/internal/sidecar"
)

// findSelf returns rebuildd's own container when it runs as a sidecar, nil
// otherwise. A variable so tests can give a fixed container; the real one
// asks the engine once per process (a reload must not cost engine calls).
var findSelf = onceSelf(engineSelf)

// engineSelf asks the engine for our container. The file checks come
// first, so on a plain host no client is even made. An engine that does
// not answer leaves the check undone rather than failing here: rebuildd
// reports the unreachable engine itself, with its own advice, when it
// needs it.
func engineSelf(ctx context.Context) (*sidecar.Self, error) {
	env := sidecar.OSEnv()
	if !env.InContainer() {
		return nil, nil
	}
	cli, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
	if err != nil {
		return nil, fmt.Errorf("docker client: %w", err)
	}
	defer cli.Close()
	ctx, cancel := context.WithTimeout(ctx, enginePingTimeout)
	defer cancel()
	return sidecar.Find(ctx, env, cli)
}

func onceSelf(find func(context.Context) (*sidecar.Self, error)) func(context.Context) (*sidecar.Self, error) {
	var once sync.Once
	var self *sidecar.Self
	return func(ctx context.Context) (*sidecar.Self, error) {
		var err error
		once.Do(func() { self, err = find(ctx) })
		return self, err
	}
}

// sidecarProject is called on every project load (watch.go loadSelected).
// Outside a container of the engine it does nothing. As a sidecar it
// checks that the project was loaded under our container's Compose project
// name and that the project directory and every build context are
// bind-mounted at their host paths, returning bad input (exit 2) with the
// lines that fix it, printed as lines (inputerr.Error.Lines: they are to
// be pasted); then it excludes our own service, so rebuildd never builds
// or recreates the container it runs in.
func sidecarProject(ctx context.Context, proj *config.Project) error {
	self, err := findSelf(ctx)
	if err != nil || self == nil {
		// Not a sidecar, or the engine cannot tell: proceed as on the
		// host; the engine error surfaces where the engine is needed.
		return nil
	}
	if err := self.CheckProject(proj.Name); err != nil {
		return &config.InputError{Msg: strings.TrimSuffix(err.Error(), "\n"), Err: err, Lines: true}
	}
	if svc := self.ExcludedService(proj.Name); svc != "" {
		excludeService(proj, svc)
	}
	if err := self.CheckMounts(projectDirs(proj)); err != nil {
		return &config.InputError{Msg: strings.TrimSuffix(err.Error(), "\n"), Err: err, Lines: true}
	}
	return nil
}

// projectDirs are the directories rebuildd reads: the project directory
// first, then the build context of every service it watches, in name
// order (contexts inside the project directory pass with it; excluded
// services, our own among them, need no mount).
func projectDirs(proj *config.Project) []sidecar.Dir {
	dirs := []sidecar.Dir{{Path: proj.Dir, What: "the project directory"}}
	for _, s := range proj.BuildServices() {
		if filepath.IsAbs(s.Build.Context) {
			dirs = append(dirs, sidecar.Dir{Path: s.Build.Context, What: "the build context of " + s.Name})
		}
	}
	return dirs
}

// excludeService marks svc excluded as if rebuild.yaml said `exclude: true`.
func excludeService(proj *config.Project, svc string) {
	if proj.Settings.Services == nil {
		proj.Settings.Services = map[string]config.ServiceSettings{}
	}
	ss := proj.Settings.Services[svc]
	ss.Exclude = true
	proj.Settings.Services[svc] = ss
}
