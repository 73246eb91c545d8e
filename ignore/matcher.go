package ignore

import (
	"fmt"
	"path"
	"path/filepath"
	"strings"
	"sync"

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
// excludes nothing. Safe for concurrent use.
type Matcher struct {
	patterns []string
	// exceptions are the `!` patterns split into path segments, for SkipDir.
	exceptions [][]string

	// pool hands each goroutine its own *patternmatcher.PatternMatcher:
	// patternmatcher compiles a pattern's regexp lazily on first use, which
	// is a data race when one instance is shared. All instances hold the same
	// patterns, so a MatchInfo from one is valid for another.
	pool sync.Pool

	mu   sync.RWMutex
	dirs map[string]dirResult // guarded by mu; directory -> its match result
}

// dirResult is one directory's match: whether it is excluded and the
// per-pattern flags its children start from (MatchesUsingParentResults).
type dirResult struct {
	excluded bool
	info     patternmatcher.MatchInfo
}

// PatternError is a pattern patternmatcher rejects. Index is its position in
// the slice given to New, so Load can name the line of the ignore file.
type PatternError struct {
	Index   int
	Pattern string
	Err     error
}

func (e *PatternError) Error() string {
	return fmt.Sprintf("bad ignore pattern %q: %v", e.Pattern, e.Err)
}

func (e *PatternError) Unwrap() error { return e.Err }

// New builds a matcher from patterns (already read, one per element, in
// .dockerignore syntax). A bad pattern is reported as a *PatternError.
func New(patterns []string) (*Matcher, error) {
	for i, p := range patterns {
		if err := validate(p); err != nil {
			return nil, &PatternError{Index: i, Pattern: p, Err: err}
		}
	}
	m := &Matcher{
		patterns: append([]string(nil), patterns...),
		dirs:     make(map[string]dirResult),
	}
	m.pool.New = func() any {
		pm, err := patternmatcher.New(m.patterns)
		if err != nil {
			// Unreachable: every pattern passed validate above.
			panic(fmt.Sprintf("ignore: validated patterns rejected: %v", err))
		}
		return pm
	}
	m.exceptions = exceptionSegments(patterns)
	return m, nil
}

// validate reports whether patternmatcher accepts p, including the regexp
// it compiles lazily: New only runs filepath.Match on a pattern, so "[z-a]"
// would otherwise fail at the first match, deep inside a watch loop.
func validate(p string) error {
	probe := []string{p}
	if q := strings.TrimSpace(p); strings.HasPrefix(q, "!") {
		// An exception is only evaluated once something matched; "**"
		// matches every path, so the exception is compiled too.
		probe = []string{"**", p}
	}
	pm, err := patternmatcher.New(probe)
	if err != nil {
		return err
	}
	_, err = pm.MatchesOrParentMatches("probe")
	return err
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
// name against the patterns the parent left open.
func (m *Matcher) Excluded(rel string) bool {
	if m == nil || len(m.patterns) == 0 {
		return false
	}
	rel, ok := clean(rel)
	if !ok {
		return false
	}
	if r, ok := m.lookup(rel); ok {
		return r.excluded
	}
	excluded, _ := m.match(rel, m.dir(path.Dir(rel)).info)
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
	parent := m.dir(path.Dir(d))
	excluded, info := m.match(d, parent.info)
	r := dirResult{excluded: excluded, info: info}
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

// match runs patternmatcher on one path given its parent's flags. Errors are
// impossible for validated patterns; a path that somehow fails to match is
// reported as not excluded, which errs on the side of rebuilding.
func (m *Matcher) match(rel string, parent patternmatcher.MatchInfo) (bool, patternmatcher.MatchInfo) {
	pm := m.pool.Get().(*patternmatcher.PatternMatcher)
	excluded, info, err := pm.MatchesUsingParentResults(rel, parent)
	m.pool.Put(pm)
	if err != nil {
		return false, patternmatcher.MatchInfo{}
	}
	return excluded, info
}
