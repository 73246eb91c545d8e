package rebuild

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/rebuildd/rebuildd/docker"
	"github.com/rebuildd/rebuildd/dockerfile"
	"github.com/rebuildd/rebuildd/fingerprint"
)

// What a live update writes into one container (docs/design.md, "Live
// update"): every place dockerfile.Model.Sync says the image holds a
// changed file, resolved in the container, with the owner and mode the
// image gives it. Planning reads the host files and asks the container
// but changes nothing, so a change found not syncable half-way leaves
// every container as it was and simply rebuilds.

// maxSyncFile bounds one file a sync holds in memory; a bigger one rebuilds.
const maxSyncFile = 64 << 20

// errRaced: a file changed again after the print was taken. The watcher
// reports that change too, and its sync copies it.
var errRaced = errors.New("a file changed again while it was being synced")

// containerPlan is one container's share of a sync.
type containerPlan struct {
	c       docker.Container
	lc      docker.LiveContainer
	entries []docker.TarEntry
	remove  []string // container paths
	put     []string // container paths written, for the log and reload.Decide
	dirs    []string // container paths of the directories written
	base    base
}

// syncer plans one sync: the model, the context, and the current print.
type syncer struct {
	ctx   context.Context
	live  docker.Live
	model *dockerfile.Model
	print *fingerprint.Print
	syncs map[string]dockerfile.Sync // by context-relative path (+"/" for a directory)
	// alive are the IDs of every container of the image's services, in
	// any state: a mark of this service for any other container is for
	// one that is gone (recreated), and is dropped.
	alive map[string]bool
	links [][2]string // the print's links and where they resolve (followed)
}

// sync is Model.Sync for a context-relative path, asked once per sync.
func (s *syncer) sync(rel string, dir, removed bool) dockerfile.Sync {
	key := rel
	if dir {
		key += "/"
	}
	if r, ok := s.syncs[key]; ok {
		return r
	}
	r := s.model.Sync(dockerfile.Change{Path: filepath.Join(s.model.Context(), filepath.FromSlash(rel)), Dir: dir, Removed: removed})
	s.syncs[key] = r
	return r
}

// followed says why d cannot be synced when a changed file is what a
// symbolic link of the context points to and a COPY follows that link (it
// names the link, or a wildcard matches it): the image then holds the
// file's content at the link's destination too, which Model.Sync of the
// file does not name. A link that cannot be synced itself counts as
// followed. BuildKit resolves links inside the context, an absolute
// target from the context's root.
func (s *syncer) followed(d fileDiff) string {
	if len(d.Put)+len(d.Removed) == 0 {
		return ""
	}
	if s.links == nil { // once per sync, not per container
		s.links = [][2]string{}
		for rel, f := range s.print.Files {
			if f.Link != "" && !f.Live {
				s.links = append(s.links, [2]string{rel, resolveLink(s.print.Files, rel)})
			}
		}
	}
	for _, l := range s.links {
		rel, to := l[0], l[1]
		hit := ""
		for _, c := range slices.Concat(d.Put, d.Removed) {
			if to == "" || c == to || strings.HasPrefix(c, to+"/") {
				hit = c
				break
			}
		}
		if hit == "" {
			continue
		}
		r := s.sync(rel, false, false)
		if !r.OK || slices.ContainsFunc(r.Targets, func(t dockerfile.Target) bool { return t.Follow }) {
			return hit + " is what the symbolic link " + rel + " points to, and COPY follows that link"
		}
	}
	return ""
}

// resolveLink follows the link at rel through the context's links, as
// BuildKit does (an absolute target from the context's root, never above
// it); "" is the context root itself.
func resolveLink(files map[string]fingerprint.FileSum, rel string) string {
	for range 40 {
		f, ok := files[rel]
		if !ok || f.Link == "" {
			return rel
		}
		t := f.Link
		if !path.IsAbs(t) {
			t = path.Join("/", path.Dir(rel), t)
		}
		rel = strings.TrimPrefix(path.Clean("/"+t), "/")
	}
	return rel
}

// box is what Target.Resolve asks of one container.
type box struct {
	ctx  context.Context
	live docker.Live
	id   string
	lc   docker.LiveContainer
}

func (b box) IsDir(p string) (bool, error) {
	_, dir, err := b.live.Stat(b.ctx, b.id, p)
	return dir, err
}

func (b box) Workdir() (string, error) { return b.lc.ImageWorkdir, nil }

