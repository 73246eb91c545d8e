package rebuild

import (
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/rebuildd/rebuildd/config"
	"github.com/rebuildd/rebuildd/dockerfile"
	"github.com/rebuildd/rebuildd/fingerprint"
)

// ActionSync is explain's name for a live update: the changed files are
// copied into the running containers instead of rebuilding
// (docs/design.md, "Live update").
const ActionSync = "sync"

// PathAction is what a change to one path means for one service, as
// `rebuildd explain` shows it: the layer model's impact and action, the
// service's develop.watch rules first, and a sync where live update
// applies. It needs no engine.
type PathAction struct {
	Impact dockerfile.Impact
	Action string // none | restart | sync | rebuild
	Reason string
	// ContainerPaths are where a sync puts the path, one per place the
	// image holds it (containerPath); empty unless Action is sync.
	ContainerPaths []string
}

// ExplainPath says what a change to abs (absolute, cleaned) means for svc,
// whose layer model is m: a develop.watch rule that names it decides, as
// in watch mode; otherwise Classify, turned into a sync when Classify says
// rebuild, on_source allows a sync, the service has no develop.watch rules
// (planSync's conditions that need no engine) and Model.Sync says the path
// is syncable. A path that could have synced but is not says why not.
func ExplainPath(svc config.Service, m *dockerfile.Model, abs string) PathAction {
	r := m.Classify(abs)
	if rr, ok := matchRules(svc.Watch, abs); ok {
		return ruleAction(r.Impact, rr)
	}
	pa := PathAction{Impact: r.Impact, Action: string(r.Action), Reason: r.Reason}
	if r.Impact != dockerfile.ImpactSource || r.Action != dockerfile.ActionRebuild {
		return pa
	}
	switch {
	case m.OnSource() == dockerfile.OnSourceRebuild:
		pa.Reason += "; on_source: rebuild never syncs"
		return pa
	case len(svc.Watch) > 0: // as planSync: the rules decide the service's live updates
		pa.Reason += "; no sync: the service's develop.watch rules decide its live updates"
		return pa
	}
	fi, err := os.Stat(abs)
	s := m.Sync(dockerfile.Change{Path: abs, Dir: err == nil && fi.IsDir()})
	if !s.OK {
		pa.Reason += "; no sync: " + s.Reason
		return pa
	}
	if link, ok := followedLinkTo(m, abs); ok {
		pa.Reason += "; no sync: it is what the symbolic link " + link + " points to, and COPY follows that link"
		return pa
	}
	pa.Action, pa.Reason = ActionSync, s.Reason
	if len(s.Targets) == 0 {
		return pa // a new directory: its files sync one by one
	}
	img := m.Process()
	var probe []string // what reload.Decide is asked about
	for _, t := range s.Targets {
		pa.ContainerPaths = append(pa.ContainerPaths, containerPath(t))
		probe = append(probe, decidePaths(t)...)
	}
	// As planSync: nothing is synced below a mount of the container.
	if p, mnt, ok := underMount(probe, append(slices.Clone(svc.Run.Mounts), img.Volumes...)); ok {
		return PathAction{Impact: r.Impact, Action: string(r.Action),
			Reason: fmt.Sprintf("%s; no sync: %s lies under the mount at %s, where the container does not see the image", r.Reason, p, mnt)}
	}
	pa.Reason += "; " + explainRestart(m.OnSource(), img, svc.Run, probe)
	return pa
}

// underMount finds a path at or below one of mounts (container paths of
// volumes, bind mounts and tmpfs).
func underMount(paths, mounts []string) (string, string, bool) {
	for _, p := range paths {
		for _, m := range mounts {
			if p == m || m == "/" || strings.HasPrefix(p, m+"/") {
				return p, m, true
			}
		}
	}
	return "", "", false
}

// ruleAction is what a develop.watch rule does with a path (matchRules,
// as triage applies it).
func ruleAction(impact dockerfile.Impact, rr ruleResult) PathAction {
	pa := PathAction{Impact: impact, Action: string(rr.action), Reason: rr.reason}
	if rr.sync == nil {
		return pa
	}
	pa.Action, pa.ContainerPaths = ActionSync, []string{rr.sync.Container}
	switch {
	case rr.action == dockerfile.ActionRestart:
		pa.Reason += "; restart"
	case len(rr.exec) > 0:
		pa.Reason += "; then runs " + strings.Join(rr.exec, " ")
	default:
		pa.Reason += "; no restart"
	}
	return pa
}

// workdirMark stands for the image's WORKDIR where the Dockerfile leaves
// it to the base image: explain shows "<WORKDIR>/src/x".
const workdirMark = "<WORKDIR>"

// containerPath shows where a target puts the path: exactly where the
// Dockerfile settles it, "<WORKDIR>/..." relative to a working directory
// only the image knows, and both candidates where only the container can
// tell (a file copied to a destination without a trailing slash).
func containerPath(t dockerfile.Target) string {
	p, d := t.Path, t.Dir
	if t.Rel {
		if p != "" {
			p = path.Join(workdirMark, p)
		}
		if d != "" {
			d = path.Join(workdirMark, d)
		}
	}
	switch {
	case d == "":
		return p
	case p == "":
		return path.Join(d, t.Base) + " (if " + d + " is a directory in the container)"
	}
	return p + " or " + path.Join(d, t.Base) + " (the container decides)"
}

// decidePaths are the absolute paths a target may resolve to, for
// reload.Decide: a process reloads the path only if it reloads each
// candidate. A path relative to an unknown WORKDIR is put under
// "/<WORKDIR>", which the process's working directory shares when the
// image's is unknown too (composedProcess).
func decidePaths(t dockerfile.Target) []string {
	root := "/"
	if t.Rel {
		root = "/" + workdirMark
	}
	var out []string
	if t.Path != "" {
		out = append(out, path.Join(root, t.Path))
	}
	if t.Dir != "" {
		out = append(out, path.Join(root, t.Dir, t.Base))
	}
	return out
}

// followedLinkTo finds a symbolic link of the build context that resolves
// to abs or a directory above it and that a COPY follows (or that cannot
// be synced itself): watch mode then rebuilds (syncer.followed). explain
// walks the context for its links once per call.
func followedLinkTo(m *dockerfile.Model, abs string) (string, bool) {
	ctx := m.Context()
	rel, err := filepath.Rel(ctx, abs)
	if err != nil || strings.HasPrefix(rel, "..") {
		return "", false
	}
	rel = filepath.ToSlash(rel)
	links := map[string]fingerprint.FileSum{}
	_ = filepath.WalkDir(ctx, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.Type()&fs.ModeSymlink == 0 {
			return nil
		}
		if c := m.Classify(p); c.Impact != dockerfile.ImpactSource && c.Impact != dockerfile.ImpactDeps {
			return nil
		}
		t, err := os.Readlink(p)
		if r, rerr := filepath.Rel(ctx, p); err == nil && rerr == nil {
			links[filepath.ToSlash(r)] = fingerprint.FileSum{Link: t}
		}
		return nil
	})
	names := slices.Sorted(maps.Keys(links))
	for _, l := range names {
		to := resolveLink(links, l)
		if to != "" && rel != to && !strings.HasPrefix(rel, to+"/") {
			continue
		}
		s := m.Sync(dockerfile.Change{Path: filepath.Join(ctx, filepath.FromSlash(l))})
		if !s.OK || slices.ContainsFunc(s.Targets, func(t dockerfile.Target) bool { return t.Follow }) {
			return l, true
		}
	}
	return "", false
}
