package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/rebuildd/rebuildd/config"
	"github.com/rebuildd/rebuildd/docker"
	"github.com/rebuildd/rebuildd/dockerfile"
)

// serviceModel is a build service with its layer model.
type serviceModel struct {
	svc     config.Service
	model   *dockerfile.Model
	builder docker.Builder // whose ignore semantics the model uses
}

// projectBuilder is the builder the project's builds run on: rebuild.yaml's
// builder key, else the Compose CLI's (detected as --once and watch mode
// detect it, without an engine), else BuildKit. Every command models the
// context with its dialect, so explain, --once, watch mode and the
// fingerprint agree with each other and with Docker. changing is false for
// the modes that change nothing (explain, advise, --check, --dry-run).
func projectBuilder(ctx context.Context, proj *config.Project, changing bool) docker.Builder {
	return docker.DetectBuilder(ctx, proj.Settings.Builder, proj.Settings.ComposeCommand, mayRunCompose(proj, changing))
}

// mayRunCompose says whether the project's Compose CLI may be started: in
// a mode that builds, or when the user named it (--compose-command,
// REBUILDD_COMPOSE_COMMAND), or when none is named and rebuildd finds the
// user's own. A compose_command from rebuild.yaml came with the checkout,
// and the modes that change nothing never run what a checkout names, not
// even a Compose CLI's `version` (config/command.go).
func mayRunCompose(proj *config.Project, changing bool) bool {
	return changing || proj.Settings.UserComposeCommand || len(proj.Settings.ComposeCommand) == 0
}

// loadModels loads the project and the layer model of every selected build
// service (all when none are named), for the commands that need no engine
// (explain, advise). A project with nothing to build is not an error: it
// prints a note saying so and returns no models. verb names the command in
// that note.
func loadModels(cmd *cobra.Command, g *globalFlags, names []string, verb string) (*config.Project, []serviceModel, error) {
	proj, err := config.Load(cmd.Context(), g.project)
	if err != nil {
		return nil, nil, err
	}
	svcs, err := selectServices(proj, names)
	if err != nil {
		return nil, nil, err
	}
	if len(svcs) == 0 {
		fmt.Fprintf(cmd.ErrOrStderr(), "rebuildd: project %q has no service with a build: section; nothing to %s\n", proj.Name, verb)
		return proj, nil, nil
	}
	b := projectBuilder(cmd.Context(), proj, false)
	out := make([]serviceModel, 0, len(svcs))
	for _, svc := range svcs {
		m, err := dockerfile.LoadWith(svc, proj.Settings.Services[svc.Name], b.Dialect)
		if err != nil {
			return nil, nil, err
		}
		out = append(out, serviceModel{svc, m, b})
	}
	return proj, out, nil
}
