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
	if m != nil && m.walk != nil {
		// A classic walk decides exactly: it enters the directory or not.
		rel, ok := clean(rel)
		return ok && m.dir(rel).closed
	}
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

// exception is a `!` pattern as SkipDir needs it.
type exception struct {
	segs []string // the cleaned pattern split at "/"
	// opaque: character classes, escapes and the like, where segment
	// counting proves nothing (a class such as [^a] matches "/" in
	// patternmatcher's regexp), so the exception could match anywhere.
	opaque bool
}

func newException(cleaned string) exception {
	return exception{segs: strings.Split(cleaned, "/"), opaque: !simple(cleaned)}
}

// couldMatchBelow reports whether pattern segments ex could match some path
// strictly below the directory whose segments are dirs.
func couldMatchBelow(e exception, dirs []string) bool {
	if e.opaque {
		return true
	}
	ex := e.segs
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
