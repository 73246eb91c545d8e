package ignore

import (
	"strings"
	"sync"
	"testing"

	"github.com/moby/patternmatcher"
)

// TestExcluded pins Docker's .dockerignore semantics. Every row is read
// through Parse (ignorefile.ReadAll, as Docker reads the file) and also
// checked against patternmatcher.MatchesOrParentMatches.
func TestExcluded(t *testing.T) {
	tests := []struct {
		name  string
		file  string
		paths map[string]bool // path -> excluded
	}{
		{"exception", "*.md\n!README.md\n", map[string]bool{
			"a.md": true, "README.md": false, "docs/a.md": false, "docs": false,
		}},
		{"exception then re-exclude", "*.txt\n!keep*.txt\nkeep-not.txt\n", map[string]bool{
			"a.txt": true, "keep1.txt": false, "keep-not.txt": true,
		}},
		{"double star", "**/*.log\n", map[string]bool{
			"a.log": true, "x/y/a.log": true, "x/y/a.txt": false, "x/a.log/b": true,
		}},
		{"double star in the middle", "src/**/gen\n", map[string]bool{
			"src/gen": true, "src/a/b/gen": true, "src/a/b/gen/x.go": true, "gen": false, "src/generated": false,
		}},
		{"trailing slash", "tests/\n", map[string]bool{
			"tests": true, "tests/a.js": true, "src/tests/a.js": false, "testsuite": false,
		}},
		{"leading slash", "/build\n", map[string]bool{
			"build": true, "build/out.bin": true, "src/build": false,
		}},
		{"directory excluded with everything under it", "node_modules\n", map[string]bool{
			"node_modules": true, "node_modules/a/b/c.js": true, "src/node_modules": false,
		}},
		{"re-include under excluded dir", "node_modules\n!node_modules/keep\n", map[string]bool{
			"node_modules/x": true, "node_modules/keep": false, "node_modules/keep/a.js": false, "node_modules": true,
		}},
		{"allow-list", "*\n!src\n", map[string]bool{
			"src": false, "src/a.go": false, "src/deep/er/b.go": false,
			"Dockerfile": true, "README": true, "other/x": true,
		}},
		{"single-segment wildcard", "*/temp*\n", map[string]bool{
			"a/temp1": true, "temp1": false, "a/b/temp1": false, "a/temp1/x": true,
		}},
		{"question mark", "temp?\n", map[string]bool{"temp1": true, "temp12": false, "temp": false}},
		{"comments and blanks", "# node_modules\n\n   \nfoo\n", map[string]bool{"foo": true, "node_modules": false, "# node_modules": false}},
		{"root and outside are never excluded", "*\n**\n", map[string]bool{
			"": false, ".": false, "..": false, "../x": false, "a": true,
		}},
		{"unclean paths", "build\n", map[string]bool{"./build/x": true, "/build": true, "src/../build": true}},
		{"article dockerignore", ".git\nnode_modules\n.next\n.env\n*.log\nREADME.md\ntests/\n", map[string]bool{
			"package.json": false, "src/server.js": false, "README.md": true, "tests/app.test.js": true,
			"debug.log": true, "src/debug.log": false, ".env": true, ".git/HEAD": true,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Parse([]byte(tt.file), ".dockerignore")
			if err != nil {
				t.Fatal(err)
			}
			for p, want := range tt.paths {
				if got := m.Excluded(p); got != want {
					t.Errorf("Excluded(%q) = %v, want %v", p, got, want)
				}
				// A second call answers from the cache; it must agree.
				if got := m.Excluded(p); got != want {
					t.Errorf("cached Excluded(%q) = %v, want %v", p, got, want)
				}
				if c, ok := clean(p); ok {
					direct, err := patternmatcher.MatchesOrParentMatches(c, m.Patterns())
					if err != nil || direct != want {
						t.Errorf("patternmatcher.MatchesOrParentMatches(%q) = %v, %v; table says %v", c, direct, err, want)
					}
				}
			}
		})
	}
}

// TestExcludedFollowsBuildKitWalk pins the one place where Docker's own two
// entry points disagree: BuildKit walks the context with
// MatchesUsingParentResults, where an exception that matched only an
// ancestor (and was skipped there because nothing was excluded yet) does not
// re-include the child; MatchesOrParentMatches says it does. What is sent to
// the builder is what the walk decides, so Excluded follows the walk.
func TestExcludedFollowsBuildKitWalk(t *testing.T) {
	m, err := New([]string{"*/c", "!a"})
	if err != nil {
		t.Fatal(err)
	}
	if !m.Excluded("a/c") {
		t.Error(`Excluded("a/c") = false, want true (BuildKit's walk excludes it)`)
	}
	if direct, _ := patternmatcher.MatchesOrParentMatches("a/c", m.Patterns()); direct {
		t.Error("patternmatcher changed: MatchesOrParentMatches now agrees with the walk; revisit Excluded's doc comment")
	}
}

func TestNewRejectsBadPatterns(t *testing.T) {
	tests := []struct {
		patterns []string
		index    int
	}{
		{[]string{"ok", "["}, 1},
		{[]string{"!"}, 0},
		{[]string{"a", "b", "![z-a]"}, 2},
		{[]string{"[z-a]"}, 0}, // accepted by filepath.Match, rejected by the regexp
	}
	for _, tt := range tests {
		_, err := New(tt.patterns)
		pe, ok := err.(*PatternError)
		if !ok {
			t.Errorf("New(%q) error = %v, want *PatternError", tt.patterns, err)
			continue
		}
		if pe.Index != tt.index || pe.Pattern != tt.patterns[tt.index] {
			t.Errorf("New(%q) error names pattern %d %q, want %d", tt.patterns, pe.Index, pe.Pattern, tt.index)
		}
		if !strings.Contains(pe.Error(), tt.patterns[tt.index]) {
			t.Errorf("error %q does not quote the pattern", pe.Error())
		}
	}
}

func TestNilAndEmptyMatcherExcludeNothing(t *testing.T) {
	var nilM *Matcher
	empty, err := New(nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []*Matcher{nilM, empty} {
		if m.Excluded("a/b") || m.SkipDir("a") || len(m.Patterns()) != 0 {
			t.Errorf("%v: want nothing excluded", m)
		}
	}
}

// TestConcurrentExcluded runs under -race: the pool and the directory cache
// must keep goroutines from sharing patternmatcher's lazily compiled state.
func TestConcurrentExcluded(t *testing.T) {
	m, err := New([]string{"**/*.log", "build", "!build/keep", "[a-c]*/x?z"})
	if err != nil {
		t.Fatal(err)
	}
	paths := []string{"a/b/c.log", "build/x", "build/keep/y", "b1/xyz", "src/main.go"}
	want := make([]bool, len(paths))
	for i, p := range paths {
		want[i], _ = patternmatcher.MatchesOrParentMatches(p, m.Patterns())
	}
	var wg sync.WaitGroup
	errs := make(chan string, 8*len(paths))
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i, p := range paths {
				if got := m.Excluded(p); got != want[i] {
					errs <- p
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for p := range errs {
		t.Errorf("concurrent Excluded(%q) disagreed with patternmatcher", p)
	}
}
