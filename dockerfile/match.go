package dockerfile

import (
	"path"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/dfgitutil"

	"github.com/rebuildd/rebuildd/ignore"
)

// pattern is one source of an input, split into path segments for matching.
type pattern struct {
	all  bool     // "." or "**": the whole context
	segs []string // slash-separated segments; "**" is any number of segments
	glob []bool   // glob[i]: segs[i] needs path.Match rather than ==
}

// cleanSource makes a COPY/ADD/bind source context-relative the way BuildKit
// resolves it: "/" is the context root, ".." cannot leave the context, and
// "a/./b" (COPY --parents pivot) reads a/b.
func cleanSource(src string) string {
	if src != "" && src[0] != '/' && src != ".." && !strings.HasPrefix(src, "../") && path.Clean(src) == src {
		return src // already clean, and inside the context (path.Clean does not allocate for it)
	}
	p := strings.TrimPrefix(path.Clean("/"+src), "/")
	if p == "" {
		return "."
	}
	return p
}

// isRemote reports whether an ADD/COPY source is fetched from the network
// (an http(s) URL or a git ref) rather than read from the build context,
// with BuildKit's own git-ref detection.
func isRemote(src string) bool {
	if strings.HasPrefix(src, "http://") || strings.HasPrefix(src, "https://") {
		return true
	}
	// Every git ref BuildKit fetches has a ":" (a scheme's "://" or scp's
	// "host:path"); the one without ("github.com/...") is read as local.
	// Skipping its regexps for the rest keeps a huge Dockerfile linear
	// and fast (BenchmarkAnalyzeHuge).
	if !strings.Contains(src, ":") {
		return false
	}
	ref, isGit, err := dfgitutil.ParseGitRef(src)
	return err == nil && isGit && ref != nil && !ref.IndistinguishableFromLocal
}

// hasWildcard mirrors BuildKit's containsWildcards; a backslash escape also
// makes the segment a pattern, so path.Match interprets it.
func hasWildcard(s string) bool {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '*', '?', '[', '\\':
			return true
		}
	}
	return false
}

// compile prepares Sources and Excludes for Reads.
func (in *Input) compile() error {
	in.srcs = in.srcs[:0]
	for _, s := range in.Sources {
		n := strings.Count(s, "/") + 1
		p := pattern{segs: make([]string, 0, n), glob: make([]bool, 0, n)}
		for seg := range strings.SplitSeq(s, "/") {
			span := seg == "**" && in.spanStars
			if span && len(p.segs) > 0 && p.segs[len(p.segs)-1] == "**" && !p.glob[len(p.glob)-1] {
				continue // "**/**" is "**": keeps matching linear
			}
			p.segs = append(p.segs, seg)
			p.glob = append(p.glob, !span && hasWildcard(seg))
		}
		p.all = s == "." || s == "**"
		in.srcs = append(in.srcs, p)
	}
	in.excl = nil
	if len(in.Excludes) > 0 {
		// BuildKit's copier applies --exclude with patternmatcher's
		// MatchesUsingParentResults as it walks each source: the same
		// semantics as .dockerignore, which package ignore implements (and
		// compiles eagerly, so concurrent Classify calls are safe).
		e, err := ignore.New(in.Excludes)
		if err != nil {
			return err
		}
		in.excl = e
	}
	return nil
}

// Reads reports whether the input reads the context-relative, slash-separated
// path rel: a source equals rel, is a directory above it ("." is everything),
// or matches rel or a parent directory of rel as a Docker glob (path.Match
// per segment as BuildKit's copier does, where "**" is "*"; with COPY
// --parents, patternmatcher's "**" that spans directories). --exclude
// patterns apply below each matched source, the way BuildKit's copier
// applies them.
func (in *Input) Reads(rel string) bool {
	if in.srcs == nil && len(in.Sources) > 0 {
		if in.compile() != nil {
			return true // cannot tell: say it reads, a rebuild is the safe side
		}
	}
	if rel == "." {
		rel = ""
	}
	for i := range in.srcs {
		p := &in.srcs[i]
		if p.all {
			if !in.excluded(rel) {
				return true
			}
			continue
		}
		if matchFrom(p.segs, p.glob, rel, func(sub string) bool { return !in.excluded(sub) }) {
			return true
		}
	}
	return false
}

// excluded reports whether --exclude removes sub, a path below a matched
// source. The source itself ("") is never excluded, as in BuildKit.
func (in *Input) excluded(sub string) bool {
	return in.excl != nil && sub != "" && in.excl.Excluded(sub)
}

// matchFrom matches segs against the leading segments of rel and calls fn
// with the rest of rel ("" when rel itself matched) for every way it matches.
func matchFrom(segs []string, glob []bool, rel string, fn func(sub string) bool) bool {
	if len(segs) == 0 {
		return fn(rel)
	}
	if rel == "" {
		return false
	}
	seg, rest := cut(rel)
	if segs[0] == "**" && !glob[0] { // a spanning "**": zero or more segments
		return matchFrom(segs[1:], glob[1:], rel, fn) || matchFrom(segs, glob, rest, fn)
	}
	if !segMatch(segs[0], glob[0], seg) {
		return false
	}
	return matchFrom(segs[1:], glob[1:], rest, fn)
}

func segMatch(pat string, glob bool, seg string) bool {
	if !glob {
		return pat == seg
	}
	ok, err := path.Match(pat, seg)
	return err == nil && ok
}

func cut(rel string) (string, string) {
	if i := strings.IndexByte(rel, '/'); i >= 0 {
		return rel[:i], rel[i+1:]
	}
	return rel, ""
}

// readState is what an input reads among the entries of one directory.
type readState uint8

const (
	readNone readState = iota // no path in or below the directory
	readSome                  // depends on the name: ask Reads per path
	readAll                   // every path in and below the directory
)

// dirReads says what the input reads below the directory dir
// (context-relative, "" for the root), so Classify can answer for a whole
// directory at once.
func (in *Input) dirReads(dir string) readState {
	if in.srcs == nil && len(in.Sources) > 0 {
		return readSome
	}
	st := readNone
	for i := range in.srcs {
		p := &in.srcs[i]
		s := readAll
		if !p.all {
			s = dirFrom(p.segs, p.glob, dir)
		}
		if s > st {
			st = s
		}
	}
	if st == readAll && in.excl != nil {
		st = readSome
	}
	return st
}

func dirFrom(segs []string, glob []bool, dir string) readState {
	if len(segs) == 0 {
		return readAll // the source is dir or a directory above it
	}
	if dir == "" {
		return readSome // the source continues below dir
	}
	if segs[0] == "**" && !glob[0] {
		return readSome
	}
	seg, rest := cut(dir)
	if !segMatch(segs[0], glob[0], seg) {
		return readNone
	}
	return dirFrom(segs[1:], glob[1:], rest)
}
