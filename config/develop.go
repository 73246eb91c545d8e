package config

import (
	"path/filepath"

	"github.com/compose-spec/compose-go/v2/types"
)

// WatchRule is one develop.watch trigger of a service: the rules written for
// `docker compose watch`. They take precedence over inference for the paths
// they name, so such projects work unchanged.
type WatchRule struct {
	Path    string   // absolute host path (file or directory)
	Action  string   // sync | rebuild | restart | sync+restart | sync+exec
	Target  string   // container path the sync actions copy to
	Ignore  []string // patterns relative to Path, .dockerignore syntax
	Include []string // when set, only paths matching one of these trigger
	Exec    []string // the command of sync+exec
}

// developRules resolves a service's develop.watch triggers against the
// project directory (compose-go leaves them as written).
func developRules(sc types.ServiceConfig, projectDir string) []WatchRule {
	if sc.Develop == nil {
		return nil
	}
	var out []WatchRule
	for _, tr := range sc.Develop.Watch {
		p := tr.Path
		if !filepath.IsAbs(p) {
			p = filepath.Join(projectDir, p)
		}
		out = append(out, WatchRule{Path: filepath.Clean(p), Action: string(tr.Action), Target: tr.Target,
			Ignore: tr.Ignore, Include: tr.Include, Exec: tr.Exec.Command})
	}
	return out
}
