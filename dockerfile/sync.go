package dockerfile

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// Change is one changed path as the watcher reports it.
type Change struct {
	Path    string // absolute, as Classify takes it
	Dir     bool   // it is a directory (for a removal: it was one)
	Removed bool   // it no longer exists: it is to be removed in the container
}

// Sync says whether a change may be copied into the service's running
// containers instead of rebuilding the image (docs/design.md, "Live
// update"), and where the image holds the path.
type Sync struct {
	OK bool `json:"ok"`
	// Reason says why not, naming Dockerfile:line ("RUN npm run build at
	// Dockerfile:9 runs after COPY at Dockerfile:6"), or, when OK, which
	// instructions place the path ("COPY src/ ./src/ at Dockerfile:6").
	Reason string `json:"reason"`
	// Targets are the places the image holds the path, in build order of
	// the last write to each: apply them in order, so where two resolve
	// to the same container path the later owner and mode win. Empty when
	// OK and nothing of the path itself lands in the image (a new directory
	// whose files a wildcard copies one by one).
	Targets []Target `json:"targets,omitempty"`
}

// Target is one place the image holds a synced path, with the owner and
// mode the image gives it.
type Target struct {
	// Path is the in-container path. When Dir is set the COPY named its
	// destination without a trailing slash, and only the container can say
	// which it was: if Dir is a directory there, the file is Dir/Base;
	// otherwise it is Path, and when Path is "" the change is not syncable
	// after all. Resolve applies this.
	Path string `json:"path,omitempty"`
	Dir  string `json:"dir,omitempty"`
	Base string `json:"base,omitempty"`
	// Rel: Path and Dir are relative to the image's WORKDIR, which the
	// Dockerfile leaves to its base image (Resolve asks for it).
	Rel bool `json:"rel,omitempty"`
	// Mkdir: Path is the COPY's destination directory itself (the source
	// directory's contents go into it). BuildKit only makes sure it exists:
	// created with mode 0755 and Owner when missing, untouched otherwise.
	Mkdir bool  `json:"mkdir,omitempty"`
	Owner Owner `json:"owner"`
	// Mode holds the --chmod permission bits when Chmod is set. Otherwise
	// the file keeps the host file's mode bits, as BuildKit copies them.
	Mode  fs.FileMode `json:"mode,omitempty"`
	Chmod bool        `json:"chmod,omitempty"`
	// Follow: the path is a COPY source itself (or a wildcard's match), so
	// BuildKit copies what a symlink there points to. Below a source
	// directory a symlink is copied as a symlink.
	Follow bool   `json:"follow,omitempty"`
	Input  *Input `json:"-"` // the COPY or ADD that puts it there
}

// Container answers what only a running container or its image knows.
type Container interface {
	// IsDir reports whether path is a directory in the container,
	// following symlinks; false when nothing is there.
	IsDir(path string) (bool, error)
	// Workdir is the WorkingDir of the container's image config (Engine
	// API image inspect, not the container's, which compose may override);
	// "" means "/".
	Workdir() (string, error)
}

// ErrNotSyncable is returned by Resolve when the container shows the change
// cannot be synced after all.
var ErrNotSyncable = errors.New("not syncable")

// Resolve gives the target's absolute path in the container c.
func (t Target) Resolve(c Container) (string, error) {
	p, d := t.Path, t.Dir
	if t.Rel {
		wd, err := c.Workdir()
		if err != nil {
			return "", fmt.Errorf("image working directory: %w", err)
		}
		wd = path.Join("/", wd)
		if p != "" {
			p = path.Join(wd, p)
		}
		if d != "" {
			d = path.Join(wd, d)
		}
	}
	if d == "" {
		return p, nil
	}
	isDir, err := c.IsDir(d)
	if err != nil {
		return "", fmt.Errorf("stat %q in the container: %w", d, err)
	}
	switch {
	case isDir:
		return path.Join(d, t.Base), nil
	case p == "":
		return "", fmt.Errorf("%w: %q is not a directory in the container, so several files were copied to it", ErrNotSyncable, d)
	}
	return p, nil
}

