package advice

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/rebuildd/rebuildd/config"
	"github.com/rebuildd/rebuildd/dockerfile"
)

// benchProject is a node service whose context holds a node_modules of
// `modules` files that the .dockerignore forgets (the heavy-context case:
// advice must walk and count it) or remembers (the walk prunes it).
func benchProject(b *testing.B, modules int, ignored bool) (*config.Project, config.Service, *dockerfile.Model) {
	b.Helper()
	dir := b.TempDir()
	write := func(rel, content string) {
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	write("compose.yaml", "services:\n  api:\n    build: .\n")
	write("Dockerfile", "FROM node:18\nWORKDIR /app\nCOPY . .\nRUN npm ci\nCMD [\"npm\", \"start\"]\n")
	write("package.json", "{}\n")
	ign := ".git\n"
	if ignored {
		ign += "node_modules\n"
	}
	write(".dockerignore", ign)
	for i := 0; i < 500; i++ {
		write(fmt.Sprintf("src/mod%d/file%d.js", i%20, i), "x")
	}
	for i := 0; i < modules; i++ {
		write(fmt.Sprintf("node_modules/pkg%d/lib/f%d.js", i%500, i), "x")
	}
	svc := config.Service{Name: "api", Build: &config.Build{Context: dir, Dockerfile: filepath.Join(dir, "Dockerfile")}}
	proj := &config.Project{Name: "bench", Dir: dir, ComposeFiles: []string{filepath.Join(dir, "compose.yaml")}, Services: []config.Service{svc}}
	m, err := dockerfile.Load(svc, config.ServiceSettings{})
	if err != nil {
		b.Fatal(err)
	}
	return proj, svc, m
}

// Check costs one context walk; these say how long advice delays a start-up
// banner for a realistic and a large node_modules, counted or pruned.
func BenchmarkCheck(b *testing.B) {
	for _, bc := range []struct {
		modules int
		ignored bool
	}{{5000, false}, {50000, false}, {50000, true}} {
		b.Run(fmt.Sprintf("node_modules=%d/ignored=%v", bc.modules, bc.ignored), func(b *testing.B) {
			proj, svc, m := benchProject(b, bc.modules, bc.ignored)
			b.ResetTimer()
			for b.Loop() {
				fs := Check(proj, svc, m)
				if len(fs) == 0 {
					b.Fatal("want findings (install-after-source at least)")
				}
			}
			b.ReportMetric(float64(bc.modules+500), "files")
		})
	}
}

func BenchmarkParseDockerfile(b *testing.B) {
	src, err := os.ReadFile(filepath.Join("..", "testdata", "advice", "missing-cache-mount", "app", "Dockerfile"))
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := parseDockerfile(src); err != nil {
			b.Fatal(err)
		}
	}
}
