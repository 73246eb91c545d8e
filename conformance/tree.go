package conformance

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

// Tree is a build context: slash-separated paths relative to the context
// -> file content. Directories exist only as parents of files.
type Tree map[string]string

// names are the path segments trees are made of. They are few and alike on
// purpose: patterns built from one name then hit its neighbours too ("a",
// "ab", "a b", "A"), which is where glob and prefix bugs show. Dotfiles,
// spaces, the conventional heavy directories and names that look like build
// files are all in.
var names = []string{
	"a", "b", "c", "ab", "abc", "a b", "b c d", "A", "x.go", "y.txt", "z.md",
	".env", ".git", ".hidden", "node_modules", "src", "lib", "build", "tmp",
	"Dockerfile", "app.Dockerfile", "dir.d", "-dash", "_u",
}

// rng returns the generator of case seed. Each case has its own stream so a
// case reproduces alone, whatever ran before it.
func rng(seed uint64) *rand.Rand {
	return rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
}

// pick returns a random element of s.
func pick[T any](r *rand.Rand, s []T) T { return s[r.IntN(len(s))] }

// chance is true with probability p.
func chance(r *rand.Rand, p float64) bool { return r.Float64() < p }

// genTree makes between min and max files at depth 1 to 4. A file never
// takes a path that is already a directory, nor the other way round.
func genTree(r *rand.Rand, min, max int) Tree {
	t := Tree{}
	want := min + r.IntN(max-min+1)
	for tries := 0; len(t) < want && tries < want*20; tries++ {
		depth := 1 + r.IntN(4)
		segs := make([]string, depth)
		for i := range segs {
			segs[i] = pick(r, names)
		}
		t.add(path.Join(segs...), fmt.Sprintf("content %d\n", r.Uint32()))
	}
	return t
}

// add puts a file at p unless p or one of its parents clashes with what is
// there (a file where a directory is needed, or the reverse). It reports
// whether the file was added.
func (t Tree) add(p, body string) bool {
	if _, ok := t[p]; ok {
		t[p] = body
		return true
	}
	for d := path.Dir(p); d != "."; d = path.Dir(d) {
		if _, ok := t[d]; ok {
			return false
		}
	}
	for q := range t {
		if strings.HasPrefix(q, p+"/") {
			return false
		}
	}
	t[p] = body
	return true
}

// force puts a file at p, removing whatever clashes with it: a file where
// one of its parents must be a directory, or files below p.
func (t Tree) force(p, body string) {
	for d := path.Dir(p); d != "."; d = path.Dir(d) {
		delete(t, d)
	}
	for q := range t {
		if strings.HasPrefix(q, p+"/") {
			delete(t, q)
		}
	}
	t[p] = body
}

// Paths returns the files, sorted.
func (t Tree) Paths() []string {
	out := make([]string, 0, len(t))
	for p := range t {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

// Dirs returns every directory that holds a file, sorted, without ".".
func (t Tree) Dirs() []string {
	seen := map[string]bool{}
	for p := range t {
		for d := path.Dir(p); d != "." && !seen[d]; d = path.Dir(d) {
			seen[d] = true
		}
	}
	out := make([]string, 0, len(seen))
	for d := range seen {
		out = append(out, d)
	}
	sort.Strings(out)
	return out
}

// Write creates the tree under dir.
func (t Tree) Write(dir string) error {
	for _, p := range t.Paths() {
		abs := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(abs), 0o755); err != nil {
			return fmt.Errorf("write tree %q: %w", abs, err)
		}
		if err := os.WriteFile(abs, []byte(t[p]), 0o644); err != nil {
			return fmt.Errorf("write tree %q: %w", abs, err)
		}
	}
	return nil
}

// Files walks dir and returns its regular files as sorted slash paths
// relative to dir: what is really on disk, not what the generator meant.
func Files(dir string) ([]string, error) {
	var out []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("walk %q: %w", dir, err)
	}
	sort.Strings(out)
	return out, nil
}
