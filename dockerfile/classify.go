package dockerfile

import (
	"fmt"
	"path/filepath"
	"strings"
	"sync"
)

// maxDirs bounds the per-directory cache. A build context has at most a few
// thousand directories that are not ignored; when a pathological tree
// exceeds the bound the cache is dropped and refilled, which costs speed, not
// correctness.
const maxDirs = 1 << 16

// dirEntry is the part of a classification shared by every file directly in
// one directory, computed once per directory.
type dirEntry struct {
	abs     string   // the directory's absolute path
	skip    bool     // the ignore file excludes the directory and everything below it
	all     []*Input // inputs that read every path in the directory
	some    []*Input // inputs whose reading depends on the file name
	covered bool     // a bind mount covers the whole directory
	fixed   Result   // when some is empty: the result for every file of the directory
	masks   sync.Map // uint64 (bits of some that read a file) -> Result
}

// Classify says what a change to the absolute path abs means for the
// service: docs/design.md's impact rules 1-6 in order, then the action rule with
// the service's on-source policy.
func (m *Model) Classify(abs string) Result {
	p := abs
	if !isCleanAbs(p) {
		p = filepath.Clean(p)
	}
	switch {
	case m.df != "" && p == m.df:
		return Result{Impact: ImpactDockerfile, Action: ActionRebuild, Reason: "the Dockerfile"}
	case m.df != "" && p == m.dfIgnore:
		return Result{Impact: ImpactDockerignore, Action: ActionRebuild, Reason: "the Dockerfile's own ignore file (" + filepath.Base(p) + ")"}
	case p == m.ctxIgnore && !m.dfIgnoreUsed:
		return Result{Impact: ImpactDockerignore, Action: ActionRebuild, Reason: "the build context's .dockerignore"}
	}
	rel, ok := m.rel(p)
	if !ok {
		return Result{Impact: ImpactOutside, Action: ActionNone, Reason: "outside the build context"}
	}
	dir := ""
	if i := strings.LastIndexByte(rel, '/'); i >= 0 {
		dir = rel[:i]
	}
	e := m.dirEntry(dir)
	if e.skip || (m.ign != nil && m.ign.Excluded(rel)) {
		return Result{Impact: ImpactIgnored, Action: ActionNone, Reason: "excluded by " + m.ignName}
	}
	if m.trig != nil && m.trig.Excluded(rel) {
		return Result{Impact: ImpactIgnored, Action: ActionNone, Reason: "ignored by rebuild.yaml (ignore patterns of the service)"}
	}
	return m.readBy(e, rel, p)
}

// ClassifyDir is Classify for a directory, which may no longer exist: the
// watcher reports a directory moved or deleted away as one path (nothing is
// left to list), and `mv packages/a /tmp` must not look unused when
// `COPY packages/*/package.json` reads inside it. When no input reads abs
// as a file, the inputs that read something below it decide; the caller's
// fingerprint then says whether anything really changed.
func (m *Model) ClassifyDir(abs string) Result {
	r := m.Classify(abs)
	if r.Impact != ImpactUnused {
		return r
	}
	rel, _ := m.rel(filepath.Clean(abs))
	var readers []*Input
	for _, in := range m.an.Inputs {
		if in.dirReads(rel) != readNone {
			readers = append(readers, in)
		}
	}
	if len(readers) == 0 {
		return r
	}
	return m.decide(sortByLine(readers), m.fileCovered(abs), abs)
}

// readBy applies rules 4-6 and the action rule to rel, a file directly in
// the directory of e, mostly from what e already knows.
func (m *Model) readBy(e *dirEntry, rel, p string) Result {
	if !e.covered && m.fileCovered(p) {
		return m.decide(e.readers(rel), true, p) // a bind mount of this very file
	}
	if len(e.some) == 0 {
		return e.fixed
	}
	if len(e.some) > 64 {
		return m.decide(e.readers(rel), e.covered, p)
	}
	var mask uint64
	for i, in := range e.some {
		if in.Reads(rel) {
			mask |= 1 << i
		}
	}
	return m.byMask(e, mask)
}

// readers lists the inputs that read rel, a file directly in the entry's
// directory, in Dockerfile order.
func (e *dirEntry) readers(rel string) []*Input {
	out := append(make([]*Input, 0, len(e.all)+len(e.some)), e.all...)
	for _, in := range e.some {
		if in.Reads(rel) {
			out = append(out, in)
		}
	}
	return sortByLine(out)
}

// byMask returns the result for the files of a directory that exactly the
// inputs in mask (bits of e.some) read. Files that share a set of readers
// share a result, so reasons are formatted once per set, not per path.
func (m *Model) byMask(e *dirEntry, mask uint64) Result {
	if r, ok := e.masks.Load(mask); ok {
		return r.(Result)
	}
	readers := append([]*Input(nil), e.all...)
	for i, in := range e.some {
		if mask&(1<<i) != 0 {
			readers = append(readers, in)
		}
	}
	r := m.decide(sortByLine(readers), e.covered, e.abs)
	e.masks.Store(mask, r)
	return r
}

// isCleanAbs reports whether p is an absolute path that filepath.Clean would
// leave alone. Watcher events are already clean; checking with a few
// substring searches is several times cheaper than cleaning.
func isCleanAbs(p string) bool {
	if len(p) < 2 || p[0] != '/' {
		return p == "/"
	}
	return !strings.Contains(p, "//") && !strings.Contains(p, "/./") && !strings.Contains(p, "/../") &&
		!strings.HasSuffix(p, "/") && !strings.HasSuffix(p, "/.") && !strings.HasSuffix(p, "/..")
}

