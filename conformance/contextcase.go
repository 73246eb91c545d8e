package conformance

import (
	"fmt"
	"math/rand/v2"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/rebuildd/rebuildd/ignore"
)

// ContextCase is one generated build context for the context oracle.
type ContextCase struct {
	Seed       uint64
	Tree       Tree   // every file, including the Dockerfile and the ignore files
	Dockerfile string // context-relative path of the Dockerfile
	// Ignores maps each ignore file written (".dockerignore",
	// "<Dockerfile>.dockerignore") to its lines, for reports.
	Ignores map[string][]string
}

// ContextDockerfile is the Dockerfile of every context case: copy the whole
// context, so the image's top layer is the context Docker saw.
func ContextDockerfile(base string) string {
	return "FROM " + base + "\nCOPY . /ctx\n"
}

// dockerfileNames are where a case puts its Dockerfile: the default name, a
// named one in the root, one in a subdirectory (which its own ignore file
// then sits beside).
var dockerfileNames = []string{"Dockerfile", "Dockerfile", "Dockerfile", "app.Dockerfile", "docker/web.Dockerfile"}

// GenContextCase makes case seed: a tree of 3 to 14 files, a Dockerfile
// (content from ContextDockerfile(base)), and a .dockerignore, a
// Dockerfile-specific ignore file, both (the specific one wins) or neither.
func GenContextCase(seed uint64, base string) ContextCase {
	r := rng(seed)
	c := ContextCase{Seed: seed, Tree: genTree(r, 3, 14), Ignores: map[string][]string{}}
	c.Dockerfile = pick(r, dockerfileNames)
	c.Tree.force(c.Dockerfile, ContextDockerfile(base))
	specific := c.Dockerfile + ".dockerignore"
	switch x := r.IntN(10); {
	case x < 6:
		c.addIgnore(r, ".dockerignore")
	case x < 8:
		c.addIgnore(r, specific)
	case x < 9:
		c.addIgnore(r, ".dockerignore")
		c.addIgnore(r, specific)
	}
	return c
}

// addIgnore adds a generated ignore file at p, unless the tree has a
// directory there.
func (c *ContextCase) addIgnore(r *rand.Rand, p string) {
	lines := genIgnore(r, c.Tree)
	if c.Tree.add(p, strings.Join(lines, "\n")+"\n") {
		c.Ignores[p] = lines
	}
}

// Write creates the case's context in dir.
func (c ContextCase) Write(dir string) error { return c.Tree.Write(dir) }

// Expected walks the context written in dir and returns the files rebuildd
// says are in the build context of a builder with dialect d: d.Load with the
// case's Dockerfile, then Excluded on every file.
func (c ContextCase) Expected(dir string, d ignore.Dialect) ([]string, error) {
	m, _, err := d.Load(dir, c.Dockerfile)
	if err != nil {
		return nil, fmt.Errorf("case %d: %w", c.Seed, err)
	}
	files, err := Files(dir)
	if err != nil {
		return nil, err
	}
	var in []string
	for _, f := range files {
		if !m.Excluded(f) {
			in = append(in, f)
		}
	}
	return in, nil
}

// String describes the case for a report: the seed, the Dockerfile, each
// ignore file's lines and the tree.
func (c ContextCase) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "seed %d, dockerfile %s\n", c.Seed, c.Dockerfile)
	for _, p := range sortedKeys(c.Ignores) {
		fmt.Fprintf(&b, "%s: %q\n", p, c.Ignores[p])
	}
	fmt.Fprintf(&b, "tree: %q\n", c.Tree.Paths())
	return b.String()
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Diff returns the paths only in want and only in got (both sorted).
func Diff(want, got []string) (missing, extra []string) {
	w, g := set(want), set(got)
	for _, p := range want {
		if !g[p] {
			missing = append(missing, p)
		}
	}
	for _, p := range got {
		if !w[p] {
			extra = append(extra, p)
		}
	}
	return missing, extra
}

func set(s []string) map[string]bool {
	m := make(map[string]bool, len(s))
	for _, x := range s {
		m[x] = true
	}
	return m
}

// contextRel turns a path inside the image's copy of the context ("ctx/a/b")
// into the context-relative path ("a/b"); ok is false outside it.
func contextRel(name, root string) (string, bool) {
	name = path.Clean(strings.TrimPrefix(filepath.ToSlash(name), "/"))
	rel, ok := strings.CutPrefix(name, root+"/")
	return rel, ok
}
