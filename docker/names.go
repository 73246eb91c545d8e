package docker

import (
	"context"
	"errors"
	"io"
)

// Names is a Runner that only names images: a dry run decides with it
// when no Compose CLI was asked, and builds nothing.
type Names struct {
	V1 bool // Compose v1's project_service names; v2's project-service otherwise
}

// ErrDryRun is what Names returns for anything but naming.
var ErrDryRun = errors.New("dry run: nothing is built or recreated")

// ImageName implements Runner.
func (n Names) ImageName(project, service string) string {
	if n.V1 {
		return project + "_" + service
	}
	return project + "-" + service
}

// Build implements Runner: it refuses.
func (Names) Build(context.Context, string, io.Writer) error { return ErrDryRun }

// Up implements Runner: it refuses.
func (Names) Up(context.Context, []string, bool, io.Writer) error { return ErrDryRun }
