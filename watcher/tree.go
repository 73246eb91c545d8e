package watcher

import (
	"os"
	"path/filepath"

	"go.uber.org/zap"
)

// attach starts watching a root. A root that does not exist (yet, or any
// more) is reported missing and its nearest existing ancestor is watched
// until it appears. report says whether existing files count as changes
// (true when a root reappears).
func (s *state) attach(r *rootState, report bool) {
	fi, err := os.Stat(r.path)
	if err != nil || !fi.IsDir() {
		s.wait(r)
		return
	}
	r.missing = false
	if r.recursive() {
		s.walk(r, r.path, report, false)
		return
	}
	if s.watch(r, r.path) != watchFailed && report {
		for f := range r.files {
			if _, err := os.Lstat(filepath.Join(r.path, f)); err == nil {
				s.report(filepath.Join(r.path, f))
			}
		}
	}
}

type watchResult int

const (
	watchAdded  watchResult = iota // newly watched for this root: list it
	watchHad                       // already watched for this root
	watchFailed                    // not watched (vanished, unreadable, ...)
)

// watch adds dir to r's watch set, adding a backend watch if nobody had one.
// The watch is placed before the directory is listed, so a file created in
// between is seen by the listing, the watch, or both.
func (s *state) watch(r *rootState, dir string) watchResult {
	if d := s.dirs[dir]; d != nil {
		if d.has(r) {
			return watchHad
		}
		d.attach(r)
		return watchAdded
	}
	be, ok := s.addWatch(r, dir)
	if !ok {
		return watchFailed
	}
	d := &dirState{be: be}
	d.attach(r)
	s.dirs[dir] = d
	if parent := s.dirs[filepath.Dir(dir)]; parent != nil && dir != "/" {
		if parent.kids == nil {
			parent.kids = map[string]struct{}{}
		}
		parent.kids[filepath.Base(dir)] = struct{}{}
	}
	return watchAdded
}

// addWatch asks r's backend to watch dir, sorting errors as docs/design.md says:
// vanished -> ignore, permission -> skip the directory, limits -> message
// and polling for this root, anything else -> warn and skip.
func (s *state) addWatch(r *rootState, dir string) (backend, bool) {
	for attempt := 0; attempt < 2; attempt++ {
		be := s.backendFor(r)
		err := s.tryAdd(be, dir)
		switch c := classify(err); c {
		case errNone:
			return be, true
		case errVanished:
			return nil, false
		case errPermission:
			s.log.Info("skipping a directory that cannot be read; fix its permissions to watch it",
				zap.String("dir", dir), zap.Error(err))
			return nil, false
		case errWatchLimit, errInstLimit:
			if r.poll {
				break
			}
			s.warnLimit(c, err)
			s.toPolling(r)
			continue
		}
		s.log.Warn("cannot watch a directory; its changes will be missed", zap.String("dir", dir), zap.Error(err))
		return nil, false
	}
	return nil, false
}

func (s *state) tryAdd(be backend, dir string) error {
	if h := s.w.opts.hooks.addWatch; h != nil {
		if err := h(dir); err != nil {
			return err
		}
	}
	return be.add(dir)
}

// toPolling moves a root that ran into an inotify limit to the polling
// backend. Events may fall into the gap, so the root is rescanned.
func (s *state) toPolling(r *rootState) {
	r.poll = true
	poller := s.backendFor(r)
	for p, d := range s.dirs {
		if d.be == poller || !d.has(r) {
			continue
		}
		d.be.remove(p)
		if err := poller.add(p); err != nil {
			s.forgetDir(p, d)
			continue
		}
		d.be = poller
	}
	s.rescans++
	s.b.addRescan(r.path)
}

// walk watches dir and every directory below it that r does not prune.
// Symlinks are entries like files: reported, never followed, so a link
// loop cannot make the walk go round. report makes every entry found a
// change (a directory that was created or moved in: the files in it were
// written before its watch existed). force lists directories r already
// watches (a rescan looking for what it missed).
func (s *state) walk(r *rootState, top string, report, force bool) {
	stack := []string{top}
	for len(stack) > 0 {
		dir := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		switch s.watch(r, dir) {
		case watchFailed:
			continue
		case watchHad:
			if !force {
				continue
			}
		}
		entries, err := os.ReadDir(dir)
		if err != nil {
			s.listFailed(dir, err)
			continue
		}
		for _, e := range entries {
			p := dir + "/" + e.Name()
			if report {
				s.report(p)
			}
			if e.IsDir() && !r.skip(p) {
				stack = append(stack, p)
			}
		}
	}
}

