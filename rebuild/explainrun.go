package rebuild

import (
	"strings"

	"github.com/rebuildd/rebuildd/config"
	"github.com/rebuildd/rebuildd/dockerfile"
	"github.com/rebuildd/rebuildd/reload"
)

// explainRestart says whether a sync of paths (absolute container paths)
// restarts the containers: on_source decides, and under auto the process
// does (reload.Decide), read from the Dockerfile and the compose file since
// explain asks no engine. What only the base image knows is never
// guessed: an unknown command is a restart "unless its process reloads".
func explainRestart(policy string, img dockerfile.ImageProcess, run config.Run, paths []string) string {
	switch policy {
	case dockerfile.OnSourceSync:
		return "no restart (on_source: sync)"
	case dockerfile.OnSourceSyncRestart, dockerfile.OnSourceRestart:
		return "restart (on_source: " + policy + ")"
	}
	p, unknown, epFromBase := composedProcess(img, run)
	if unknown != "" {
		return "restart unless its process reloads (" + unknown + ")"
	}
	v := reload.Decide(p, paths)
	why := strings.ReplaceAll(v.Why, "/"+workdirMark, workdirMark)
	if v.Reloads && epFromBase {
		why += ", if the ENTRYPOINT of " + img.Base + " runs the command"
	}
	return why
}

// composedProcess is what the service's containers would run: the image's
// config as the Dockerfile settles it, merged with compose's overrides the
// way the engine merges a container's config with its image's (an
// entrypoint given drops the image's command; an empty command keeps it).
// unknown says what only the engine knows when the command itself is the
// base image's; epFromBase: the entrypoint is the base image's, which
// official images use to run the command.
func composedProcess(img dockerfile.ImageProcess, run config.Run) (p reload.Process, unknown string, epFromBase bool) {
	p.Entrypoint, p.Cmd = run.Entrypoint, run.Command
	if len(run.Entrypoint) == 0 {
		if len(run.Command) == 0 {
			if !img.CmdSet {
				return p, "its command is the CMD of " + img.Base + ", not known without the engine", false
			}
			p.Cmd = img.Cmd
		}
		if run.Entrypoint == nil {
			p.Entrypoint, epFromBase = img.Entrypoint, !img.EntrypointSet
		}
	}
	p.Env = append(append([]string{}, img.Env...), run.Environment...)
	switch {
	case run.WorkingDir != "":
		p.WorkingDir = run.WorkingDir
	case img.WorkdirSet:
		p.WorkingDir = img.Workdir
	default:
		p.WorkingDir = "/" + workdirMark // the image's: decidePaths puts relative targets there too
	}
	return p, "", epFromBase
}