// Sync says whether the change may be synced into the service's running
// containers, and where (docs/design.md, "Live update"): its impact is
// source; every instruction that reads it is a COPY or ADD of the final
// image's layer stack (the target stage and the stages it is built FROM);
// no RUN follows one; no later instruction may write the same place with
// something else, and none copies it on (COPY --from); the destination is
// known from the Dockerfile. Anything else is not syncable, with a reason.
//
// Sync reads the build context's directory listing where BuildKit would
// (which files a wildcard matches, whether a later source has a file at the
// same place), never file contents. It does not look at bind mounts: a
// bind-mounted path needs nothing (Classify). Safe for concurrent use.
func (m *Model) Sync(ch Change) Sync {
	p := filepath.Clean(ch.Path)
	r := m.Classify(p)
	if ch.Dir {
		r = m.ClassifyDir(p)
	}
	if r.Impact != ImpactSource {
		return Sync{Reason: r.Reason}
	}
	plan := m.an.plan
	if plan == nil {
		return Sync{Reason: "no sync plan: the model was not built from a Dockerfile analysis"}
	}
	rel, _ := m.rel(p)
	var readers []*Input
	for _, in := range m.an.Inputs {
		if in.Reads(rel) {
			readers = append(readers, in)
		}
	}
	if len(readers) == 0 { // ClassifyDir: inputs read files below it
		if ch.Dir && !ch.Removed {
			return Sync{OK: true, Reason: "no instruction copies the directory itself; its files sync one by one"}
		}
		return Sync{Reason: "instructions copy files below it, not the directory itself (" + r.Reason + ")"}
	}
	var targets []Target
	for _, in := range readers {
		at, ok := plan.at[in]
		if !ok {
			return Sync{Reason: fmt.Sprintf("%s at %s is not in the sync plan", in.Kind, m.at(in))}
		}
		w := plan.stages[at.stage].writes[at.i]
		if why := m.veto(plan, in, w); why != "" {
			return Sync{Reason: why}
		}
		for j := range w.srcs {
			s, ok := w.place(j, rel, ch.Dir)
			if !ok {
				continue
			}
			if why := m.vetoSpot(plan, at, w, j, s, rel, ch); why != "" {
				return Sync{Reason: why}
			}
			targets = addTarget(targets, w.target(s, ch.Dir))
		}
	}
	return Sync{OK: true, Reason: m.placedBy(targets), Targets: targets}
}

// veto says why an input that reads the path makes it not syncable, "" when
// it does not.
func (m *Model) veto(plan *syncPlan, in *Input, w *write) string {
	at := plan.at[in]
	ps := plan.stages[at.stage]
	switch {
	case !ps.inStack:
		return fmt.Sprintf("read by %s at %s in stage %s, which the image is not built FROM (its result is copied or mounted, not synced)", in.Kind, m.at(in), ps.name)
	case in.Kind == "RUN":
		return fmt.Sprintf("read by %s at %s: the command runs with it", shortText(in.Text), m.at(in))
	case in.RunAfter != nil:
		return fmt.Sprintf("%s at %s runs after %s at %s", shortText(in.RunAfter.Text), m.atLine(in.RunAfter.Line), in.Kind, m.at(in))
	case w.unknown != "":
		return fmt.Sprintf("the destination of %s at %s is unknown: %s", in.Kind, m.at(in), w.unknown)
	case w.relDest && plan.stackWorkdir():
		return fmt.Sprintf("%s at %s copies relative to the base image's WORKDIR, which a WORKDIR of the Dockerfile then hides; give it an absolute destination", in.Kind, m.at(in))
	case w.link && !w.destDir:
		return fmt.Sprintf("%s --link at %s: a destination without a trailing slash is not modelled for --link", in.Kind, m.at(in))
	}
	if _, why := w.mode(); why != "" {
		return fmt.Sprintf("%s at %s: %s", in.Kind, m.at(in), why)
	}
	return ""
}

// vetoSpot says why the spot s, where source j of w puts rel, is not
// syncable, "" when it is.
func (m *Model) vetoSpot(plan *syncPlan, at wpos, w *write, j int, s spot, rel string, ch Change) string {
	switch {
	case w.add && s.top && !ch.Dir && (w.unpack == nil || *w.unpack):
		return fmt.Sprintf("ADD at %s extracts a local tar archive (BuildKit tells one by its content, not its name); use COPY for files that are not archives", m.atLine(w.step.Line))
	case s.top && ch.Dir && ch.Removed:
		return fmt.Sprintf("it is a source of %s at %s: removing it changes what the instruction copies", w.input.Kind, m.at(w.input))
	case s.top && ch.Removed && !hasWildcard(w.srcs[j]):
		return fmt.Sprintf("%s at %s names it: without it the build fails", w.input.Kind, m.at(w.input))
	case s.top && ch.Removed && !w.parents && m.lastMatch(w.srcs[j], rel):
		// Docker 20.10's BuildKit sends only the files the sources match,
		// then fails to find the wildcard's directory
		// ("lstat .../conf: no such file or directory").
		return fmt.Sprintf("it is the last file %s at %s matches: Docker 20.10's BuildKit then fails the build", w.srcs[j], m.at(w.input))
	}
	if why := m.overwriter(plan, at, j, s, rel, ch.Removed); why != "" {
		return why
	}
	if why := m.userDBChanged(plan, at, j, w); why != "" {
		return why
	}
	return m.flowsOut(plan, at.stage, s)
}

