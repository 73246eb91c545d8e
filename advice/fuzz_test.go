package advice

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rebuildd/rebuildd/config"
	"github.com/rebuildd/rebuildd/dockerfile"
)

// Any Dockerfile the layer model accepts gets advice without a panic, and
// every finding is complete: advice runs in the watch banner, where a crash
// would take the daemon down with it.
func FuzzCheck(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join("..", "testdata", "advice", "*", "*", "*Dockerfile"))
	for _, p := range seeds {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(string(b))
		}
	}
	f.Add("FROM a AS dev\nFROM dev AS prod\nRUN npm ci\nARG TOKEN\nRUN --mount=type=cache,target=/x yarn\n")
	f.Fuzz(func(t *testing.T, src string) {
		dir := t.TempDir()
		df := filepath.Join(dir, "Dockerfile")
		if err := os.WriteFile(df, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		for _, target := range []string{"", "dev"} {
			svc := config.Service{Name: "api", AnonVolumes: []string{"/app/node_modules"},
				BindMounts: []config.BindMount{{Source: dir, Target: "/app"}},
				Build:      &config.Build{Context: dir, Dockerfile: df, Target: target}}
			other := config.Service{Name: "api-prod", Build: &config.Build{Context: dir, Dockerfile: df, Target: "prod"}}
			proj := &config.Project{Name: "fuzz", Dir: dir, ComposeFiles: []string{filepath.Join(dir, "compose.yaml")}, Services: []config.Service{svc, other}}
			m, err := dockerfile.Load(svc, config.ServiceSettings{})
			if err != nil {
				continue
			}
			for _, fd := range Check(proj, svc, m) {
				if fd.Code == "" || fd.File == "" || fd.Message == "" || fd.Fix == "" || (fd.Severity != Warn && fd.Severity != Info) {
					t.Fatalf("incomplete finding %+v", fd)
				}
				if strings.Contains(fd.Message, "%!") || strings.Contains(fd.Fix, "%!") {
					t.Fatalf("format error in %+v", fd)
				}
			}
		}
	})
}
