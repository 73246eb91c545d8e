package ignore

import (
	"path"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/moby/patternmatcher"
)

// pattern is one .dockerignore pattern, compiled for fast matching.
//
// Why not hand every path to patternmatcher: it matches a pattern by running
// a regexp over the whole path, and Go's backtracking regexp spends ~10µs on
// "^(.*/)?[^/]*\.log$" against a 100-byte path; a 50-pattern file costs
// ~150µs per deep path (BenchmarkExcluded/patternmatcher-direct). Most
// patterns are plain globs per path segment, so they are matched segment by
// segment instead; the rest ("opaque": character classes, escapes, "**"
// glued to other characters) keep patternmatcher's own regexp.
// FuzzMatcher checks the two agree.
type pattern struct {
	exclusion bool
	cleaned   string // patternmatcher's cleaned text, without the "!"
	ndirs     int    // its segments: the old one-parent rule compares that many (oldMatches)
	// segs is the cleaned pattern split at "/", consecutive "**" collapsed;
	// nil when the pattern is opaque.
	segs []segment
	// starAt is the index of the last "**" in segs, -1 when there is none.
	starAt int
	// pm holds this pattern alone (as the exception in ["**", "!p"], so it is
	// always evaluated), compiled at New so concurrent use only reads it;
	// direct says pm holds it as ["p"] instead (see compile).
	pm     *patternmatcher.PatternMatcher
	direct bool
}

// compile builds a pattern from patternmatcher's cleaned form of it.
func compile(p *patternmatcher.Pattern) (*pattern, error) {
	cleaned := p.String()
	// New cleans what it is given again, and "!/" cleans to "!", which it
	// rejects, though "/" is a pattern Docker accepts (one that matches
	// nothing, issue 13). Such a pattern is held as itself: it has no "!"
	// or space of its own that New would read or trim.
	direct := filepath.Clean("!"+cleaned) != "!"+cleaned
	held := []string{"**", "!" + cleaned}
	if direct {
		held = []string{cleaned}
	}
	pm, err := patternmatcher.New(held)
	if err != nil {
		return nil, err
	}
	out := &pattern{exclusion: p.Exclusion(), cleaned: cleaned, ndirs: strings.Count(cleaned, "/") + 1, pm: pm, direct: direct, starAt: -1}
	// Matching once compiles the regexp now: patternmatcher compiles it on
	// first use, which would be a data race between goroutines later.
	if _, err := out.matchOpaque("probe"); err != nil {
		return nil, err
	}
	if simple(cleaned) {
		for i, s := range collapseStars(strings.Split(cleaned, "/")) {
			if s == "**" {
				out.starAt = i
			}
			out.segs = append(out.segs, newSegment(s))
		}
	}
	return out, nil
}

// simple reports whether cleaned can be matched segment by segment with
// exactly patternmatcher's result. Its regexp maps "*" to [^/]*, "?" to
// [^/] and "**" segments to (.*/)? or .*, and means to escape .+()|{}$, but
// its escape bitmap only covers characters below 64, so "|", "{" and "}"
// reach the regexp raw ("*|" matches every path). Opaque, so patternmatcher
// decides: "[" (a class may match "/"), "\" (escapes), "^|{}" (raw regexp
// syntax), "**" inside a segment, NUL and BOM (text/scanner treats them
// specially), invalid UTF-8.
func simple(cleaned string) bool {
	if !utf8.ValidString(cleaned) || strings.ContainsAny(cleaned, "[\\^|{}\x00\uFEFF") {
		return false
	}
	for _, s := range strings.Split(cleaned, "/") {
		if s != "**" && strings.Contains(s, "**") {
			return false
		}
	}
	return true
}

// collapseStars merges runs of "**" segments: (.*/)?(.*/)? matches what
// (.*/)? matches, and a run at the end still needs one segment, like one.
func collapseStars(segs []string) []string {
	out := segs[:0]
	for i, s := range segs {
		if s == "**" && i > 0 && segs[i-1] == "**" {
			continue
		}
		out = append(out, s)
	}
	return out
}

// match reports whether the pattern matches rel itself (not its parents);
// parts is rel split at "/". plain says rel has no newline and is valid
// UTF-8: the regexp's "." stops at a newline, and invalid bytes match as
// U+FFFD, which segment matching does not model.
func (p *pattern) match(rel string, parts []string, plain bool) bool {
	if p.segs == nil || !plain {
		m, _ := p.matchOpaque(rel)
		return m
	}
	return matchSegs(p.segs, p.starAt, parts)
}

