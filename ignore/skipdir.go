package ignore

import (
	"path/filepath"
	"strings"
)

// SkipDir reports whether the directory rel (context-relative) and everything
// under it is excluded, so the watcher need not descend or add watches there.
//
// Why it is enough to look at exceptions: once rel is excluded, every pattern
// that matched rel still counts as matched below it (the parent results), so
// a path under rel can only come back into the context through a `!` pattern
// that matches that path itself. SkipDir is therefore true when rel is
// excluded and no exception could match any path below rel. Anything it
// cannot decide cheaply (a `**` reaching below rel, character classes,
// escapes) counts as "could match": descending needlessly costs watches,
// skipping wrongly loses rebuilds.
func (m *Matcher) SkipDir(rel string) bool {
	if !m.Excluded(rel) {
		return false
	}
	rel, _ = clean(rel)
	dirs := strings.Split(rel, "/")
	for _, ex := range m.exceptions {
		if couldMatchBelow(ex, dirs) {
			return false
		}
	}
	return true
}

// exceptionSegments returns the `!` patterns as patternmatcher stores them
// (trimmed, cleaned, without the `!`), split into path segments.
func exceptionSegments(patterns []string) [][]string {
	var out [][]string
	for _, p := range patterns {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		p = filepath.Clean(p)
		if p[0] != '!' {
			continue
		}
		out = append(out, strings.Split(p[1:], "/"))
	}
	return out
}

// couldMatchBelow reports whether pattern segments ex could match some path
// strictly below the directory whose segments are dirs.
func couldMatchBelow(ex, dirs []string) bool {
	for _, seg := range ex {
		// A class like [^a] can match "/" in patternmatcher's regexp, and an
		// escape can hide one, so segment counting proves nothing.
		if strings.ContainsAny(seg, `[\`) {
			return true
		}
	}
	for i, d := range dirs {
		if i >= len(ex) {
			return false // the pattern ends above d: it names rel or an ancestor
		}
		seg := ex[i]
		if strings.Contains(seg, "**") {
			return true // "**" spans any number of segments from here on
		}
		ok, err := filepath.Match(seg, d)
		if err != nil || ok {
			continue // err: unknown, so keep assuming it could match
		}
		return false
	}
	// Every directory segment matched; the pattern reaches below rel only if
	// it has segments left.
	return len(ex) > len(dirs)
}
