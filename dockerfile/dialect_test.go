package dockerfile

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/rebuildd/rebuildd/config"
	"github.com/rebuildd/rebuildd/ignore"
)

// TestLoadWithDialect: the builder's dialect decides which ignore file the
// model uses and what it excludes (known differences 1 and 2 of
// docs/conformance.md, for Compose v1's builder).
func TestLoadWithDialect(t *testing.T) {
	dir := t.TempDir()
	for p, c := range map[string]string{
		"Dockerfile":              "FROM alpine\nCOPY . /app\n",
		"Dockerfile.dockerignore": "a\n",
		".dockerignore":           "build\n!**/x\n",
		"a":                       "",
		"build/x":                 "",
	} {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, p), []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	svc := config.Service{Name: "a", Build: &config.Build{Context: dir}}
	abs := func(p string) string { return filepath.Join(dir, p) }
	tests := []struct {
		d          ignore.Dialect
		ignoreFile string
		impacts    map[string]Impact
		skip       bool // SkipWatch("build")
	}{
		{ignore.BuildKit, "Dockerfile.dockerignore", map[string]Impact{
			"a": ImpactIgnored, "build/x": ImpactSource, "Dockerfile.dockerignore": ImpactDockerignore, ".dockerignore": ImpactSource,
		}, false},
		// The 20.10 CLI's BuildKit client: BuildKit's frontend picks the file.
		{ignore.BuildKit2010, "Dockerfile.dockerignore", map[string]Impact{
			"a": ImpactIgnored, "build/x": ImpactSource, "Dockerfile.dockerignore": ImpactDockerignore, ".dockerignore": ImpactSource,
		}, false},
		{ignore.DockerPy, ".dockerignore", map[string]Impact{
			"a": ImpactSource, "build/x": ImpactIgnored, "Dockerfile.dockerignore": ImpactSource, ".dockerignore": ImpactDockerignore,
		}, true},
		{ignore.Classic2010, ".dockerignore", map[string]Impact{
			"a": ImpactSource, "build/x": ImpactIgnored, "Dockerfile.dockerignore": ImpactSource, ".dockerignore": ImpactDockerignore,
		}, true},
	}
	for _, tt := range tests {
		m, err := Loader(tt.d)(svc, config.ServiceSettings{})
		if err != nil {
			t.Fatal(err)
		}
		if m.Dialect() != tt.d || m.IgnoreFile() != abs(tt.ignoreFile) {
			t.Errorf("%s: dialect %s, ignore file %q", tt.d, m.Dialect(), m.IgnoreFile())
		}
		for p, want := range tt.impacts {
			if r := m.Classify(abs(p)); r.Impact != want {
				t.Errorf("%s: %s is %s (%s), want %s", tt.d, p, r.Impact, r.Reason, want)
			}
		}
		if got := m.SkipWatch("build"); got != tt.skip {
			t.Errorf("%s: SkipWatch(build) = %v, want %v", tt.d, got, tt.skip)
		}
	}
}
