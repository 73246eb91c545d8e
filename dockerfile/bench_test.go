package dockerfile

import (
	"fmt"
	"math/rand"
	"strings"
	"testing"
	"time"

	"github.com/rebuildd/rebuildd/ignore"
)

// benchIgnore is a 50-pattern .dockerignore of a real monorepo, with `!`
// exceptions and ** globs.
var benchIgnore = []string{
	".git", ".github", ".gitignore", "node_modules", "**/node_modules", "dist", "build", "coverage",
	"*.log", "**/*.log", "tmp", ".cache", "**/.DS_Store", "**/*.swp", ".env", ".env.*", "!.env.example",
	"docs", "!docs/api", "vendor", "!vendor/modules.txt", "**/__pycache__", "**/*.pyc", ".idea", ".vscode",
	"target", "out", "**/*.tmp", "secrets", "*.pem", "!certs/ca.pem", "**/testdata", "**/*_test.go",
	"!pkg/golden/**/*_test.go", "Makefile", "*.md", "!README.md", "**/.terraform", "infra/**/*.tfstate",
	"**/*.orig", "**/*.rej", ".nyc_output", "storybook-static", "**/*.snap", "!packages/ui/**/*.snap",
	"e2e/videos", "e2e/screenshots", "**/.pytest_cache", "**/.mypy_cache", "bazel-*",
}

// benchDockerfile has 20 instructions over three stages.
const benchDockerfile = `ARG GO_VERSION=1.22
FROM golang:${GO_VERSION} AS deps
WORKDIR /src
COPY go.mod go.sum ./
COPY tools/go.mod tools/go.sum ./tools/
RUN --mount=type=cache,target=/go/pkg/mod go mod download
FROM deps AS build
ARG APP=server
COPY cmd/${APP} ./cmd/${APP}
COPY internal ./internal
COPY pkg ./pkg
COPY *.go ./
RUN --mount=type=cache,target=/root/.cache/go-build go build -o /out/app ./cmd/${APP}
FROM gcr.io/distroless/static AS run
COPY --from=build /out/app /app
COPY config/*.yaml /etc/app/
COPY web/static /static
COPY --exclude=**/*.map web/dist /web
EXPOSE 8080
USER nonroot
ENTRYPOINT ["/app"]
`

// benchPaths makes n paths in deep trees: a few top-level areas, directories
// 2 to 8 levels deep, about ten files per directory.
func benchPaths(n int) []string {
	r := rand.New(rand.NewSource(42))
	tops := []string{"cmd/server", "internal", "pkg", "web/static", "web/dist", "node_modules", "docs", "config", "vendor", "e2e", "packages/ui", "tools"}
	segs := []string{"api", "auth", "store", "util", "handlers", "models", "v1", "v2", "components", "lib", "core", "impl"}
	exts := []string{".go", "_test.go", ".ts", ".js", ".map", ".snap", ".yaml", ".md", ".log", ".tmp", ".css", ".json"}
	var dirs []string
	for len(dirs) < n/10 {
		d := tops[r.Intn(len(tops))]
		for depth := 2 + r.Intn(7); depth > 0; depth-- {
			d += "/" + segs[r.Intn(len(segs))]
		}
		dirs = append(dirs, d)
	}
	paths := make([]string, 0, n)
	for i := 0; len(paths) < n; i++ {
		d := dirs[i%len(dirs)]
		paths = append(paths, fmt.Sprintf("/repo/%s/file%d%s", d, i/len(dirs), exts[r.Intn(len(exts))]))
	}
	return paths
}

func benchModel(b *testing.B, withIgnore bool) *Model {
	an, err := Analyze([]byte(benchDockerfile), "Dockerfile", "", nil)
	if err != nil {
		b.Fatal(err)
	}
	if n := strings.Count(benchDockerfile, "\n") - 1; n != 20 {
		b.Fatalf("bench Dockerfile has %d instructions, want 20", n)
	}
	patterns := benchIgnore
	if !withIgnore {
		patterns = nil
	}
	ign, err := ignore.New(patterns)
	if err != nil {
		b.Fatal(err)
	}
	return NewModel(Parts{Context: "/repo", Dockerfile: "/repo/Dockerfile", IgnoreFile: "/repo/.dockerignore",
		Analysis: an, Ignore: ign, BindMounts: []string{"/repo/web/static", "/repo/config"}})
}

// BenchmarkClassify reports ns per path over 100k paths: "cold" builds a new
// model (empty caches) for every pass, "warm" classifies paths again with the
// per-directory caches filled, as the watch loop does.
func BenchmarkClassify(b *testing.B) {
	if len(benchIgnore) != 50 {
		b.Fatalf("bench .dockerignore has %d patterns, want 50", len(benchIgnore))
	}
	paths := benchPaths(100_000)
	// The ignore matcher's own share: the same paths through Excluded alone.
	b.Run("warm-dockerignore-only", func(b *testing.B) {
		m := benchModel(b, true)
		rels := make([]string, len(paths))
		for i, p := range paths {
			rels[i] = strings.TrimPrefix(p, "/repo/")
			m.ign.Excluded(rels[i])
		}
		b.ResetTimer()
		c0 := cpuNow()
		for i := 0; i < b.N; i++ {
			m.ign.Excluded(rels[i%len(rels)])
		}
		cpu := cpuNow() - c0
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/path")
		b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/path")
	})
	for _, withIgnore := range []bool{true, false} {
		name := ""
		if !withIgnore {
			name = "-no-dockerignore" // rebuildd's own part, without the ignore matcher
		}
		b.Run("cold"+name, func(b *testing.B) {
			var cpu time.Duration
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				m := benchModel(b, withIgnore)
				b.StartTimer()
				c0 := cpuNow()
				for _, p := range paths {
					m.Classify(p)
				}
				cpu += cpuNow() - c0
			}
			n := float64(b.N * len(paths))
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/n, "ns/path")
			b.ReportMetric(float64(cpu.Nanoseconds())/n, "cpu-ns/path")
		})
		b.Run("warm"+name, func(b *testing.B) {
			m := benchModel(b, withIgnore)
			for _, p := range paths {
				m.Classify(p)
			}
			b.ResetTimer()
			c0 := cpuNow()
			for i := 0; i < b.N; i++ {
				m.Classify(paths[i%len(paths)])
			}
			cpu := cpuNow() - c0
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/path")
			b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/path")
		})
	}
}
