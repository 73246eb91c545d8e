package ignore

import (
	"encoding/json"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
)

// pySent asks docker-py itself (Debian's python3-docker, what Compose v1
// runs) which files it sends for each context directory, keyed by dir.
// The script is api/build.py's reading of .dockerignore and
// utils/build.py's exclude_paths, called as the library calls them.
const pySent = `
import json, os, sys
from docker.utils.build import exclude_paths
out = {}
for root in sys.argv[1:]:
    ign = os.path.join(root, '.dockerignore')
    exclude = None
    if os.path.exists(ign):
        with open(ign) as f:
            exclude = list(filter(lambda x: x != '' and x[0] != '#', [l.strip() for l in f.read().splitlines()]))
    files = []
    for p in exclude_paths(root, exclude or [], dockerfile='Dockerfile'):
        full = os.path.join(root, p)
        if os.path.isfile(full) and not os.path.islink(full):
            files.append(p)
    out[root] = sorted(files)
print(json.dumps(out))
`

// TestDockerPyAgreesWithDockerPy compares the DockerPy dialect's walk with
// docker-py's own on the table's cases and on generated ones. The daemon's
// later deletion of .dockerignore and the Dockerfile is Go code, pinned by
// TestDialectExcluded, so it is left out of the comparison here.
func TestDockerPyAgreesWithDockerPy(t *testing.T) {
	py := composePython()
	if err := exec.Command(py, "-c", "import docker.utils.build").Run(); err != nil {
		t.Skipf("no docker-py for %s here (Debian: python3-docker, which docker-compose v1 depends on)", py)
	}
	var dirs []string
	for _, tc := range dialectCases {
		if tc.dockerfile == "" {
			dirs = append(dirs, writeCase(t, tc.tree, ""))
		}
	}
	r := rand.New(rand.NewPCG(7, 7))
	for range 300 {
		dirs = append(dirs, writeCase(t, genPyCase(r), ""))
	}
	out, err := exec.Command(py, append([]string{"-c", pySent}, dirs...)...).Output()
	if err != nil {
		t.Fatalf("docker-py: %v", err)
	}
	var want map[string][]string
	if err := json.Unmarshal(out, &want); err != nil {
		t.Fatal(err)
	}
	for _, dir := range dirs {
		m, _, err := DockerPy.Load(dir, "Dockerfile")
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, f := range listFiles(t, dir) {
			if !m.Excluded(f) || m.walk != nil && m.walk.removed[f] {
				got = append(got, f)
			}
		}
		if w := want[dir]; !slices.Equal(got, w) {
			data, _ := os.ReadFile(filepath.Join(dir, ".dockerignore"))
			t.Errorf(".dockerignore %q, tree %q:\nrebuildd: %q\ndocker-py: %q", data, listFiles(t, dir), got, w)
		}
	}
}

// composePython is the interpreter docker-compose v1 runs on (its
// shebang), so the test asks the docker-py Compose really imports: another
// python3 on PATH may carry another docker-py (7.x strips the text after
// "!", 5.0.3 does not).
func composePython() string {
	exe, err := exec.LookPath("docker-compose")
	if err != nil {
		return "python3"
	}
	data, err := os.ReadFile(exe)
	if err != nil {
		return "python3"
	}
	line, _, _ := strings.Cut(string(data[:min(len(data), 128)]), "\n")
	if f := strings.Fields(strings.TrimPrefix(line, "#!")); strings.HasPrefix(line, "#!") && len(f) == 1 && strings.Contains(f[0], "python") {
		return f[0]
	}
	return "python3"
}

// genPyCase makes a small tree and a .dockerignore from names that look
// alike and patterns that touch what docker-py reads its own way: case,
// one-parent matching, prefixes of directory names, classes.
func genPyCase(r *rand.Rand) map[string]string {
	names := []string{"a", "A", "b", "build", "buildx", "Build", "docker", "x", "x.md", "X.MD", "a b", ".env", "node_modules", "dockerfile"}
	tree := map[string]string{}
	var paths []string
	for range 2 + r.IntN(8) {
		depth := 1 + r.IntN(3)
		var parts []string
		for range depth {
			parts = append(parts, names[r.IntN(len(names))])
		}
		p := strings.Join(parts, "/")
		if conflicts(tree, p) {
			continue
		}
		tree[p] = ""
		paths = append(paths, p)
	}
	var lines []string
	for range 1 + r.IntN(5) {
		p := paths[r.IntN(len(paths))]
		segs := strings.Split(p, "/")
		segs = segs[:1+r.IntN(len(segs))]
		switch r.IntN(8) {
		case 0:
			segs[0] = "**"
		case 1:
			segs[len(segs)-1] = segs[len(segs)-1][:1] + "*"
		case 2:
			segs[len(segs)-1] = strings.ToUpper(segs[len(segs)-1])
		case 3:
			segs[len(segs)-1] = "[!a]*"
		case 4:
			segs = append([]string{"**"}, segs[len(segs)-1])
		}
		line := strings.Join(segs, "/")
		if r.IntN(3) == 0 {
			line = "!" + line
		}
		lines = append(lines, line)
	}
	tree[".dockerignore"] = strings.Join(lines, "\n") + "\n"
	return tree
}

// conflicts reports whether p cannot be a file beside the tree's files
// (one of them is p, a directory above p, or below p).
func conflicts(tree map[string]string, p string) bool {
	if p == "Dockerfile" || p == ".dockerignore" {
		return true
	}
	for q := range tree {
		if q == p || strings.HasPrefix(q, p+"/") || strings.HasPrefix(p, q+"/") {
			return true
		}
	}
	for d := path.Dir(p); d != "."; d = path.Dir(d) {
		if d == "Dockerfile" || d == ".dockerignore" {
			return true
		}
	}
	return false
}

func listFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		out = append(out, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}
