package watcher

import (
	"path/filepath"
	"sort"
	"strings"
)

// rootState is a merged Root as the loop tracks it.
type rootState struct {
	path      string
	files     map[string]bool // nil for a recursive root
	skips     []func(string) bool
	neverSkip bool   // some duplicate had no SkipDir
	poll      bool   // this root's directories go to the polling backend
	missing   bool   // the root does not exist right now
	waitDir   string // while missing: the watched ancestor
}

func (r *rootState) recursive() bool { return r.files == nil }

func (r *rootState) merge(in Root) {
	for _, f := range in.Files {
		r.files[f] = true
	}
	if in.SkipDir == nil {
		r.neverSkip = true
		return
	}
	r.skips = append(r.skips, in.SkipDir)
}

// skip reports whether the directory dir (absolute, below the root) is
// pruned: only when every service sharing the root prunes it.
func (r *rootState) skip(dir string) bool {
	if r.neverSkip || len(r.skips) == 0 || dir == r.path {
		return false
	}
	rel := filepath.ToSlash(strings.TrimPrefix(dir, r.path+"/"))
	for _, s := range r.skips {
		if !s(rel) {
			return false
		}
	}
	return true
}

// fileNames returns the watched names of a single-file root, sorted.
func (r *rootState) fileNames() []string {
	var out []string
	for f := range r.files {
		out = append(out, f)
	}
	sort.Strings(out)
	return out
}

// dirState is one watched directory and why it is watched.
type dirState struct {
	be        backend
	roots     []*rootState        // recursive roots whose tree holds it
	fileRoots []*rootState        // single-file roots living in it
	waiters   []*rootState        // missing roots below it, waiting to reappear
	kids      map[string]struct{} // watched subdirectories (base names)
}

func (d *dirState) empty() bool {
	return len(d.roots) == 0 && len(d.fileRoots) == 0 && len(d.waiters) == 0
}

// wants reports whether a change to the entry name is reported.
func (d *dirState) wants(name string) bool {
	if len(d.roots) > 0 {
		return true
	}
	for _, r := range d.fileRoots {
		if r.files[name] {
			return true
		}
	}
	return false
}

func (d *dirState) has(r *rootState) bool {
	list := d.roots
	if !r.recursive() {
		list = d.fileRoots
	}
	for _, x := range list {
		if x == r {
			return true
		}
	}
	return false
}

func (d *dirState) attach(r *rootState) {
	if r.recursive() {
		d.roots = append(d.roots, r)
		return
	}
	d.fileRoots = append(d.fileRoots, r)
}

// detach forgets r in every role.
func (d *dirState) detach(r *rootState) {
	d.roots = without(d.roots, r)
	d.fileRoots = without(d.fileRoots, r)
	d.waiters = without(d.waiters, r)
}

func without(list []*rootState, r *rootState) []*rootState {
	out := list[:0]
	for _, x := range list {
		if x != r {
			out = append(out, x)
		}
	}
	return out
}

// under reports whether p is below dir (not equal).
func under(p, dir string) bool {
	if dir == "/" {
		return p != "/" && strings.HasPrefix(p, "/")
	}
	return strings.HasPrefix(p, dir+"/")
}

// lockFiles lists the git index locks that can hold a batch for a root: the
// root's own repository or any enclosing one (contexts are often
// subdirectories of the repository).
func lockFiles(roots []*rootState) []string {
	seen := map[string]bool{}
	var out []string
	for _, r := range roots {
		for a := r.path; ; a = filepath.Dir(a) {
			f := filepath.Join(a, ".git", "index.lock")
			if !seen[f] {
				seen[f] = true
				out = append(out, f)
			}
			if a == "/" || a == "." {
				break
			}
		}
	}
	return out
}
