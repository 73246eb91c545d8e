package ignore

import (
	"fmt"
	"regexp"
	"strings"
	"unicode"
)

// Compose v1's own builder is docker-py 5.0.3 (docker/api/build.py and
// docker/utils/build.py, docker/utils/fnmatch.py), Python, not Docker's Go
// code. What it does differently, all of it modelled here:
//
//   - it reads <context>/.dockerignore as text, splits it at every line
//     boundary Python knows (str.splitlines), strips each line of Python's
//     whitespace and drops empty lines and lines starting with "#"; a
//     byte-order mark and the text after "!" are not trimmed;
//   - a pattern is split at "/" with empty and "." segments dropped and
//     ".." eating the segment before it; a pattern left empty is dropped;
//   - it appends "!<Dockerfile>" and "!.dockerignore", so both are always
//     sent (the daemon may delete them again: daemonRemoves);
//   - patterns and paths are lowercased before matching (fnmatch), so
//     matching ignores case, and "[!x]" negates while "[^x]" does not;
//   - each path is matched alone with the one-parent rule (as oldMatches);
//   - the walk enters an excluded directory when an exception's text starts
//     with the directory's path, with no "/" after it (so "!buildx" opens
//     "build").

// pyPattern is one docker-py pattern.
type pyPattern struct {
	exclusion bool
	ndirs     int
	cleaned   string         // as docker-py joins it, before lowercasing (the walk's prefix test is case-sensitive)
	seg       *pattern       // segment matching, nil for patterns it cannot do (simple)
	re        *regexp.Regexp // the translated regexp, for the rest and for unusual paths
}

// dockerPy sets up m for Compose v1's builder; data is the ignore file's
// content, dockerfile the Dockerfile as compose names it.
func (m *Matcher) dockerPy(data []byte, dockerfile string) error {
	lines := append(pyLines(string(data)), "!"+dockerfile, "!.dockerignore")
	var pats []*pyPattern
	w := &walkRules{removed: daemonRemoves(m.pats, dockerfile)}
	for _, l := range lines {
		p, err := newPyPattern(l)
		if err != nil {
			return err
		}
		if p == nil {
			continue
		}
		pats = append(pats, p)
		if p.exclusion {
			w.enter = append(w.enter, p.cleaned)
		}
	}
	w.match = func(rel string, _ []bool, _ bool) (bool, []bool) { return pyMatches(pats, rel), nil }
	m.walk = w
	return nil
}

// pyLines is docker-py's reading of .dockerignore: universal newlines,
// str.splitlines, str.strip, no blanks, no comments.
func pyLines(text string) []string {
	var out []string
	for _, l := range strings.FieldsFunc(text, pyLineBreak) {
		l = strings.TrimFunc(l, pySpace)
		if l != "" && l[0] != '#' {
			out = append(out, l)
		}
	}
	return out
}

// pyLineBreak is str.splitlines's set of line boundaries. Splitting with
// FieldsFunc drops the empty lines, which docker-py drops anyway.
func pyLineBreak(r rune) bool {
	switch r {
	case '\n', '\r', '\v', '\f', 0x1c, 0x1d, 0x1e, 0x85, 0x2028, 0x2029:
		return true
	}
	return false
}

// pySpace is str.isspace: Go's unicode.IsSpace and the four ASCII
// separators Python counts as whitespace.
func pySpace(r rune) bool { return unicode.IsSpace(r) || r >= 0x1c && r <= 0x1f }

// newPyPattern is docker-py's Pattern; nil for a pattern with no segments.
func newPyPattern(line string) (*pyPattern, error) {
	p := &pyPattern{}
	if rest, ok := strings.CutPrefix(line, "!"); ok {
		p.exclusion, line = true, rest
	}
	var segs []string
	for _, s := range strings.Split(line, "/") {
		switch {
		case s == "" || s == ".":
		case s == "..":
			if len(segs) > 0 {
				segs = segs[:len(segs)-1]
			}
		default:
			segs = append(segs, s)
		}
	}
	if len(segs) == 0 {
		return nil, nil
	}
	p.ndirs, p.cleaned = len(segs), strings.Join(segs, "/")
	lower := strings.ToLower(p.cleaned)
	expr, err := pyTranslate(lower)
	if err == nil {
		p.re, err = regexp.Compile(expr)
	}
	if err != nil {
		return nil, fmt.Errorf("bad ignore pattern %q for Compose v1 (docker-py): %v", line, err)
	}
	if simple(lower) {
		p.seg = &pattern{starAt: -1}
		for i, s := range collapseStars(strings.Split(lower, "/")) {
			if s == "**" {
				p.seg.starAt = i
			}
			p.seg.segs = append(p.seg.segs, newSegment(s))
		}
	}
	return p, nil
}

