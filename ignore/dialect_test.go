package ignore

import (
	"io/fs"
	"path/filepath"
	"slices"
	"sort"
	"testing"
)

// dialects are every dialect, in declaration order.
var dialects = []Dialect{BuildKit, Classic, Classic2010, DockerPy, BuildKit2010}

// contextOf loads the dialect's matcher for the tree written in dir and
// returns the files it leaves in the context, sorted.
func contextOf(t *testing.T, d Dialect, dir, dockerfile string) []string {
	t.Helper()
	if dockerfile == "" {
		dockerfile = "Dockerfile"
	}
	m, _, err := d.Load(dir, dockerfile)
	if err != nil {
		t.Fatal(err)
	}
	var in []string
	err = filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if rel = filepath.ToSlash(rel); !m.Excluded(rel) {
			in = append(in, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(in)
	return in
}

// dialectCases are the cases where the builders disagree, each with every
// dialect's context. The DockerPy column is checked against docker-py
// itself by TestDockerPyAgreesWithDockerPy; the Classic2010 one against the
// real legacy builder by the conformance oracle.
var dialectCases = []struct {
	name       string
	tree       map[string]string // every file but the Dockerfile
	dockerfile string            // context-relative; "" = "Dockerfile"
	want       map[Dialect][]string
}{
	{"Dockerfile.dockerignore is BuildKit's only (known difference 1)",
		map[string]string{"Dockerfile.dockerignore": "a\n", "a": ""}, "",
		map[Dialect][]string{
			BuildKit:     {"Dockerfile", "Dockerfile.dockerignore"},
			Classic:      {"Dockerfile", "Dockerfile.dockerignore", "a"},
			Classic2010:  {"Dockerfile", "Dockerfile.dockerignore", "a"},
			DockerPy:     {"Dockerfile", "Dockerfile.dockerignore", "a"},
			BuildKit2010: {"Dockerfile", "Dockerfile.dockerignore"},
		}},
	{"a wildcard exception does not open an excluded directory (known difference 2)",
		map[string]string{".dockerignore": "build\n!**/x\n", "build/x": ""}, "",
		map[Dialect][]string{
			BuildKit:     {".dockerignore", "Dockerfile", "build/x"},
			Classic:      {".dockerignore", "Dockerfile"},
			Classic2010:  {".dockerignore", "Dockerfile"},
			DockerPy:     {".dockerignore", "Dockerfile"},
			BuildKit2010: {".dockerignore", "Dockerfile"},
		}},
	{"a literal exception opens it for every builder",
		map[string]string{".dockerignore": "build\n!build/x\n", "build/x": "", "build/y": ""}, "",
		map[Dialect][]string{
			BuildKit:     {".dockerignore", "Dockerfile", "build/x"},
			Classic:      {".dockerignore", "Dockerfile", "build/x"},
			Classic2010:  {".dockerignore", "Dockerfile", "build/x"},
			DockerPy:     {".dockerignore", "Dockerfile", "build/x"},
			BuildKit2010: {".dockerignore", "Dockerfile", "build/x"},
		}},
	{"one-parent matching lets a file of an opened directory back in",
		map[string]string{".dockerignore": "**/build\n!build/keep\n", "build/keep": "", "build/y": ""}, "",
		map[Dialect][]string{
			BuildKit:     {".dockerignore", "Dockerfile", "build/keep"},
			Classic:      {".dockerignore", "Dockerfile", "build/keep"},
			Classic2010:  {".dockerignore", "Dockerfile", "build/keep", "build/y"},
			DockerPy:     {".dockerignore", "Dockerfile", "build/keep", "build/y"},
			BuildKit2010: {".dockerignore", "Dockerfile", "build/keep", "build/y"},
		}},
	{"docker-py opens a directory for an exception that only starts like it",
		map[string]string{".dockerignore": "**/build\n!buildx\n", "build/y": ""}, "",
		map[Dialect][]string{
			BuildKit:     {".dockerignore", "Dockerfile"},
			Classic:      {".dockerignore", "Dockerfile"},
			Classic2010:  {".dockerignore", "Dockerfile"},
			DockerPy:     {".dockerignore", "Dockerfile", "build/y"},
			BuildKit2010: {".dockerignore", "Dockerfile"},
		}},
	{"docker-py matches without case",
		map[string]string{".dockerignore": "A\n*.MD\n", "a": "", "A": "", "x.md": ""}, "",
		map[Dialect][]string{
			BuildKit:     {".dockerignore", "Dockerfile", "a", "x.md"},
			Classic:      {".dockerignore", "Dockerfile", "a", "x.md"},
			Classic2010:  {".dockerignore", "Dockerfile", "a", "x.md"},
			DockerPy:     {".dockerignore", "Dockerfile"},
			BuildKit2010: {".dockerignore", "Dockerfile", "a", "x.md"},
		}},
	{"the classic builders send the build files and the daemon deletes them",
		map[string]string{".dockerignore": "*\n", "a": ""}, "",
		map[Dialect][]string{BuildKit: nil, Classic: nil, Classic2010: nil, DockerPy: nil, BuildKit2010: nil}},
	{"the Dockerfile in a directory **/dir excludes (known difference 3)",
		map[string]string{".dockerignore": "**/docker\n", "a": ""}, "docker/web.Dockerfile",
		map[Dialect][]string{
			BuildKit:     {".dockerignore", "a"},
			Classic:      {".dockerignore", "a"}, // the build fails: the CLI loses the Dockerfile
			Classic2010:  {".dockerignore", "a"}, // so does this one
			DockerPy:     {".dockerignore", "a", "docker/web.Dockerfile"},
			BuildKit2010: {".dockerignore", "a"}, // BuildKit's frontend reads the Dockerfile apart
		}},
	{"docker-py reads comments and exceptions its own way",
		map[string]string{".dockerignore": "*\n !a\n #b\n! c\n", "a": "", "#b": "", "c": "", " c": ""}, "",
		map[Dialect][]string{
			BuildKit:     {"a", "c"},
			Classic:      {"a", "c"},
			Classic2010:  {"a", "c"},
			DockerPy:     {" c", "a"},
			BuildKit2010: {"a", "c"},
		}},
	{"docker-py splits lines at more than newlines",
		map[string]string{".dockerignore": "a\rb\vc\n", "a": "", "b": "", "c": ""}, "",
		map[Dialect][]string{
			BuildKit:     {".dockerignore", "Dockerfile", "a", "b", "c"},
			Classic:      {".dockerignore", "Dockerfile", "a", "b", "c"},
			Classic2010:  {".dockerignore", "Dockerfile", "a", "b", "c"},
			DockerPy:     {".dockerignore", "Dockerfile"},
			BuildKit2010: {".dockerignore", "Dockerfile", "a", "b", "c"},
		}},
	{"character classes: docker-py negates with ! only",
		map[string]string{".dockerignore": "[!a]\n[^b]\n", "a": "", "b": "", "^": "", "!": ""}, "",
		map[Dialect][]string{
			BuildKit:     {".dockerignore", "Dockerfile", "b"},
			Classic:      {".dockerignore", "Dockerfile", "b"},
			Classic2010:  {".dockerignore", "Dockerfile", "b"},
			DockerPy:     {".dockerignore", "Dockerfile", "a"},
			BuildKit2010: {".dockerignore", "Dockerfile", "b"},
		}},
	// Issue 13, seen with Compose v1, COMPOSE_DOCKER_CLI_BUILD=1
	// DOCKER_BUILDKIT=1 and Debian's docker CLI 20.10.24 against Compose
	// v2 (docs/conformance.md).
	{"the 20.10 CLI's BuildKit client does not open a directory for a wildcard exception",
		map[string]string{".dockerignore": "ab\n!**/README.md\n", "ab/README.md": "", "ab/x": ""}, "",
		map[Dialect][]string{
			BuildKit:     {".dockerignore", "Dockerfile", "ab/README.md"},
			BuildKit2010: {".dockerignore", "Dockerfile"},
		}},
	{"the 20.10 CLI's BuildKit client matches one parent: an exception for .cache lets its files in",
		map[string]string{".dockerignore": "pkg/.cache/**\n!**/.*\n", "pkg/.cache/data.json": "", "pkg/a": ""}, "",
		map[Dialect][]string{
			BuildKit:     {".dockerignore", "Dockerfile", "pkg/a"},
			Classic2010:  {".dockerignore", "Dockerfile", "pkg/.cache/data.json", "pkg/a"},
			BuildKit2010: {".dockerignore", "Dockerfile", "pkg/.cache/data.json", "pkg/a"},
		}},
}

func TestDialectExcluded(t *testing.T) {
	for _, tc := range dialectCases {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeCase(t, tc.tree, tc.dockerfile)
			for _, d := range dialects {
				want, ok := tc.want[d]
				if !ok {
					continue
				}
				if got := contextOf(t, d, dir, tc.dockerfile); !slices.Equal(got, want) {
					t.Errorf("%s: context %q, want %q", d, got, want)
				}
			}
		})
	}
}