// matchOpaque asks patternmatcher. The pattern sits as an exception after
// "**", so the matcher says "excluded" exactly when the pattern does not
// match rel (or, direct, alone, so "excluded" is "matches"). MatchesUsingParentResult is deprecated for walking (it loses
// parent results, buildx#850) but is precisely "match this path" for a
// pattern list evaluated from scratch, which is what is needed here.
func (p *pattern) matchOpaque(rel string) (bool, error) {
	//nolint:staticcheck // see above: used as a single-path match, not a walk
	excluded, err := p.pm.MatchesUsingParentResult(rel, false)
	return excluded == p.direct && err == nil, err
}

// matchSegs matches pattern segments against path segments. A "**" segment
// matches zero or more segments, except at the end where it needs one (the
// regexp is "prefix/.*" and paths are clean, so never "prefix/"). starAt is
// the last "**": after it the pattern has a fixed length, so the tail is
// compared with the path's last segments first, which rejects most paths.
func matchSegs(segs []segment, starAt int, parts []string) bool {
	if starAt < 0 {
		return len(segs) == len(parts) && matchFixed(segs, parts)
	}
	tail := segs[starAt+1:]
	keep := len(tail) // segments the "**" must leave for the tail
	if keep == 0 {
		keep = 1 // a trailing "**" needs one segment of its own
	} else if len(parts) < keep || !matchFixed(tail, parts[len(parts)-keep:]) {
		return false
	}
	if len(parts) < keep {
		return false
	}
	return matchHead(segs[:starAt], parts[:len(parts)-keep])
}

// matchHead reports whether segs, followed by an implicit "**", match parts:
// that is, whether segs match some prefix of parts. "**" inside segs matches
// any run of segments. It is the classic wildcard walk that backtracks only
// to the latest "**", so it is O(len(segs)*len(parts)) even for patterns like
// "**/a/**/a/**/a" that make naive recursion exponential.
func matchHead(segs []segment, parts []string) bool {
	si, pi := 0, 0
	star, starPi := -1, 0
	for pi < len(parts) {
		switch {
		case si == len(segs):
			return true // the implicit trailing "**" takes the rest
		case segs[si].star:
			star, starPi = si, pi
			si++
		case segs[si].match(parts[pi]):
			si++
			pi++
		case star >= 0:
			starPi++
			si, pi = star+1, starPi
		default:
			return false
		}
	}
	for si < len(segs) && segs[si].star {
		si++
	}
	return si == len(segs)
}

func matchFixed(segs []segment, parts []string) bool {
	for i := len(segs) - 1; i >= 0; i-- { // names differ most at the end
		if !segs[i].match(parts[i]) {
			return false
		}
	}
	return true
}

// segment is one "/"-separated part of a simple pattern: "**", or a glob
// of literals, "*" and "?" (simple rules out "[" and "\"), which path.Match
// reads exactly as patternmatcher's [^/]* and [^/]. The common shapes,
// "name", "*.ext", "prefix*" and "prefix*suffix", skip path.Match: it is
// most of the cost of a path (BenchmarkExcluded).
type segment struct {
	glob           string
	star           bool // "**"
	literal        bool // no wildcard: glob == name
	affix          bool // one "*" and no "?": prefix*suffix
	prefix, suffix string
}

func newSegment(glob string) segment {
	s := segment{glob: glob, star: glob == "**"}
	switch {
	case s.star:
	case !strings.ContainsAny(glob, "*?"):
		s.literal = true
	case strings.Count(glob, "*") == 1 && !strings.Contains(glob, "?"):
		s.affix = true
		s.prefix, s.suffix, _ = strings.Cut(glob, "*")
	}
	return s
}

// match matches one path segment (never containing "/").
func (s segment) match(name string) bool {
	switch {
	case s.literal:
		return s.glob == name
	case s.affix:
		return len(name) >= len(s.prefix)+len(s.suffix) &&
			strings.HasPrefix(name, s.prefix) && strings.HasSuffix(name, s.suffix)
	}
	ok, _ := path.Match(s.glob, name)
	return ok
}