// listFailed handles a watched directory that cannot be listed: gone
// already (its remove event follows; drop it now), or unreadable (keep the
// watch, so its own changes are still seen, but nothing below it).
func (s *state) listFailed(dir string, err error) {
	if classify(err) == errVanished {
		s.dropTree(dir)
		return
	}
	s.log.Info("cannot list a watched directory; fix its permissions to watch what is inside",
		zap.String("dir", dir), zap.Error(err))
}

// handlePath applies one path event to the watch set and the batch.
func (s *state) handlePath(ev event) {
	p := ev.path
	if ev.op&(opRemove|opRename) != 0 {
		s.dropTree(p)
	}
	parent := s.dirs[filepath.Dir(p)]
	if parent == nil || p == "/" {
		return // an event about a watched directory itself, or stale
	}
	if ev.op&opCreate != 0 {
		s.created(parent, p)
	}
	if parent.wants(filepath.Base(p)) {
		s.report(p)
	}
}

// created handles a new entry p in the watched directory parent: a missing
// root on its way back, or a directory to watch and walk.
func (s *state) created(parent *dirState, p string) {
	for _, r := range append([]*rootState(nil), parent.waiters...) {
		if r.path == p || under(r.path, p) {
			s.reappeared(r)
		}
	}
	if len(parent.roots) == 0 {
		return
	}
	fi, err := os.Lstat(p)
	if err != nil || !fi.IsDir() {
		return
	}
	for _, r := range append([]*rootState(nil), parent.roots...) {
		if !r.skip(p) {
			s.walk(r, p, true, false)
		}
	}
}

// dropTree forgets the watched directory p and everything below it (it was
// deleted or renamed away; inotify keeps watching a moved directory under
// its new name, so the watches are removed explicitly). Roots that lived
// there are reported and wait for their return.
func (s *state) dropTree(p string) {
	d := s.dirs[p]
	if d == nil {
		return
	}
	var lost []*rootState
	for name := range d.kids {
		s.dropTree(p + "/" + name)
	}
	for _, r := range append(append(append([]*rootState(nil), d.roots...), d.fileRoots...), d.waiters...) {
		if r.path == p || r.waitDir == p {
			lost = append(lost, r)
		}
	}
	s.forgetDir(p, d)
	for _, r := range lost {
		if r.waitDir == p {
			r.waitDir = ""
			s.wait(r)
			continue
		}
		s.rootGone(r)
	}
}

// rootGone reports a vanished root and waits for it to come back.
func (s *state) rootGone(r *rootState) {
	for q, d := range s.dirs {
		if d.has(r) {
			d.detach(r)
			if d.empty() {
				s.forgetDir(q, d)
			}
		}
	}
	if r.recursive() {
		s.report(r.path)
	} else {
		for _, f := range r.fileNames() {
			s.report(filepath.Join(r.path, f))
		}
	}
	s.wait(r)
}

// wait watches the nearest existing ancestor of a missing root, so its
// return is noticed (a single watch, never a walk).
func (s *state) wait(r *rootState) {
	r.missing = true
	a := filepath.Dir(r.path)
	for a != "/" {
		if fi, err := os.Stat(a); err == nil && fi.IsDir() {
			break
		}
		a = filepath.Dir(a)
	}
	d := s.dirs[a]
	if d == nil {
		be, ok := s.addWatch(r, a)
		if !ok {
			s.log.Warn("cannot watch for a missing directory to appear; restart rebuildd once it exists",
				zap.String("dir", r.path))
			return
		}
		d = &dirState{be: be}
		s.dirs[a] = d
	}
	d.waiters = append(d.waiters, r)
	r.waitDir = a
	// The next directory toward the root may have been created between the
	// look-up above and the watch: then no event will announce it.
	next := r.path
	for filepath.Dir(next) != a && next != "/" {
		next = filepath.Dir(next)
	}
	// (A directory only: wait would pick the same ancestor again for a file.)
	if fi, err := os.Stat(next); err == nil && fi.IsDir() {
		s.reappeared(r)
	}
}

// reappeared re-attaches a missing root whose path (or part of it) now
// exists, reporting everything in it as new.
func (s *state) reappeared(r *rootState) {
	s.unwait(r)
	s.attach(r, true)
	if r.recursive() && !r.missing {
		s.report(r.path)
	}
}

// unwait stops waiting for r (it reappeared, or the roots changed).
func (s *state) unwait(r *rootState) {
	if d := s.dirs[r.waitDir]; d != nil {
		d.waiters = without(d.waiters, r)
		if d.empty() {
			s.forgetDir(r.waitDir, d)
		}
	}
	r.waitDir = ""
}