// writeCase writes tree and a Dockerfile (at dockerfile, default
// "Dockerfile") in a new directory.
func writeCase(t *testing.T, tree map[string]string, dockerfile string) string {
	t.Helper()
	dir := t.TempDir()
	if dockerfile == "" {
		dockerfile = "Dockerfile"
	}
	write(t, filepath.Join(dir, dockerfile), "FROM scratch\n")
	for p, c := range tree {
		write(t, filepath.Join(dir, p), c)
	}
	return dir
}

func TestDialectSkipDirIsExact(t *testing.T) {
	tests := []struct {
		d        Dialect
		patterns string
		dirs     map[string]bool
	}{
		{Classic, "build\n!**/x\n", map[string]bool{"build": true, "build/a": true, "src": false}},
		{Classic, "build\n!build/x\n", map[string]bool{"build": false, "build/y": true, "build/x": false}},
		{DockerPy, "**/build\n!buildx\n", map[string]bool{"build": false, "a/build": true}},
		{DockerPy, "NODE_MODULES\n", map[string]bool{"node_modules": true, "src": false}},
		{Classic2010, "*\n!src\n", map[string]bool{"vendor": true, "src": false, ".": false, "": false}},
		{BuildKit2010, "ab\n!**/README.md\n", map[string]bool{"ab": true, "src": false}},
		{BuildKit2010, "build\n!build/x\n", map[string]bool{"build": false, "build/y": true}},
	}
	for _, tt := range tests {
		m, err := tt.d.Parse([]byte(tt.patterns), ".dockerignore", "Dockerfile")
		if err != nil {
			t.Fatal(err)
		}
		for dir, want := range tt.dirs {
			if got := m.SkipDir(dir); got != want {
				t.Errorf("%s %q: SkipDir(%q) = %v, want %v", tt.d, tt.patterns, dir, got, want)
			}
		}
	}
}

