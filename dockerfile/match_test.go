package dockerfile

import "testing"

func TestReads(t *testing.T) {
	tests := []struct {
		sources, excludes []string
		rel               string
		want              bool
	}{
		{[]string{"."}, nil, "a/b/c.go", true},
		{[]string{"."}, nil, ".", true},
		{[]string{"src"}, nil, "src", true},
		{[]string{"src"}, nil, "src/a/b.js", true},
		{[]string{"src"}, nil, "srcx/a.js", false},
		{[]string{"src"}, nil, ".", false},
		{[]string{"src/app.js"}, nil, "src", false}, // a parent of the source is not read
		{[]string{"go.mod", "go.sum"}, nil, "go.sum", true},
		{[]string{"go.mod", "go.sum"}, nil, "go.work", false},
		{[]string{"*.json"}, nil, "package.json", true},
		{[]string{"*.json"}, nil, "sub/package.json", false}, // * does not cross /
		{[]string{"*.json"}, nil, "x.json/inner", true},      // a glob matching a parent dir
		{[]string{"src/*.ts"}, nil, "src/a.ts", true},
		{[]string{"src/*.ts"}, nil, "src/lib/a.ts", false},
		{[]string{"pkg/*/go.mod"}, nil, "pkg/a/go.mod", true},
		{[]string{"pkg/*/go.mod"}, nil, "pkg/go.mod", false},
		{[]string{"file?.txt"}, nil, "file1.txt", true},
		{[]string{"file[0-9].txt"}, nil, "filea.txt", false},
		// Without --parents, BuildKit matches with filepath.Match: "**" is "*".
		{[]string{"**/*.go"}, nil, "main.go", false},
		{[]string{"**/*.go"}, nil, "a/main.go", true},
		{[]string{"**/*.go"}, nil, "a/b/c/main.go", false},
		{[]string{"**/*.go"}, nil, "a/b.go/c", true},
		{[]string{"src/**"}, nil, "src/x/y", true},
		{[]string{"**"}, nil, "anything/at/all", true},
		{[]string{"."}, []string{"*.md"}, "README.md", false},
		{[]string{"."}, []string{"*.md"}, "docs/x.md", true}, // patternmatcher: *.md is top-level only
		{[]string{"."}, []string{"**/*.md"}, "docs/x.md", false},
		{[]string{"."}, []string{"docs"}, "docs/a/b.txt", false},
		{[]string{"dir3"}, []string{"*.mp3"}, "dir3/song.mp3", false}, // excludes are relative to the source
		{[]string{"dir3"}, []string{"*.mp3"}, "dir3/song.ogg", true},
		{[]string{"x.txt"}, []string{"x.txt"}, "x.txt", true}, // the source itself is never excluded
		{[]string{"."}, []string{"*.md", "!KEEP.md"}, "KEEP.md", true},
		{[]string{"dir*"}, []string{"*.png"}, "dir1/a.png", false},
		{[]string{"dir*"}, []string{"*.png"}, "dir1/a.jpg", true},
	}
	for _, tt := range tests {
		in := &Input{Sources: tt.sources, Excludes: tt.excludes}
		if err := in.compile(); err != nil {
			t.Fatal(err)
		}
		if got := in.Reads(tt.rel); got != tt.want {
			t.Errorf("%v excl %v Reads(%q) = %v, want %v", tt.sources, tt.excludes, tt.rel, got, tt.want)
		}
	}
}

// TestReadsParents: with COPY --parents, sources are patternmatcher
// patterns, where "**" spans any number of directories.
func TestReadsParents(t *testing.T) {
	tests := []struct {
		source, rel string
		want        bool
	}{
		{"**/*.go", "main.go", true},
		{"**/*.go", "a/b/c/main.go", true},
		{"**/*.go", "a/b/c/main.js", false},
		{"src/**/package.json", "src/package.json", true},
		{"src/**/package.json", "src/a/b/package.json", true},
		{"src/**/**/x", "src/x", true},
		{"src/**/package.json", "lib/a/package.json", false},
	}
	for _, tt := range tests {
		in := &Input{Sources: []string{tt.source}, spanStars: true}
		if err := in.compile(); err != nil {
			t.Fatal(err)
		}
		if got := in.Reads(tt.rel); got != tt.want {
			t.Errorf("--parents %q Reads(%q) = %v, want %v", tt.source, tt.rel, got, tt.want)
		}
	}
}

// TestDirReadsAgreesWithReads checks the per-directory shortcut Classify
// takes against Reads on every file of a small tree.
func TestDirReadsAgreesWithReads(t *testing.T) {
	sources := [][]string{{"."}, {"src"}, {"src/app"}, {"*.json"}, {"src/*.ts"}, {"**/*.go"}, {"pkg/*/go.mod"}, {"a/b/c/d"}}
	dirs := []string{"", "src", "src/app", "src/app/x", "pkg", "pkg/a", "a", "a/b", "a/b/c", "a/b/c/d", "other"}
	names := []string{"x.json", "main.go", "a.ts", "go.mod", "d", "app"}
	for i := range 2 * len(sources) {
		src := sources[i/2]
		in := &Input{Sources: src, spanStars: i%2 == 1}
		if err := in.compile(); err != nil {
			t.Fatal(err)
		}
		for _, d := range dirs {
			st := in.dirReads(d)
			for _, n := range names {
				rel := n
				if d != "" {
					rel = d + "/" + n
				}
				got := in.Reads(rel)
				if (st == readAll && !got) || (st == readNone && got) {
					t.Errorf("%v: dir %q says %d but Reads(%q) = %v", src, d, st, rel, got)
				}
			}
		}
	}
}

func TestCleanSourceAndRemote(t *testing.T) {
	for src, want := range map[string]string{
		".": ".", "./": ".", "/": ".", "": ".", "src/": "src", "/src/../lib": "lib", "../../x": "x", "a/./b": "a/b",
	} {
		if got := cleanSource(src); got != want {
			t.Errorf("cleanSource(%q) = %q, want %q", src, got, want)
		}
	}
	for src, want := range map[string]bool{
		"https://example.com/a.tgz":            true,
		"http://example.com/a":                 true,
		"git@github.com:moby/buildkit.git":     true,
		"https://github.com/moby/buildkit.git": true,
		"src":                                  false,
		"./github.com":                         false,
		"github.com/foo/bar":                   false, // indistinguishable from a local path: BuildKit reads it locally
	} {
		if got := isRemote(src); got != want {
			t.Errorf("isRemote(%q) = %v, want %v", src, got, want)
		}
	}
}
