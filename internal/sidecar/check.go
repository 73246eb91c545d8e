package sidecar

import (
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/rebuildd/rebuildd/internal/escape"
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

// Line is the compose volumes: entry that fixes this problem alone.
func (p Problem) Line() string { return volumesLine(p.Host) }

func volumesLine(host string) string { return "- " + host + ":" + host }

// MountError says which directories are not mounted at the same path inside
// as outside, and the volumes: line that fixes it.
type MountError struct {
	Container  string // our container's name
	ProjectDir string
	Problems   []Problem
}

// fix is one volumes: entry and the problems it solves, in check order.
type fix struct {
	host     string
	problems []Problem
}

// fixes groups the problems under as few volumes: entries as possible:
// one, the nearest common ancestor of every host path, unless that is the
// host's root (mounting / would hand the whole host to the container);
// then one per host path not inside another. The contexts of a project
// usually sit inside it, so the answer is one line for the project.
func (e *MountError) fixes() []fix {
	var hosts []string
	for _, p := range e.Problems {
		hosts = append(hosts, p.Host)
	}
	var tops []string
	if anc := commonAncestor(hosts); anc != "/" {
		tops = []string{anc}
	} else {
		sorted := append([]string(nil), hosts...)
		sort.Strings(sorted)
		for _, h := range sorted {
			if len(tops) == 0 || !isBelow(h, tops[len(tops)-1]) {
				tops = append(tops, h)
			}
		}
	}
	fixes := make([]fix, len(tops))
	for i, t := range tops {
		fixes[i].host = t
	}
	for _, p := range e.Problems {
		for i := range fixes {
			if isBelow(p.Host, fixes[i].host) {
				fixes[i].problems = append(fixes[i].problems, p)
				break
			}
		}
	}
	sort.SliceStable(fixes, func(i, j int) bool { return e.order(fixes[i]) < e.order(fixes[j]) })
	return fixes
}

// order is where a fix's first problem was found, so the message follows
// the check order (the project directory first).
func (e *MountError) order(f fix) int {
	for i, p := range e.Problems {
		if len(f.problems) > 0 && p.Dir == f.problems[0].Dir {
			return i
		}
	}
	return len(e.Problems)
}

// Lines are the volumes: entries that fix every problem, fewest first.
func (e *MountError) Lines() []string {
	var out []string
	for _, f := range e.fixes() {
		out = append(out, volumesLine(f.host))
	}
	return out
}

// Error is one message: each wrong mount said once (the directories below
// it only named), the volumes: line(s) and the working_dir to use. It is
// several lines, printed as such (cmd/rebuildd: inputerr.Error.Lines), so
// every path and name in it is escaped to one line (escape.Line): a
// directory name cannot forge a line of the fix.
func (e *MountError) Error() string {
	q := escape.Line
	var b strings.Builder
	fmt.Fprintf(&b, "running as container %q, but", e.Container)
	fixes := e.fixes()
	for i, f := range fixes {
		if i > 0 {
			b.WriteString("; and")
		}
		p := f.problems[0]
		fmt.Fprintf(&b, " %s %s %s", q(p.What), q(p.Dir), q(p.Got))
		if rest := otherDirs(f.problems); len(rest) > 0 {
			fmt.Fprintf(&b, " (so %s %s, below it)", isAre(len(rest)), q(joinAnd(rest)))
		}
	}
	b.WriteString(".\nCompose in this container passes paths to the Docker engine, which resolves them on the host," +
		"\nso the project must be mounted at the same absolute path inside as outside.\n" +
		"Add to the rebuildd service in compose.yaml (see docs/sidecar.md):\n\n    volumes:\n")
	for _, l := range e.Lines() {
		fmt.Fprintf(&b, "      %s\n", q(l))
	}
	fmt.Fprintf(&b, "    working_dir: %s\n", q(e.workingDir()))
	for _, p := range e.Problems {
		if p.Guess {
			fmt.Fprintf(&b, "\n(%s is where rebuildd sees %s; if it lives elsewhere on the host, use the host path on both sides.)\n", q(p.Host), q(p.What))
			break
		}
	}
	return b.String()
}

// otherDirs are the paths of a fix's problems after the first, once each.
func otherDirs(ps []Problem) []string {
	seen := map[string]bool{ps[0].Dir: true}
	var out []string
	for _, p := range ps[1:] {
		if !seen[p.Dir] {
			seen[p.Dir] = true
			out = append(out, p.Dir)
		}
	}
	return out
}

func isAre(n int) string {
	if n == 1 {
		return "is"
	}
	return "are"
}

func joinAnd(s []string) string {
	if len(s) <= 1 {
		return strings.Join(s, "")
	}
	return strings.Join(s[:len(s)-1], ", ") + " and " + s[len(s)-1]
}

// commonAncestor is the deepest directory holding every path (clean,
// absolute); "/" when they share nothing else.
func commonAncestor(paths []string) string {
	if len(paths) == 0 {
		return "/"
	}
	anc := paths[0]
	for _, p := range paths[1:] {
		for !isBelow(p, anc) {
			anc = path.Dir(anc)
		}
	}
	return anc
}

// isBelow reports whether p is dir or inside it.
func isBelow(p, dir string) bool {
	_, ok := below(p, dir)
	return ok
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
// path given twice (two services sharing a context) is checked once.
func (s *Self) CheckMounts(dirs []Dir) error {
	e := &MountError{Container: s.Name}
	if len(dirs) > 0 {
		e.ProjectDir = path.Clean(dirs[0].Path)
	}
	seen := map[string]bool{}
	for _, d := range dirs {
		if seen[path.Clean(d.Path)] {
			continue
		}
		seen[path.Clean(d.Path)] = true
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

// Error is several lines, as MountError's: the label is escaped to one.
func (e *ProjectError) Error() string {
	return fmt.Sprintf("running as container %q of compose project %q, but the project loaded here is named %q: "+
		"rebuildd would build and start a second copy of the stack.\nGive the rebuildd service the same project name:\n\n"+
		"    environment:\n      COMPOSE_PROJECT_NAME: %s\n", e.Container, e.Label, e.Loaded, escape.Line(e.Label))
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
