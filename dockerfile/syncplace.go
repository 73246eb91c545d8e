package dockerfile

import (
	"path"
	"strings"
)

// spot is where one source of one COPY or ADD puts a context path, as
// BuildKit's file op computes it (tonistiigi/fsutil copy.Copy with
// CopyDirContents and FollowLinks, through dockerfile2llb's dispatchCopy):
//
//   - a directory source (or "."): its contents go to dest, so rel lands at
//     dest/<rel below the source>;
//   - a file source: to dest/<base> when dest names a directory ("dir/",
//     "." or "") or already is one when the COPY runs, else to dest itself;
//   - a wildcard: each match is a source of its own, in walk order;
//   - --parents: the path below the pivot ("a/./b": below a; none: the
//     context root) is kept under dest.
type spot struct {
	path  string // where it lands; "" when only dir can be (below)
	dir   string // set for a file source and a dest without "/": if dir is a directory, the file is dir/base
	base  string
	rel   bool   // path and dir are relative to the base image's WORKDIR
	top   bool   // rel is the source itself (or a wildcard's match), not a path below it
	match string // the source (or wildcard match) rel was found through
}

// alts lists the paths the spot may be, depending on the container.
func (s spot) alts() []string {
	var out []string
	if s.path != "" {
		out = append(out, s.path)
	}
	if s.dir != "" {
		out = append(out, path.Join(s.dir, s.base))
	}
	return out
}

// same reports whether two spots may be one path. Spots relative to the
// unknown base WORKDIR cannot be compared with absolute ones: they may be.
func (s spot) same(o spot) bool {
	if s.rel != o.rel {
		return true
	}
	for _, a := range s.alts() {
		for _, b := range o.alts() {
			if a == b {
				return true
			}
		}
	}
	return false
}

// sourceIndex is the compiled pattern of w's j-th source in its input, -1
// when the source is not read from the context (a URL, a git ref).
func (w *write) sourceIndex(j int) int {
	if w.input == nil || w.from != "" || isRemote(w.srcs[j]) {
		return -1
	}
	cs := cleanSource(w.srcs[j])
	for k, s := range w.input.Sources {
		if s == cs {
			return k
		}
	}
	return -1
}

// place says where the j-th source of w puts the context path rel (a
// directory when dir), and false when that source does not read rel.
func (w *write) place(j int, rel string, dir bool) (spot, bool) {
	k := w.sourceIndex(j)
	if k < 0 || w.input.srcs == nil {
		return spot{}, false
	}
	in := w.input
	p := &in.srcs[k]
	sub, found := "", false
	if p.all {
		sub, found = rel, !in.excluded(rel)
		if rel == "." {
			sub = ""
		}
	} else {
		matchFrom(p.segs, p.glob, rel, func(s string) bool {
			if in.excluded(s) {
				return false
			}
			sub, found = s, true
			return true
		})
	}
	if !found {
		return spot{}, false
	}
	match := strings.TrimSuffix(strings.TrimSuffix(rel, sub), "/")
	if match == "" {
		match = "."
	}
	s := spot{rel: w.relDest, top: sub == "", match: match}
	switch {
	case w.parents:
		pivot := "."
		if parent, _, ok := strings.Cut(w.srcs[j], "/./"); ok {
			pivot = cleanSource(parent)
		}
		below, ok := under(rel, pivot)
		if !ok {
			return spot{}, false
		}
		s.path = path.Join(w.dest, below)
	case sub != "":
		s.path = path.Join(w.dest, sub)
	case dir || match == ".": // the source directory itself: its contents go to dest
		s.path = w.dest
	case w.destDir:
		s.path = path.Join(w.dest, path.Base(rel))
	default:
		s.path, s.dir, s.base = w.dest, w.dest, path.Base(rel)
	}
	return s, true
}

// under returns p relative to dir ("" for dir itself) when p is dir or
// below it; "." is the root of everything.
func under(p, dir string) (string, bool) {
	switch {
	case p == dir:
		return "", true
	case dir == ".":
		return p, !strings.HasPrefix(p, "/")
	case dir == "/" && strings.HasPrefix(p, "/"):
		return p[1:], true
	case strings.HasPrefix(p, dir+"/"):
		return p[len(dir)+1:], true
	}
	return "", false
}

// overlaps reports whether a write at dest (a directory or a file, and
// anything below it) may touch the spot.
func (s spot) overlaps(dest string, rel bool) bool {
	if s.rel != rel {
		return true
	}
	for _, a := range s.alts() {
		if _, ok := under(a, dest); ok {
			return true
		}
	}
	return false
}