func TestDialectCandidates(t *testing.T) {
	if got := BuildKit.Candidates("/c", "/c/d/Dockerfile"); !slices.Equal(got, []string{"/c/d/Dockerfile.dockerignore", "/c/.dockerignore"}) {
		t.Errorf("BuildKit: %q", got)
	}
	if got := BuildKit2010.Candidates("/c", "/c/d/Dockerfile"); !slices.Equal(got, []string{"/c/d/Dockerfile.dockerignore", "/c/.dockerignore"}) {
		t.Errorf("BuildKit2010: %q", got)
	}
	for _, d := range []Dialect{Classic, Classic2010, DockerPy} {
		if got := d.Candidates("/c", "/c/d/Dockerfile"); !slices.Equal(got, []string{"/c/.dockerignore"}) {
			t.Errorf("%s: %q", d, got)
		}
	}
}

func TestParseDialect(t *testing.T) {
	for _, d := range dialects {
		got, err := ParseDialect(d.String())
		if err != nil || got != d {
			t.Errorf("ParseDialect(%q) = %v, %v", d, got, err)
		}
	}
	if d, err := ParseDialect(""); err != nil || d != BuildKit {
		t.Errorf(`ParseDialect("") = %v, %v; want BuildKit`, d, err)
	}
	if _, err := ParseDialect("kaniko"); err == nil {
		t.Error("ParseDialect(kaniko) did not fail")
	}
}

func TestDockerPyBadClassIsInputError(t *testing.T) {
	// Python's re rejects a range that runs backwards; docker-compose then
	// fails, so rebuildd reports the line instead of guessing.
	if _, err := DockerPy.Parse([]byte("[z-a]x\n"), "/c/.dockerignore", "Dockerfile"); err == nil {
		t.Error("no error for [z-a]")
	}
}