// match is fnmatch(lower, pattern) for a path already lower-cased (the
// match is case-insensitive) and split at "/" into parts; plain is
// isPlain(lower).
func (p *pyPattern) match(lower string, parts []string, plain bool) bool {
	if p.seg != nil && plain {
		return matchSegs(p.seg.segs, p.seg.starAt, parts)
	}
	return p.re.MatchString(lower)
}

// pyMatches is docker-py's PatternMatcher.matches: every pattern in order,
// on rel and (one-parent rule) on rel's first directories; the last that
// matches decides. rel is lower-cased and split once, not per pattern: a
// deep path against thousands of patterns must stay cheap.
func pyMatches(pats []*pyPattern, rel string) bool {
	lower := strings.ToLower(rel)
	parts := strings.Split(lower, "/")
	plain := isPlain(lower)
	dirs := parts[:len(parts)-1]
	ends := make([]int, len(dirs)+1) // ends[k]: length of the first k parts joined
	for k := 1; k <= len(dirs); k++ {
		ends[k] = ends[k-1] + len(dirs[k-1])
		if k > 1 {
			ends[k]++
		}
	}
	matched := false
	for _, p := range pats {
		match := p.match(lower, parts, plain)
		if !match && len(dirs) > 0 && p.ndirs <= len(dirs) {
			match = p.match(lower[:ends[p.ndirs]], dirs[:p.ndirs], plain)
		}
		if match {
			matched = !p.exclusion
		}
	}
	return matched
}

// pyTranslate is docker-py's fnmatch.translate, written as a Go regexp with
// the Python one's meaning: "$" also matches before a final newline, and a
// character class is spelled out code point by code point, so Go reads no
// syntax into it that Python does not ("[[:alpha:]]", escapes).
func pyTranslate(pat string) (string, error) {
	rs := []rune(pat)
	n := len(rs)
	var b strings.Builder
	b.WriteString("^")
	for i := 0; i < n; {
		c := rs[i]
		i++
		switch c {
		case '*':
			if i < n && rs[i] == '*' {
				i++
				if i < n && rs[i] == '/' {
					i++
				}
				if i >= n {
					b.WriteString(".*")
				} else {
					b.WriteString("(?:.*/)?")
				}
			} else {
				b.WriteString("[^/]*")
			}
		case '?':
			b.WriteString("[^/]")
		case '[':
			j := i
			if j < n && rs[j] == '!' {
				j++
			}
			if j < n && rs[j] == ']' {
				j++
			}
			for j < n && rs[j] != ']' {
				j++
			}
			if j >= n {
				b.WriteString(`\[`)
				continue
			}
			class, err := pyClass(rs[i:j])
			if err != nil {
				return "", err
			}
			b.WriteString(class)
			i = j + 1
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	b.WriteString(`\n?\z`)
	return b.String(), nil
}

// pyClass turns the inside of a bracket expression into a Go class as
// Python's re reads it after translate: a leading "!" negates, a leading
// "^" is literal, every backslash is literal, "a-z" is a range (a range
// running backwards is re's "bad character range") and "-" at either end
// is literal.
func pyClass(stuff []rune) (string, error) {
	var b strings.Builder
	b.WriteString("[")
	if stuff[0] == '!' {
		b.WriteString("^")
		stuff = stuff[1:]
	}
	for k := 0; k < len(stuff); k++ {
		lo := stuff[k]
		if k+2 < len(stuff) && stuff[k+1] == '-' {
			hi := stuff[k+2]
			if hi < lo {
				return "", fmt.Errorf("bad character range %c-%c", lo, hi)
			}
			fmt.Fprintf(&b, `\x{%x}-\x{%x}`, lo, hi)
			k += 2
			continue
		}
		fmt.Fprintf(&b, `\x{%x}`, lo)
	}
	b.WriteString("]")
	return b.String(), nil
}
