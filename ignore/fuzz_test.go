package ignore

import (
	"strings"
	"testing"

	"github.com/moby/patternmatcher"
)

// walkExcluded is the reference: BuildKit's context walk (fsutil filterFS)
// calls MatchesUsingParentResults on every directory from the top down and
// hands each its parent's MatchInfo.
func walkExcluded(t *testing.T, pm *patternmatcher.PatternMatcher, rel string) []bool {
	t.Helper()
	parts := strings.Split(rel, "/")
	out := make([]bool, len(parts))
	var info patternmatcher.MatchInfo
	for i := range parts {
		var err error
		out[i], info, err = pm.MatchesUsingParentResults(strings.Join(parts[:i+1], "/"), info)
		if err != nil {
			t.Fatalf("patternmatcher failed on %q after ignore.New accepted the patterns: %v", rel, err)
		}
	}
	return out
}

// FuzzMatcher: Parse never panics; Excluded agrees with BuildKit's walk at
// every level of the path (and so with patternmatcher.MatchesOrParentMatches
// wherever patternmatcher's two entry points agree, see
// TestExcludedFollowsBuildKitWalk); SkipDir never prunes a directory with a
// path under it that is in the context; IsTempFile never panics.
// Run: go test -fuzz FuzzMatcher -fuzzminimizetime 2s ./ignore; the corpus
// is kept in testdata/fuzz (copy new entries from $(go env GOCACHE)/fuzz).
func FuzzMatcher(f *testing.F) {
	seeds := []struct{ file, path string }{
		{"node_modules\n!node_modules/keep\n", "node_modules/keep/a.js"},
		{"*\n!src\n", "src/deep/x.go"},
		{"**/*.log\n", "a/b/c.log"},
		{"*/c\n!a\n", "a/c"},
		{"tmp/*\n!tmp\n", "tmp/a/b"},
		{"docs/**/*.png\n!docs/keep/**\n", "docs/keep/x/y.png"},
		{"a[^x]b\n", "a/b"},
		{"**/**/x\n", "x"},
		{"a/**\n", "a"},
		{"**\n!**/*.go\n", "p/q.go"},
		{"foo**\n**bar\n", "foobar/x"},
		{"\\*\n", "*"},
		{"a\nb\n!a/b/**/c\n", "a/b/x/c\n"},
		{"*.md\n!README.md\nREADME.md\n", "README.md"},
		{"#c\n\n/build/\n", "build/x"},
		{"x?y\n", "x\xffy"},
		{"[z-a]\n", "a"},
	}
	for _, s := range seeds {
		f.Add(s.file, s.path)
	}
	for _, s := range hostileIgnoreFiles() {
		f.Add(s, "dir1/x/y.log")
	}
	f.Fuzz(func(t *testing.T, file, p string) {
		guard(t, file, func() { matchLikeBuildKit(t, file, p) })
	})
}

// matchLikeBuildKit is FuzzMatcher's check of one input.
func matchLikeBuildKit(t *testing.T, file, p string) {
	{
		IsTempFile(p)
		m, err := Parse([]byte(file), ".dockerignore")
		if err != nil {
			return
		}
		rel, ok := clean(p)
		if !ok {
			if m.Excluded(p) || m.SkipDir(p) {
				t.Fatalf("root or outside path %q excluded", p)
			}
			return
		}
		pm, err := patternmatcher.New(m.Patterns())
		if err != nil {
			t.Fatalf("patternmatcher rejects patterns ignore.New accepted: %v", err)
		}
		want := walkExcluded(t, pm, rel)
		parts := strings.Split(rel, "/")
		for i := range parts {
			sub := strings.Join(parts[:i+1], "/")
			if got := m.Excluded(sub); got != want[i] {
				t.Fatalf("patterns %q: Excluded(%q) = %v, BuildKit's walk says %v", m.Patterns(), sub, got, want[i])
			}
			if i < len(parts)-1 && !want[len(parts)-1] && m.SkipDir(sub) {
				t.Fatalf("patterns %q: SkipDir(%q) = true but %q is in the context", m.Patterns(), sub, rel)
			}
		}
	}
}
