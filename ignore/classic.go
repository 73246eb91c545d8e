package ignore

import (
	"path"
	"strings"
)

// walkRules is how a classic builder (Classic, Classic2010, DockerPy), or
// a pre-23 docker CLI's BuildKit client (BuildKit2010), sends a context: its client walks the tree, drops every path its patterns match
// and enters an excluded directory only when an exception pattern's text
// starts with the directory's path; the daemon then deletes .dockerignore
// and the Dockerfile again when the file's patterns match them. BuildKit has
// none of this (its walk is exactly Matcher.eval), so its Matcher has no
// walkRules.
type walkRules struct {
	// match says whether the walk drops rel; parent is what match returned
	// as info for rel's directory (nil at the root), for the matchers that
	// carry parent results. It returns rel's own info when withInfo.
	match func(rel string, parent []bool, withInfo bool) (bool, []bool)
	// enter are the exception patterns' texts the walk compares an excluded
	// directory with; slash says the comparison is of "text/" with "dir/"
	// (the Go CLI) rather than of text with dir (docker-py).
	enter []string
	slash bool
	// removed are the paths the daemon deletes from the context it got.
	removed map[string]bool
}

// enters reports whether the walk descends into the excluded directory dir.
func (w *walkRules) enters(dir string) bool {
	for _, e := range w.enter {
		if w.slash && strings.HasPrefix(e+"/", dir+"/") || !w.slash && strings.HasPrefix(e, dir) {
			return true
		}
	}
	return false
}

// classic sets up m for the docker CLI's classic builder. Its walk matches
// the file's patterns plus the exceptions the CLI adds for .dockerignore and
// the Dockerfile when the patterns exclude them (cli/command/image/build:
// TrimBuildFilesFromExcludes, with the old fileutils.Matches).
func (m *Matcher) classic(d Dialect, dockerfile string) error {
	walk := append([]string(nil), m.patterns...)
	for _, f := range []string{".dockerignore", dockerfile} {
		if oldMatches(m.pats, f) {
			walk = append(walk, "!"+f)
		}
	}
	wm, err := New(walk)
	if err != nil {
		return err
	}
	w := &walkRules{slash: true, removed: daemonRemoves(m.pats, dockerfile)}
	for _, p := range wm.pats {
		if p.exclusion {
			w.enter = append(w.enter, p.cleaned)
		}
	}
	if d == Classic2010 {
		w.match = func(rel string, _ []bool, _ bool) (bool, []bool) { return oldMatches(wm.pats, rel), nil }
	} else {
		w.match = wm.eval
	}
	m.walk = w
	return nil
}

// cliBuildKit sets up m for the docker CLI's BuildKit client before 23
// (BuildKit2010): the frontend hands the file's patterns to the client,
// whose fsutil Walk (tonistiigi/fsutil 2020-11, vendored by CLI 20.10)
// drops a path when the old Matches says so, and descends into a dropped
// directory only when an exception's text plus "/" starts with the
// directory's path plus "/". No exceptions for the build files, no daemon
// deleting them.
func (m *Matcher) cliBuildKit() {
	pats := m.pats
	w := &walkRules{slash: true}
	for _, p := range pats {
		if p.exclusion {
			w.enter = append(w.enter, p.cleaned)
		}
	}
	w.match = func(rel string, _ []bool, _ bool) (bool, []bool) { return oldMatches(pats, rel), nil }
	m.walk = w
}

// daemonRemoves is the daemon's removeDockerfile (builder/remotecontext,
// Docker 20.10): .dockerignore and the Dockerfile leave the context when the
// patterns of .dockerignore match them by the old one-parent rule.
func daemonRemoves(pats []*pattern, dockerfile string) map[string]bool {
	out := map[string]bool{}
	for _, f := range []string{".dockerignore", path.Clean(dockerfile)} {
		if oldMatches(pats, f) {
			out[f] = true
		}
	}
	return out
}

// oldMatches is patternmatcher's deprecated PatternMatcher.Matches, which
// Docker 20.10's CLI walk, every CLI's TrimBuildFilesFromExcludes and the
// 20.10 daemon use: each pattern is tried on rel and, when it has no more
// segments than rel's directory, on the directory's first segments as many
// as the pattern has ("one parent", at the pattern's own depth). The last
// pattern that matches decides.
func oldMatches(pats []*pattern, rel string) bool {
	rel, ok := clean(rel)
	if !ok {
		return false
	}
	parts := strings.Split(rel, "/")
	plain := isPlain(rel)
	dirs := parts[:len(parts)-1]
	matched := false
	for _, p := range pats {
		match := p.match(rel, parts, plain)
		if !match && len(dirs) > 0 && p.ndirs <= len(dirs) {
			pre := dirs[:p.ndirs]
			match = p.match(strings.Join(pre, "/"), pre, plain)
		}
		if match {
			matched = !p.exclusion
		}
	}
	return matched
}
