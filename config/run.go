package config

import (
	"path"
	"slices"
	"sort"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
)

// Run is what a service's compose file says about the process its
// containers run, over the image's config. Compose hands Entrypoint and
// Command to the engine as written (a string split into words, not run by
// a shell), and the engine merges them with the image's config.
type Run struct {
	// Entrypoint and Command are nil when the compose file does not set
	// them; an empty, non-nil list was set empty (`entrypoint: []`).
	Entrypoint, Command []string
	// Environment is the service's environment with its values resolved
	// ("KEY=value", sorted); a variable without a value is left out, as
	// compose leaves it out.
	Environment []string
	WorkingDir  string // "" when not set
	// Mounts are the container paths compose mounts something at (volumes
	// of every type, bind mounts, tmpfs), sorted: the image is not what
	// the container sees there.
	Mounts []string
}

// runOf reads a service's process overrides.
func runOf(sc types.ServiceConfig) Run {
	r := Run{WorkingDir: sc.WorkingDir}
	if sc.Entrypoint != nil {
		r.Entrypoint = append([]string{}, sc.Entrypoint...)
	}
	if sc.Command != nil {
		r.Command = append([]string{}, sc.Command...)
	}
	for k, v := range sc.Environment {
		if v != nil {
			r.Environment = append(r.Environment, k+"="+*v)
		}
	}
	sort.Strings(r.Environment)
	for _, v := range sc.Volumes {
		r.Mounts = append(r.Mounts, path.Clean(v.Target))
	}
	for _, t := range sc.Tmpfs {
		target, _, _ := strings.Cut(t, ":")
		r.Mounts = append(r.Mounts, path.Clean(target))
	}
	sort.Strings(r.Mounts)
	r.Mounts = slices.Compact(r.Mounts)
	return r
}
