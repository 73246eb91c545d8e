package sidecar

import (
	"fmt"
	"path"
	"strings"
)

// Problem is one directory rebuildd needs that is not bind-mounted at its
// host path.
type Problem struct {
	Dir  string // the path rebuildd sees (inside the container)
	What string // "the project directory" or "the build context of api"
	Got  string // how it is mounted now, in words
	Host string // the host path to mount at the same path
	// Guess is true when the host path is not known (the directory is not
	// a bind mount at all) and Host repeats Dir.
	Guess bool
}

// Line is the compose volumes: entry that fixes the problem.
func (p Problem) Line() string { return "- " + p.Host + ":" + p.Host }

// MountError says which directories are not mounted at the same path inside
// as outside, and the volumes: lines that fix it.
type MountError struct {
	Container  string // our container's name
	ProjectDir string
	Problems   []Problem
}

func (e *MountError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "running as container %q, but", e.Container)
	for i, p := range e.Problems {
		if i > 0 {
			b.WriteString(" and")
		}
		fmt.Fprintf(&b, " %s %s %s", p.What, p.Dir, p.Got)
	}
	b.WriteString(".\nCompose in this container passes paths to the Docker engine, which resolves them on the host," +
		"\nso every directory rebuildd reads must be mounted at the same absolute path inside as outside.\n" +
		"Add to the rebuildd service in compose.yaml (see docs/sidecar.md):\n\n    volumes:\n")
	for _, p := range e.Problems {
		fmt.Fprintf(&b, "      %s\n", p.Line())
	}
	fmt.Fprintf(&b, "    working_dir: %s\n", e.workingDir())
	for _, p := range e.Problems {
		if p.Guess {
			fmt.Fprintf(&b, "\n(%s is where rebuildd sees %s; if it lives elsewhere on the host, use the host path on both sides.)\n", p.Host, p.What)
			break
		}
	}
	return b.String()
}

// workingDir is where the project directory will be once the lines are
// applied: the host path of the project directory.
func (e *MountError) workingDir() string {
	for _, p := range e.Problems {
		if p.Dir == e.ProjectDir {
			return p.Host
		}
	}
	return e.ProjectDir
}

// Dir is a directory rebuildd must read, with what it is for messages.
type Dir struct {
	Path string // absolute, inside the container
	What string // "the project directory", "the build context of api"
}

// CheckMounts returns a *MountError unless every dir is on a bind mount
// whose host source, followed down to the dir, is the dir's own path. A
// dir inside an earlier one that passed is not checked again unless it has
// a mount of its own.
func (s *Self) CheckMounts(dirs []Dir) error {
	e := &MountError{Container: s.Name}
	if len(dirs) > 0 {
		e.ProjectDir = path.Clean(dirs[0].Path)
	}
	for _, d := range dirs {
		if p, bad := s.problem(d); bad {
			e.Problems = append(e.Problems, p)
		}
	}
	if len(e.Problems) == 0 {
		return nil
	}
	return e
}

// problem checks one dir against the mount that covers it.
func (s *Self) problem(d Dir) (Problem, bool) {
	dir := path.Clean(d.Path)
	p := Problem{Dir: dir, What: d.What, Host: dir}
	m, rel, ok := s.covering(dir)
	switch {
	case !ok:
		p.Got, p.Guess = "is not mounted from the host (it is in the container's own file system)", true
	case m.Type != "bind":
		p.Got, p.Guess = fmt.Sprintf("is on the %s mount %q, not a bind mount of a host directory", m.Type, mountName(m)), true
	default:
		host := path.Join(m.Source, rel)
		if host == dir {
			return p, false
		}
		p.Host = host
		p.Got = fmt.Sprintf("is the host's %s mounted at another path", host)
	}
	return p, true
}

func mountName(m Mount) string {
	if m.Name != "" {
		return m.Name
	}
	return m.Destination
}

// ProjectError is a sidecar started by Compose under one project name
// watching a project it loaded under another: its `compose up` would make a
// second copy of the stack beside the first.
type ProjectError struct {
	Container, Label, Loaded string
}

func (e *ProjectError) Error() string {
	return fmt.Sprintf("running as container %q of compose project %q, but the project loaded here is named %q: "+
		"rebuildd would build and start a second copy of the stack.\nGive the rebuildd service the same project name:\n\n"+
		"    environment:\n      COMPOSE_PROJECT_NAME: %s\n", e.Container, e.Label, e.Loaded, e.Label)
}

// CheckProject returns a *ProjectError when our container was started by
// Compose under a project name other than loaded. A container not started
// by Compose (docker run) has no label to compare and passes.
func (s *Self) CheckProject(loaded string) error {
	if s.Project == "" || s.Project == loaded {
		return nil
	}
	return &ProjectError{Container: s.Name, Label: s.Project, Loaded: loaded}
}