// lastMatch reports whether rel is the only context path the wildcard
// source src matches.
func (m *Model) lastMatch(src, rel string) bool {
	for _, c := range m.globContext(cleanSource(src)) {
		if _, ok := m.inContext(c); ok && c != rel {
			return false
		}
	}
	return true
}

// userDBChanged says why the container's /etc/passwd or /etc/group may not
// be the one BuildKit resolved w's --chown names in: a later instruction
// of the stack may write it. "" when the names resolve alike.
func (m *Model) userDBChanged(plan *syncPlan, at wpos, j int, w *write) string {
	o := parseChown(w.chown)
	for _, db := range []struct{ name, file string }{{o.User, "/etc/passwd"}, {o.Group, "/etc/group"}} {
		if db.name == "" {
			continue
		}
		// match "": the COPY's own source counts too (BuildKit reads
		// the names before it copies).
		if why := m.overwriter(plan, at, j, spot{path: db.file}, "", false); why != "" {
			return fmt.Sprintf("--chown=%s at %s names %q, but the container's %s may not be the one the COPY saw: %s",
				w.chown, m.atLine(w.step.Line), db.name, db.file, why)
		}
	}
	return ""
}

// mode is the --chmod the image applies, in the form both Docker 20.10's
// BuildKit (0.8) and today's read the same: octal permission bits. The
// others differ: 0.8 ignores a symbolic mode or a variable, later versions
// apply them; bits above 0777 are masked by 0.8 only.
func (w *write) mode() (fs.FileMode, string) {
	if w.chmod == "" {
		return 0, ""
	}
	if strings.Contains(w.chmodRaw, "$") {
		return 0, fmt.Sprintf("--chmod=%s: Docker 20.10's BuildKit ignores a --chmod with a variable, later versions expand it", w.chmodRaw)
	}
	p, err := strconv.ParseUint(w.chmod, 8, 32)
	switch {
	case err != nil:
		return 0, fmt.Sprintf("--chmod=%s: Docker 20.10's BuildKit ignores a symbolic --chmod, later versions apply it", w.chmod)
	case p > 0o777:
		return 0, fmt.Sprintf("--chmod=%s: setuid, setgid and sticky bits differ between BuildKit versions", w.chmod)
	}
	return fs.FileMode(p), ""
}

// target is the Target of a spot.
func (w *write) target(s spot, dir bool) Target {
	t := Target{Path: s.path, Dir: s.dir, Base: s.base, Rel: s.rel, Owner: parseChown(w.chown),
		Follow: s.top, Input: w.input, Mkdir: s.top && dir && !w.parents}
	if mode, _ := w.mode(); w.chmod != "" && !t.Mkdir {
		t.Mode, t.Chmod = mode, true
	}
	return t
}

// addTarget adds t after dropping an earlier target at the same place:
// the later instruction wins, with its owner and mode, and the list stays
// in the order of the last writes (two targets that only the container
// can tell apart may still resolve to one path: the later wins there too).
func addTarget(ts []Target, t Target) []Target {
	ts = slices.DeleteFunc(ts, func(o Target) bool { return o.Path == t.Path && o.Dir == t.Dir && o.Rel == t.Rel })
	return append(ts, t)
}

// placedBy names the instructions that place the targets.
func (m *Model) placedBy(ts []Target) string {
	var out []string
	seen := map[*Input]bool{}
	for _, t := range ts {
		if t.Input != nil && !seen[t.Input] {
			seen[t.Input] = true
			out = append(out, fmt.Sprintf("%s at %s", shortText(t.Input.Text), m.at(t.Input)))
		}
	}
	return strings.Join(out, "; ")
}

func (m *Model) atLine(line int) string { return fmt.Sprintf("%s:%d", m.dfName, line) }