// plan works out what c needs to hold the current print; why says why it
// cannot be synced ("" when it can).
func (s *syncer) plan(c docker.Container, b base, d fileDiff) (*containerPlan, string, error) {
	lc, err := s.live.Inspect(s.ctx, c.ID)
	if err != nil {
		return nil, "", err
	}
	if lc.ReadOnly {
		// Asked before anything is copied: the engine would refuse the
		// copy, and a dry run could not tell (docs/design.md, "Live update").
		return nil, "container " + c.Name + " has a read-only root file system", nil
	}
	p := &containerPlan{c: c, lc: lc, base: b}
	bx := box{ctx: s.ctx, live: s.live, id: c.ID, lc: lc}
	users := &userDB{box: bx}
	for _, rel := range d.NewDirs {
		if why, err := s.planDir(p, bx, users, rel); why != "" || err != nil {
			return nil, why, err
		}
	}
	for _, rel := range d.Put {
		if why, err := s.planFile(p, bx, users, rel); why != "" || err != nil {
			return nil, why, err
		}
	}
	for _, rel := range d.Removed {
		if why, err := s.planRemoval(p, bx, rel, false); why != "" || err != nil {
			return nil, why, err
		}
	}
	// A directory removed with its files goes too: COPY leaves none where
	// the context has none, and rm of the files alone left it empty in
	// the container while the mark said the container holds the image.
	for _, rel := range goneDirs(s.model.Context(), d.Removed) {
		if why, err := s.planRemoval(p, bx, rel, true); why != "" || err != nil {
			return nil, why, err
		}
	}
	return p, "", nil
}

// planRemoval removes a removed file, or a directory gone with its files,
// at every place the image held it.
func (s *syncer) planRemoval(p *containerPlan, bx box, rel string, dir bool) (string, error) {
	r := s.sync(rel, dir, true)
	if !r.OK {
		if dir {
			rel += "/"
		}
		return rel + ": " + r.Reason, nil
	}
	for _, t := range r.Targets {
		if dir && t.Mkdir {
			continue // the COPY's destination itself, which the build makes
		}
		at, why, err := place(bx, t)
		if why != "" || err != nil {
			return why, err
		}
		p.remove = append(p.remove, at)
	}
	return "", nil
}

// goneDirs are the directories of removed files (context-relative) that
// no longer exist in the context, only the topmost of each removed tree
// (rm -rf takes what is below it), sorted. A directory still there, if
// empty, is copied by COPY and stays.
func goneDirs(root string, removed []string) []string {
	gone := map[string]bool{}
	isGone := func(d string) bool {
		g, ok := gone[d]
		if !ok {
			_, err := os.Lstat(filepath.Join(root, filepath.FromSlash(d)))
			g = errors.Is(err, fs.ErrNotExist)
			gone[d] = g
		}
		return g
	}
	var out []string
	for _, rel := range removed {
		top := ""
		for d := path.Dir(rel); d != "." && isGone(d); d = path.Dir(d) {
			top = d
		}
		if top != "" && !slices.Contains(out, top) {
			out = append(out, top)
		}
	}
	slices.Sort(out)
	return out
}

// place resolves t in the container; below a mount the image is not what
// the container sees, so that is not syncable.
func place(bx box, t dockerfile.Target) (string, string, error) {
	at, err := t.Resolve(bx)
	if errors.Is(err, dockerfile.ErrNotSyncable) {
		return "", err.Error(), nil
	}
	if err != nil {
		return "", "", err
	}
	if m, under := bx.lc.Under(at); under {
		return "", fmt.Sprintf("%s is below the mount at %s in container %s", at, m, bx.id[:min(12, len(bx.id))]), nil
	}
	return at, "", nil
}

// planDir adds a new directory with the owner and mode the image gives it.
func (s *syncer) planDir(p *containerPlan, bx box, users *userDB, rel string) (string, error) {
	r := s.sync(rel, true, false)
	if !r.OK {
		return rel + "/: " + r.Reason, nil
	}
	fi, err := os.Lstat(filepath.Join(s.model.Context(), filepath.FromSlash(rel)))
	if err != nil || !fi.IsDir() {
		return "", errRaced
	}
	for _, t := range r.Targets {
		if t.Chmod {
			return rel + "/: a new directory under COPY --chmod", nil
		}
		at, why, err := place(bx, t)
		if why != "" || err != nil {
			return why, err
		}
		mode := fi.Mode() & (fs.ModePerm | fs.ModeSetgid | fs.ModeSticky)
		if t.Mkdir {
			if ok, _, err := s.live.Stat(s.ctx, bx.id, at); err != nil || ok {
				if err != nil {
					return "", err
				}
				continue // BuildKit leaves an existing destination as it is
			}
			mode = 0o755
		}
		uid, gid, err := users.owner(t.Owner)
		if err != nil {
			return "", err
		}
		p.entries = append(p.entries, docker.TarEntry{Path: at, Mode: fs.ModeDir | mode, UID: uid, GID: gid, ModTime: fi.ModTime()})
		p.dirs = append(p.dirs, at)
	}
	return "", nil
}

