package ignore

import (
	"fmt"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/moby/patternmatcher"
)

// maxCachedDirs bounds the per-directory cache. A dev context rarely has more
// than a few thousand directories (node_modules is usually excluded at the
// top and never descended); 1<<16 entries of ~50 pattern flags each stay
// under ~10 MB. When the bound is hit the cache is dropped and refilled from
// the root, which costs one match per directory level, not correctness.
const maxCachedDirs = 1 << 16

// Matcher answers .dockerignore questions for one build context.
// The zero value is not usable; build one with New or Load. A nil *Matcher
// excludes nothing. Safe for concurrent use: after New only the directory
// cache changes, under mu.
type Matcher struct {
	patterns []string   // as given, for Patterns
	pats     []*pattern // compiled, blank lines dropped, in order
	// exceptions are the `!` patterns split into path segments, for SkipDir.
	exceptions []exception
	// walk is a classic builder's context walk (Dialect.Parse); nil for
	// BuildKit, whose walk is eval.
	walk *walkRules

	mu   sync.RWMutex
	dirs map[string]dirResult // guarded by mu; directory -> its match result
}

// dirResult is one directory's match: whether it is excluded and, per
// pattern, whether it matched the directory or a parent (patternmatcher's
// MatchInfo), which is where its children start.
type dirResult struct {
	excluded bool
	info     []bool
	closed   bool // a classic walk does not enter it (walkRules)
}

// PatternError is a pattern patternmatcher rejects. Index is its position in
// the slice given to New, so Load can name the line of the ignore file.
type PatternError struct {
	Index   int
	Pattern string
	Err     error
}

func (e *PatternError) Error() string {
	return fmt.Sprintf("bad ignore pattern %s: %v", quoteShort(e.Pattern), e.Err)
}

func (e *PatternError) Unwrap() error { return e.Err }

// New builds a matcher from patterns (already read, one per element, in
// .dockerignore syntax). A bad pattern is reported as a *PatternError,
// including ones patternmatcher.New accepts but whose regexp fails at the
// first match ("[z-a]"), which would otherwise surface deep in a watch loop.
func New(patterns []string) (*Matcher, error) {
	m := &Matcher{
		patterns: append([]string(nil), patterns...),
		dirs:     make(map[string]dirResult),
	}
	for i, p := range patterns {
		if err := checkText(p); err != nil {
			return nil, &PatternError{Index: i, Pattern: p, Err: err}
		}
		// patternmatcher cleans the pattern and splits off the "!"; taking
		// its result keeps those rules in one place.
		pm, err := patternmatcher.New([]string{p})
		if err != nil {
			return nil, &PatternError{Index: i, Pattern: p, Err: err}
		}
		for _, pp := range pm.Patterns() { // none for a blank pattern
			c, err := compile(pp)
			if err != nil {
				return nil, &PatternError{Index: i, Pattern: p, Err: err}
			}
			m.pats = append(m.pats, c)
			if c.exclusion {
				m.exceptions = append(m.exceptions, newException(pp.String()))
			}
		}
	}
	return m, nil
}

// Patterns returns the patterns as read, for fingerprints and explain.
func (m *Matcher) Patterns() []string {
	if m == nil {
		return nil
	}
	return m.patterns
}

// Excluded reports whether the context-relative, slash-separated path rel is
// excluded from the build context, exactly as BuildKit's context walk decides
// it (fsutil's filterFS: MatchesUsingParentResults from the root down). ""
// and "." are never excluded, nor are paths outside the context ("../x").
// Parent-directory results are cached, so a path costs one match of its own
// name against the patterns its parent left open.
func (m *Matcher) Excluded(rel string) bool {
	if m == nil || len(m.pats) == 0 && m.walk == nil {
		return false
	}
	rel, ok := clean(rel)
	if !ok {
		return false
	}
	if m.walk != nil {
		return m.walkExcluded(rel)
	}
	if r, ok := m.lookup(rel); ok {
		return r.excluded
	}
	excluded, _ := m.eval(rel, m.dir(path.Dir(rel)).info, false)
	return excluded
}

// walkExcluded is Excluded for a classic walk: rel stays out when the walk
// never enters its directory, when the walk's patterns drop it, or when the
// daemon deletes it.
func (m *Matcher) walkExcluded(rel string) bool {
	if m.walk.removed[rel] {
		return true
	}
	if r, ok := m.lookup(rel); ok {
		return r.excluded
	}
	parent := m.dir(path.Dir(rel))
	if parent.closed {
		return true
	}
	excluded, _ := m.walk.match(rel, parent.info, false)
	return excluded
}

// clean turns rel into the form patternmatcher expects; ok is false for the
// context root and for paths outside the context.
func clean(rel string) (string, bool) {
	rel = strings.TrimLeft(filepath.ToSlash(rel), "/")
	rel = path.Clean(rel)
	if rel == "." || rel == ".." || strings.HasPrefix(rel, "../") {
		return "", false
	}
	return rel, true
}

// dir returns the cached result for directory d, computing it (and its
// ancestors') on a miss. d is clean; "." is the context root.
func (m *Matcher) dir(d string) dirResult {
	if d == "." {
		return dirResult{}
	}
	if r, ok := m.lookup(d); ok {
		return r
	}
	var r dirResult
	parent := m.dir(path.Dir(d))
	switch {
	case m.walk == nil:
		r.excluded, r.info = m.eval(d, parent.info, true)
	case parent.closed:
		r = dirResult{excluded: true, closed: true}
	default:
		r.excluded, r.info = m.walk.match(d, parent.info, true)
		r.closed = r.excluded && !m.walk.enters(d)
	}
	m.mu.Lock()
	if len(m.dirs) >= maxCachedDirs {
		m.dirs = make(map[string]dirResult)
	}
	m.dirs[d] = r
	m.mu.Unlock()
	return r
}

func (m *Matcher) lookup(d string) (dirResult, bool) {
	m.mu.RLock()
	r, ok := m.dirs[d]
	m.mu.RUnlock()
	return r, ok
}

// isPlain says rel has no newline and is valid UTF-8, so segment matching
// gives the regexps' answer (pattern.match).
func isPlain(rel string) bool {
	return utf8.ValidString(rel) && !strings.Contains(rel, "\n")
}

// eval is patternmatcher's MatchesUsingParentResults over the compiled
// patterns: a pattern that matched the parent still matches; otherwise an
// include pattern is only tried while rel is not excluded and an exception
// only while it is. It returns the flags for rel's children when withInfo.
func (m *Matcher) eval(rel string, parent []bool, withInfo bool) (bool, []bool) {
	parts := strings.Split(rel, "/")
	plain := isPlain(rel)
	var info []bool
	if withInfo {
		info = make([]bool, len(m.pats))
	}
	matched := false
	for i, p := range m.pats {
		match := parent != nil && parent[i]
		if !match {
			if p.exclusion != matched {
				continue
			}
			match = p.match(rel, parts, plain)
		}
		if info != nil {
			info[i] = match
		}
		if match {
			matched = !p.exclusion
		}
	}
	return matched, info
}
