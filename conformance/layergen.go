package conformance

import (
	"fmt"
	"math/rand/v2"
	"path"
	"strings"

	"github.com/rebuildd/rebuildd/ignore"
)

// LayerCase is one generated project for the layer oracle: a context, a
// multi-stage Dockerfile, a target, and the one path that changes between
// the two builds.
type LayerCase struct {
	Seed       uint64
	Tree       Tree     // the context, with Dockerfile and .dockerignore
	Ignore     []string // .dockerignore lines (none: no file)
	Dockerfile string   // its content (also in Tree["Dockerfile"])
	Target     string   // "" builds the last stage
	Change     string   // context-relative path written (or created) before the second build
	Mounts     bool     // RUN --mount=type=bind is used (BuildKit only)
	// Cross: a cross-stage case (half of them): two to four stages, most
	// starting with a COPY --from or RUN --mount=from of an earlier stage
	// that has a RUN, so a change flows through stages (issue 13).
	Cross bool
}

// layerFiles are the files layer contexts are drawn from: the shapes of
// real projects (lock files, sources in nested directories, docs, caches),
// so the Dockerfile globs have neighbours to tell apart.
var layerFiles = []string{
	"package.json", "package-lock.json", "go.mod", "go.sum", "requirements.txt",
	"src/main.go", "src/util.go", "src/util_test.go", "src/lib/x.go", "src/lib/y.txt",
	"web/index.html", "web/app.js", "web/img/logo.svg", "README.md", "docs/guide.md",
	"config/app.yaml", "tmp/cache.bin", ".env", "scripts/build.sh", "a b/c d.txt",
}

// layerIgnores are the .dockerignore lines layer cases choose from. They
// exclude whole files or directories only, so every COPY source the
// generator picks from the remaining files still exists for Docker.
var layerIgnores = []string{"*.md", "tmp", ".env", "docs/", "**/*.svg", "src/lib", "**/*_test.go", "!README.md"}

// GenLayerCase makes case seed. mounts allows RUN --mount (the legacy
// builder rejects it).
func GenLayerCase(seed uint64, base string, mounts bool) (LayerCase, error) {
	r := rng(seed)
	c := LayerCase{Seed: seed, Tree: Tree{}, Mounts: mounts}
	for _, f := range layerFiles {
		if chance(r, 0.55) {
			c.Tree[f] = fmt.Sprintf("%s %d\n", f, r.Uint32())
		}
	}
	c.Tree["src/main.go"] = "package main\n" // one source at least
	for _, l := range layerIgnores {
		if chance(r, 0.2) {
			c.Ignore = append(c.Ignore, l)
		}
	}
	m, err := ignore.New(c.Ignore)
	if err != nil {
		return c, fmt.Errorf("case %d: ignore lines %q: %w", seed, c.Ignore, err)
	}
	if len(c.Ignore) > 0 {
		c.Tree[".dockerignore"] = strings.Join(c.Ignore, "\n") + "\n"
	}
	c.Cross = chance(r, 0.5)
	g := &dfGen{r: r, mounts: mounts, cross: c.Cross, sources: sources(r, c.Tree, m)}
	c.Dockerfile, c.Target = g.dockerfile(base)
	c.Tree["Dockerfile"] = c.Dockerfile
	c.Change = pickChange(r, c.Tree, g.used)
	return c, nil
}

// sources returns COPY sources that match at least one file the ignore
// matcher leaves in (a source that matches nothing fails the build): files,
// their directories, ".", and globs derived from a file so they match it.
func sources(r *rand.Rand, t Tree, m *ignore.Matcher) []string {
	seen := map[string]bool{".": true}
	for _, f := range t.Paths() {
		if m.Excluded(f) {
			continue
		}
		seen[f] = true
		for d := path.Dir(f); d != "."; d = path.Dir(d) {
			if !m.Excluded(d) {
				seen[d] = true
			}
		}
		seen[globOf(r, f)] = true
	}
	return sortedKeys(seen)
}

// globOf returns a Docker glob that matches file f: its base name turned
// into "*.ext", "pre*", one "?" or a class.
func globOf(r *rand.Rand, f string) string {
	dir, base := path.Split(f)
	runes := []rune(base)
	switch r.IntN(4) {
	case 0:
		if ext := path.Ext(base); ext != "" {
			return dir + "*" + ext
		}
		return dir + "*"
	case 1:
		return dir + string(runes[:1+r.IntN(len(runes))]) + "*"
	case 2:
		runes[r.IntN(len(runes))] = '?'
		return dir + string(runes)
	default:
		return dir + "[" + string(runes[0]) + "-z]" + string(runes[1:])
	}
}

// pickChange chooses the path to change: half the time a file one of the
// Dockerfile's sources names (so the deps and source answers get tested,
// not only unused), else any file (ignored, unused or read) or a new file
// beside existing ones.
func pickChange(r *rand.Rand, t Tree, used []string) string {
	var files, read []string
	for _, f := range t.Paths() {
		if f == "Dockerfile" || f == ".dockerignore" {
			continue
		}
		files = append(files, f)
		for _, s := range used {
			if covers(s, f) {
				read = append(read, f)
				break
			}
		}
	}
	switch {
	case len(read) > 0 && chance(r, 0.5):
		return pick(r, read)
	case chance(r, 0.3):
		dirs := append([]string{"."}, t.Dirs()...)
		return path.Join(pick(r, dirs), pick(r, []string{"new.go", "new.txt", "new.md"}))
	}
	return pick(r, files)
}

// covers is a rough "source s copies file f" for choosing changes only:
// the oracle never trusts it, Docker decides.
func covers(s, f string) bool {
	if s == "." || s == f || strings.HasPrefix(f, s+"/") {
		return true
	}
	segs, fs := strings.Split(s, "/"), strings.Split(f, "/")
	if len(fs) < len(segs) {
		return false
	}
	for i, seg := range segs {
		if ok, _ := path.Match(seg, fs[i]); !ok {
			return false
		}
	}
	return true
}