// planFile adds a changed file at every place the image holds it,
// checking that what is read is what the print holds.
func (s *syncer) planFile(p *containerPlan, bx box, users *userDB, rel string) (string, error) {
	abs := filepath.Join(s.model.Context(), filepath.FromSlash(rel))
	fi, err := os.Lstat(abs)
	if err != nil {
		return "", errRaced
	}
	var en docker.TarEntry
	switch {
	case fi.Mode().IsRegular():
		if fi.Size() > maxSyncFile {
			return fmt.Sprintf("%s is larger than %d MiB", rel, maxSyncFile>>20), nil
		}
		data, err := os.ReadFile(abs)
		if err != nil {
			return "", errRaced
		}
		if fingerprint.ContentSum(fi, data) != s.print.Files[rel].Sum {
			return "", errRaced
		}
		en = docker.TarEntry{Host: abs, Data: data, ModTime: fi.ModTime()}
	case fi.Mode()&fs.ModeSymlink != 0:
		target, err := os.Readlink(abs)
		if err != nil || fingerprint.LinkSum(fi, target) != s.print.Files[rel].Sum {
			return "", errRaced
		}
		en = docker.TarEntry{Host: abs, Link: target, Mode: fs.ModeSymlink | 0o777, ModTime: fi.ModTime()}
	default:
		return rel + " is not a regular file or a symbolic link", nil
	}
	r := s.sync(rel, false, false)
	if !r.OK {
		return rel + ": " + r.Reason, nil
	}
	if len(r.Targets) == 0 {
		return rel + ": the Dockerfile puts it nowhere rebuildd can name", nil
	}
	for _, t := range r.Targets {
		if en.Link != "" && t.Follow {
			return rel + " is a symbolic link that COPY follows", nil
		}
		at, why, err := place(bx, t)
		if why != "" || err != nil {
			return why, err
		}
		uid, gid, err := users.owner(t.Owner)
		if err != nil {
			return "", err
		}
		e := en
		e.Path, e.UID, e.GID = at, uid, gid
		if en.Link == "" {
			e.Mode = fi.Mode() & (fs.ModePerm | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky)
			if t.Chmod {
				e.Mode = t.Mode.Perm()
			}
		}
		p.entries = append(p.entries, e)
		p.put = append(p.put, at)
	}
	return "", nil
}

// userDB reads the container's /etc/passwd and /etc/group once, for
// --chown names (the container has the files the COPY saw: no RUN
// follows a syncable COPY).
type userDB struct {
	box           box
	read          bool
	passwd, group []byte
}

// maxUserDB bounds what is read of /etc/passwd and /etc/group.
const maxUserDB = 4 << 20

func (u *userDB) owner(o dockerfile.Owner) (int, int, error) {
	if o.Known() {
		return o.UID, o.GID, nil
	}
	if !u.read {
		var err error
		if u.passwd, err = u.box.live.ReadFile(u.box.ctx, u.box.id, "/etc/passwd", maxUserDB); err != nil {
			return 0, 0, err
		}
		if u.group, err = u.box.live.ReadFile(u.box.ctx, u.box.id, "/etc/group", maxUserDB); err != nil {
			return 0, 0, err
		}
		u.read = true
	}
	uid, gid := o.Resolve(u.passwd, u.group)
	return uid, gid, nil
}

// mark is what c holds once the plan is carried out: the print, and the
// removals this and earlier syncs made that nothing wrote back since.
func (p *containerPlan) mark(service string, print *fingerprint.Print, at time.Time) fingerprint.SyncMark {
	m := fingerprint.SyncMark{Service: service, Sum: print.Sum, Parts: print.Parts,
		Removed: mergeRemoved(p.base.Removed, p.remove), At: at}
	return m.Without(p.written())
}

// written are the container paths the plan writes, files and
// directories: a removal an earlier sync made there is undone.
func (p *containerPlan) written() []string {
	return append(append([]string{}, p.put...), p.dirs...)
}

// containerPaths are the paths a plan names, for logs: written, then removed.
func (p *containerPlan) containerPaths() []string {
	out := append([]string{}, p.put...)
	for _, r := range p.remove {
		out = append(out, path.Clean(r))
	}
	return out
}