// dirEntry returns the cached entry of dir, computing it on first use.
func (m *Model) dirEntry(dir string) *dirEntry {
	m.mu.RLock()
	e, ok := m.dirs[dir]
	m.mu.RUnlock()
	if ok {
		return e
	}
	e = &dirEntry{abs: filepath.Join(m.ctx, filepath.FromSlash(dir))}
	// SkipDir is true only when no exception could re-include anything
	// below dir, so its files need no matching of their own.
	e.skip = dir != "" && m.ign != nil && m.ign.SkipDir(dir)
	for _, in := range m.an.Inputs {
		switch in.dirReads(dir) {
		case readAll:
			e.all = append(e.all, in)
		case readSome:
			e.some = append(e.some, in)
		}
	}
	for _, b := range m.binds {
		if e.abs == b.src || strings.HasPrefix(e.abs, b.src+string(filepath.Separator)) || b.src == "/" {
			e.covered = true
		}
	}
	if len(e.some) == 0 {
		e.fixed = m.decide(e.all, e.covered, e.abs)
	}
	m.mu.Lock()
	if len(m.dirs) >= maxDirs {
		m.dirs = map[string]*dirEntry{}
	}
	m.dirs[dir] = e
	m.mu.Unlock()
	return e
}

// fileCovered reports whether a bind mount of a single file (or of a
// directory that the per-directory check missed) covers p.
func (m *Model) fileCovered(p string) bool {
	for _, b := range m.binds {
		if p == b.src {
			return true
		}
	}
	return false
}

// sortByLine keeps readers in Dockerfile order (they come from two lists).
func sortByLine(in []*Input) []*Input {
	for i := 1; i < len(in); i++ {
		for j := i; j > 0 && in[j].Line < in[j-1].Line; j-- {
			in[j], in[j-1] = in[j-1], in[j]
		}
	}
	return in
}

// decide applies impact rules 4-6 and the action rule to the inputs that
// read a path. p is the absolute path (or its directory), used to name the
// bind mount that covers it.
func (m *Model) decide(readers []*Input, covered bool, p string) Result {
	if len(readers) == 0 {
		return Result{Impact: ImpactUnused, Action: ActionNone, Reason: "no instruction reads it"}
	}
	for _, in := range readers {
		if in.Layer == LayerDeps {
			return Result{Impact: ImpactDeps, Action: ActionRebuild, Input: in, Reason: fmt.Sprintf(
				"read by %s at %s, deps layer (%s at line %d)", in.Kind, m.at(in), shortText(in.DepsRun.Text), in.DepsRun.Line)}
		}
	}
	in := readers[0]
	for _, r := range readers {
		if r.RunAfter != nil {
			in = r // the input that forces a build explains best
			break
		}
	}
	auto := m.sourceAuto(in, covered, p)
	switch m.onSource {
	case OnSourceRebuild:
		if auto.Action != ActionRebuild {
			auto.Action, auto.Reason = ActionRebuild, auto.Reason+"; on_source: rebuild"
		}
	case OnSourceNone:
		auto.Action, auto.Reason = ActionNone, auto.Reason+"; on_source: none"
	case OnSourceRestart:
		if auto.Action == ActionNone {
			auto.Action, auto.Reason = ActionRestart, auto.Reason+"; on_source: restart"
		}
	}
	return auto
}

// sourceAuto is the action rule for a source-layer path: none when a bind
// mount covers it and no RUN runs after an input that reads it.
func (m *Model) sourceAuto(in *Input, covered bool, p string) Result {
	r := Result{Impact: ImpactSource, Action: ActionRebuild, Input: in}
	switch {
	case !covered:
		r.Reason = fmt.Sprintf("read by %s at %s, source layer, not bind-mounted", in.Kind, m.at(in))
	case in.RunAfter != nil:
		r.Reason = fmt.Sprintf("read by %s at %s, source layer, %s at line %d runs after it",
			in.Kind, m.at(in), shortText(in.RunAfter.Text), in.RunAfter.Line)
	default:
		r.Action, r.Mount = ActionNone, m.bindLabel(p)
		r.Reason = fmt.Sprintf("bind-mounted source (%s), no RUN after %s at %s", r.Mount, in.Kind, m.at(in))
	}
	return r
}

func (m *Model) at(in *Input) string { return fmt.Sprintf("%s:%d", m.dfName, in.Line) }

// bindLabel names the bind mount that covers p (the deepest one).
func (m *Model) bindLabel(p string) string {
	best := bind{}
	for _, b := range m.binds {
		if p == b.src || strings.HasPrefix(p, b.src+string(filepath.Separator)) || b.src == "/" {
			if len(b.src) >= len(best.src) {
				best = b
			}
		}
	}
	return best.label
}

// ShortText is an instruction as one-line reasons quote it (shortText).
func ShortText(s string) string { return shortText(s) }

// shortText shortens an instruction for a one-line reason: whitespace
// collapsed, flags such as RUN --mount=... dropped (the command says more),
// long commands cut.
func shortText(s string) string {
	f := strings.Fields(s)
	if len(f) > 1 {
		i := 1
		for i < len(f)-1 && strings.HasPrefix(f[i], "--") {
			i++
		}
		f = append(f[:1:1], f[i:]...)
	}
	s = strings.Join(f, " ")
	const max = 60
	if r := []rune(s); len(r) > max {
		s = string(r[:max-3]) + "..."
	}
	return s
}
