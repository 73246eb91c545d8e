package advice

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/rebuildd/rebuildd/config"
	"github.com/rebuildd/rebuildd/dockerfile"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/advice")

// goldenCases: one compose project per directory under testdata/advice. fire
// lists the codes that must be found (per finding, the firing case), quiet
// the codes that must not be (the near misses in the same project). The
// full text of every finding is kept in <case>/want.txt.
var goldenCases = []struct {
	dir   string
	fire  []string
	quiet []string
}{
	{"good", nil, allCodes},
	{"install-after-source", []string{CodeInstallAfterSource}, []string{CodeMissingCacheMount, CodeHeavyContext, CodeUntaggedBuild}},
	{"heavy-context", []string{CodeHeavyContext}, []string{CodeInstallAfterSource, CodeMissingCacheMount}},
	{"secret-build-arg", []string{CodeSecretBuildArg}, []string{CodeInstallAfterSource, CodeUntaggedBuild}},
	{"untagged-build", []string{CodeUntaggedBuild}, []string{CodeHeavyContext, CodeSecretBuildArg}},
	{"untagged-push", []string{CodeUntaggedBuild}, []string{CodeHeavyContext}},
	{"anon-volume-trap", []string{CodeAnonVolumeTrap}, []string{CodeInstallAfterSource, CodeMissingCacheMount}},
	{"missing-cache-mount", []string{CodeMissingCacheMount}, []string{CodeInstallAfterSource, CodeSyntaxLine}},
	{"syntax-line", []string{CodeSyntaxLine}, []string{CodeMissingCacheMount}},
	{"target-drift", []string{CodeTargetDrift}, []string{CodeInstallAfterSource, CodeMissingCacheMount}},
	// the second npm RUN still lacks a cache mount: silencing is per code and line
	{"silenced", []string{CodeMissingCacheMount}, []string{CodeInstallAfterSource, CodeSyntaxLine}},
	// RUN --mount needs no syntax line: Docker 20.10's built-in frontend parses it
	{"inline", []string{CodeInstallAfterSource}, []string{CodeMissingCacheMount, CodeHeavyContext, CodeSyntaxLine}},
}

var allCodes = []string{CodeInstallAfterSource, CodeHeavyContext, CodeSecretBuildArg, CodeUntaggedBuild,
	CodeAnonVolumeTrap, CodeMissingCacheMount, CodeSyntaxLine, CodeTargetDrift}

func TestGolden(t *testing.T) {
	for _, tc := range goldenCases {
		t.Run(tc.dir, func(t *testing.T) {
			src := filepath.Join("..", "testdata", "advice", tc.dir)
			dir := materialize(t, src)
			byService := checkProject(t, dir)
			codes := map[string]bool{}
			var text strings.Builder
			for _, name := range sortedKeys(byService) {
				for _, f := range byService[name] {
					codes[f.Code] = true
					text.WriteString(Format(f, dir, name))
				}
			}
			for _, c := range tc.fire {
				if !codes[c] {
					t.Errorf("%s did not fire", c)
				}
			}
			for _, c := range tc.quiet {
				if codes[c] {
					t.Errorf("%s fired, want it quiet", c)
				}
			}
			golden(t, filepath.Join(src, "want.txt"), text.String())
		})
	}
}

// The article's advice, followed: no finding at all, not even info.
func TestGoodProjectHasNoFinding(t *testing.T) {
	dir := materialize(t, filepath.Join("..", "testdata", "advice", "good"))
	for name, fs := range checkProject(t, dir) {
		for _, f := range fs {
			t.Errorf("%s: %s", name, Format(f, dir))
		}
	}
}

// checkProject loads the compose project in dir the way rebuildd does and
// returns every build service's findings.
func checkProject(t *testing.T, dir string) map[string][]Finding {
	t.Helper()
	proj, err := config.Load(context.Background(), config.Options{WorkDir: dir, ProjectDir: dir,
		Files: []string{filepath.Join(dir, "compose.yaml")}})
	if err != nil {
		t.Fatalf("load %q: %v", dir, err)
	}
	out := map[string][]Finding{}
	for _, svc := range proj.BuildServices() {
		m, err := dockerfile.Load(svc, proj.Settings.Services[svc.Name])
		if err != nil {
			t.Fatalf("model for %s: %v", svc.Name, err)
		}
		out[svc.Name] = Check(proj, svc, m)
	}
	return out
}

// materialize copies a case into a temporary directory (so absolute paths
// and generated files stay out of the tree) and creates what fixture.txt
// lists: node_modules, .git and large files that git cannot or should not
// hold. Large files are sparse, so they cost no disk.
func materialize(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if rel == "want.txt" || rel == "fixture.txt" {
			return nil
		}
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	generate(t, filepath.Join(src, "fixture.txt"), dst)
	return dst
}

// generate reads "count path-with-%d size" lines and creates the files.
func generate(t *testing.T, fixture, dst string) {
	t.Helper()
	f, err := os.Open(fixture)
	if os.IsNotExist(err) {
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 || strings.HasPrefix(fields[0], "#") {
			continue
		}
		if len(fields) != 3 {
			t.Fatalf("%s: want 'count path size', got %q", fixture, sc.Text())
		}
		count, _ := strconv.Atoi(fields[0])
		size, _ := strconv.ParseInt(fields[2], 10, 64)
		for i := 0; i < count; i++ {
			name := fields[1]
			if strings.Contains(name, "%d") {
				name = fmt.Sprintf(name, i)
			}
			sparseFile(t, filepath.Join(dst, name), size)
		}
	}
}

func sparseFile(t *testing.T, p string, size int64) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
}

// golden compares got with the file, or rewrites it under -update.
func golden(t *testing.T, file, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(file, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%v (run go test ./advice -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("findings differ from %s (go test ./advice -update rewrites it)\n--- got\n%s--- want\n%s", file, got, want)
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
