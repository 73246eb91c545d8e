package dockerfile

import (
	"fmt"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// overwriter names an instruction of the final image's stack that may put
// something else at the spot s, where source j of the write at `at` puts
// rel: one after it (the image would hold that instead), or, for a
// removal, a context source before it too (its file would come back). ""
// when there is none.
//
// Context sources are checked exactly, against the context as BuildKit
// would copy it now; other writes (COPY --from, URLs, heredocs) by their
// destination. What lies below the COPY's layer without coming from the
// context (the base image, an earlier RUN or COPY --from) is not known
// here: a removal is exact only up to that (see Sync's package doc).
func (m *Model) overwriter(plan *syncPlan, at wpos, j int, s spot, rel string, removed bool) string {
	var why string
	plan.each(func(x wpos, w *write) bool {
		earlier := plan.before(x, at)
		if earlier && !removed {
			return true
		}
		switch w.kind {
		case writeRun:
			if !earlier {
				why = fmt.Sprintf("%s at %s runs after it", stepText(w.step.Text), m.atLine(w.step.Line))
			}
		case writeCopy:
			for j2 := range w.srcs {
				if x == at && j2 < j && !removed {
					continue
				}
				if why = m.sourceWriter(w, j2, s, rel, earlier, x == at && j2 == j, removed); why != "" {
					break
				}
			}
			if why == "" && !earlier && w.heredocs > 0 && s.overlaps(w.dest, w.relDest) {
				why = fmt.Sprintf("%s at %s may overwrite %s", stepText(w.step.Text), m.atLine(w.step.Line), s.show())
			}
		}
		return why == ""
	})
	return why
}

// sourceWriter says how source j2 of w may put something other than rel at
// the spot s, "" when it cannot. self: it is the source that puts rel
// there, so only its other wildcard matches count, those after rel's match
// (or, for a removal, any).
func (m *Model) sourceWriter(w *write, j2 int, s spot, rel string, earlier, self, removed bool) string {
	what := fmt.Sprintf("%s at %s", stepText(w.step.Text), m.atLine(w.step.Line))
	if w.sourceIndex(j2) < 0 { // not the context: judge by the destination
		may := s.overlaps(w.dest, w.relDest)
		if w.from == "" && isURL(w.srcs[j2]) {
			may = w.remoteSpot(j2).same(s)
		}
		if earlier || !may {
			return ""
		}
		return fmt.Sprintf("%s may overwrite %s", what, s.show())
	}
	if s.rel != w.relDest {
		return fmt.Sprintf("%s writes to a destination that cannot be compared with %s (one of them is relative to the base image's WORKDIR)", what, s.show())
	}
	for _, c := range m.candidates(w, j2, s) {
		if c == rel {
			continue
		}
		isDir, ok := m.inContext(c)
		if !ok {
			continue
		}
		q, ok := w.place(j2, c, isDir)
		if !ok || !q.same(s) {
			continue
		}
		if self && !removed && s.match != "" && !walkBefore(s.match, q.match) {
			continue
		}
		verb := "also writes"
		if earlier {
			verb = "writes it first: removing it would bring back"
		}
		return fmt.Sprintf("%s %s %s (from %s)", what, verb, s.show(), c)
	}
	return ""
}

// remoteSpot is where ADD puts the file an http(s) URL names: like a file
// source named after the URL's last path segment, as dispatchCopy does.
func (w *write) remoteSpot(j int) spot {
	src := w.srcs[j]
	f := "__unnamed__"
	if u, err := url.Parse(src); err == nil {
		if b := path.Base(u.Path); b != "." && b != "/" {
			f = b
		}
	}
	if w.destDir {
		return spot{path: path.Join(w.dest, f), rel: w.relDest}
	}
	return spot{path: w.dest, dir: w.dest, base: f, rel: w.relDest}
}

func isURL(src string) bool {
	return strings.HasPrefix(src, "http://") || strings.HasPrefix(src, "https://")
}

// candidates lists the context paths that source j of w could put at one
// of the spot's places: the inverse of place, before checking which exist.
func (m *Model) candidates(w *write, j int, s spot) []string {
	var out []string
	raw := w.srcs[j]
	for _, a := range s.alts() {
		rest, ok := under(a, w.dest)
		if !ok {
			continue
		}
		if w.parents {
			pivot := "."
			if parent, _, ok := strings.Cut(raw, "/./"); ok {
				pivot = cleanSource(parent)
			}
			if rest != "" {
				out = append(out, path.Join(pivot, rest))
			}
			continue
		}
		cs := cleanSource(raw)
		bases := []string{cs}
		if cs != "." && hasWildcard(cs) {
			bases = m.globContext(cs)
		}
		for _, b := range bases {
			if rest != "" {
				out = append(out, path.Join(b, rest))
			}
			if b != "." && (rest == "" || rest == path.Base(b)) {
				out = append(out, b)
			}
		}
	}
	return out
}

// globContext lists the context paths a wildcard source matches, in
// BuildKit's walk order: one directory level per pattern segment, names
// matched with path.Match (fsutil's resolveWildcards).
func (m *Model) globContext(pattern string) []string {
	cur := []string{"."}
	for _, seg := range strings.Split(pattern, "/") {
		var next []string
		for _, d := range cur {
			if !hasWildcard(seg) {
				if _, err := os.Lstat(m.ctxPath(path.Join(d, seg))); err == nil {
					next = append(next, path.Join(d, seg))
				}
				continue
			}
			entries, err := os.ReadDir(m.ctxPath(d))
			if err != nil {
				continue
			}
			for _, e := range entries {
				if ok, _ := path.Match(seg, e.Name()); ok {
					next = append(next, path.Join(d, e.Name()))
				}
			}
		}
		cur = next
	}
	return cur
}

// inContext reports whether the context-relative path c is in the build
// context now (it exists and the ignore file leaves it in) and whether it
// is a directory (following a symlink, as BuildKit does for a source).
func (m *Model) inContext(c string) (isDir, ok bool) {
	if c == "." || strings.HasPrefix(c, "../") || (m.ign != nil && m.ign.Excluded(c)) {
		return false, false
	}
	fi, err := os.Stat(m.ctxPath(c))
	if err != nil {
		if _, lerr := os.Lstat(m.ctxPath(c)); lerr == nil {
			return false, true // a dangling symlink is still copied
		}
		return false, false
	}
	return fi.IsDir(), true
}

func (m *Model) ctxPath(rel string) string { return filepath.Join(m.ctx, filepath.FromSlash(rel)) }

// walkBefore reports whether the match a comes before b in BuildKit's
// walk order (filepath.Walk: lexical per directory).
func walkBefore(a, b string) bool {
	as, bs := strings.Split(a, "/"), strings.Split(b, "/")
	for i := 0; i < len(as) && i < len(bs); i++ {
		if as[i] != bs[i] {
			return as[i] < bs[i]
		}
	}
	return len(as) < len(bs)
}

// flowsOut names an instruction of the chain that copies the spot on from
// the stage s (or a stage built FROM it) into another place: COPY --from or
// RUN --mount=from. The synced file would not reach that copy.
func (m *Model) flowsOut(plan *syncPlan, s int, sp spot) string {
	down := plan.downstream(s)
	for _, ps := range plan.stages {
		if ps == nil {
			continue
		}
		for _, w := range ps.writes {
			var srcs []string
			switch {
			case w.kind == writeCopy && w.fromStage() >= 0 && down[w.fromStage()]:
				srcs = w.srcs
			case w.kind == writeRun && w.stmt != nil:
				for _, mt := range w.stmt.Mounts {
					if mt.From != "" && down[plan.stageNamed(mt.From)] {
						srcs = append(srcs, mt.Source)
					}
				}
			}
			for _, src := range srcs {
				if sp.reaches(src) {
					return fmt.Sprintf("%s at %s copies it on from stage %s", stepText(w.step.Text), m.atLine(w.step.Line), plan.stages[s].name)
				}
			}
		}
	}
	return ""
}

// reaches reports whether a copy of src (a path in the source stage,
// relative to its root, maybe with wildcards) may include the spot.
func (sp spot) reaches(src string) bool {
	if sp.rel {
		return true
	}
	prefix := "/"
	for _, seg := range strings.Split(path.Join("/", src), "/")[1:] {
		if hasWildcard(seg) {
			break
		}
		prefix = path.Join(prefix, seg)
	}
	for _, a := range sp.alts() {
		if _, ok := under(a, prefix); ok {
			return true
		}
		if _, ok := under(prefix, a); ok {
			return true
		}
	}
	return false
}

// show names the spot for a reason.
func (s spot) show() string {
	a := s.alts()
	if len(a) == 0 {
		return "it"
	}
	p := a[0]
	if s.rel {
		p = "<WORKDIR>/" + p
	}
	return p
}

// stepText is shortText keeping COPY --from=, which says where a copy
// comes from.
func stepText(s string) string {
	f := strings.Fields(s)
	if len(f) < 2 {
		return shortText(s)
	}
	var keep []string
	for _, x := range f[1:] {
		if !strings.HasPrefix(x, "--") {
			break
		}
		if strings.HasPrefix(strings.ToLower(x), "--from=") {
			keep = append(keep, x)
		}
	}
	short := shortText(s)
	if len(keep) == 0 {
		return short
	}
	cmd, rest, _ := strings.Cut(short, " ")
	return cmd + " " + strings.Join(keep, " ") + " " + rest
}
