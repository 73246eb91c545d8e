package ignore

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/moby/patternmatcher"
)

// benchPatterns is a realistic 50-pattern .dockerignore for a monorepo:
// tool directories, globs at every depth, and exceptions that re-include
// files under excluded directories.
var benchPatterns = []string{
	".git", ".hg", ".svn", ".idea", ".vscode", "node_modules", "!node_modules/@internal",
	"**/node_modules", "vendor", "!vendor/modules.txt", "dist", "build", "!build/keep",
	"out", "coverage", ".next", ".nuxt", ".cache", "tmp", "**/*.log", "**/*.tmp",
	"**/*.swp", "**/.DS_Store", "*.md", "!README.md", "!CHANGELOG.md", "docs/**/*.png",
	"**/__pycache__", "**/*.pyc", ".pytest_cache", ".mypy_cache", ".tox", ".venv", "venv",
	"**/*.o", "**/*.a", "**/*.so", "target", "!target/release/app", "*.env", "!example.env",
	"secrets", "**/testdata/golden/*.out", "services/*/tmp", "services/*/local",
	"**/*.bak", "**/*~", "Dockerfile*", "docker-compose*.yml", "!services/*/Dockerfile",
}

// benchPaths returns n deterministic file paths in a repository-shaped tree:
// directories hold ~10 files on average, chains go up to 14 levels deep
// (monorepo service trees, node_modules, testdata), and names hit the
// patterns above (logs, pyc, golden outputs, excluded top-level dirs).
func benchPaths(n int) []string {
	r := rand.New(rand.NewPCG(1, 2))
	tops := []string{"src", "services", "node_modules", "vendor", "docs", "build", "pkg", "internal", "web", "tools"}
	mids := []string{"api", "core", "ui", "util", "lib", "components", "handlers", "models", "tests", "testdata", "golden", "tmp", "local", "gen", "__pycache__"}
	exts := []string{".go", ".js", ".ts", ".json", ".log", ".md", ".py", ".pyc", ".png", ".out", ".css", ".tmp"}
	dirs := append([]string(nil), tops...)
	paths := make([]string, 0, n)
	for len(paths) < n {
		// Prefer recent directories so chains grow deep, as real trees do.
		d := dirs[r.IntN(len(dirs))]
		if r.IntN(10) < 7 {
			d = dirs[max(0, len(dirs)-1-r.IntN(20))]
		}
		if r.IntN(10) == 0 && strings.Count(d, "/") < 13 {
			dirs = append(dirs, fmt.Sprintf("%s/%s%d", d, mids[r.IntN(len(mids))], r.IntN(5)))
			continue
		}
		paths = append(paths, fmt.Sprintf("%s/file%d%s", d, r.IntN(1000), exts[r.IntN(len(exts))]))
	}
	return paths
}

// cpuTime is this process's user+system CPU time. The benchmark machine is
// shared (other builds run beside it), so wall time per path overstates our
// cost; CPU time does not count the time other processes hold the cores.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// report adds ns/path (wall) and cpu-ns/path metrics.
func report(b *testing.B, cpu0 time.Duration) {
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/path")
	b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/path")
}

// BenchmarkExcluded reports ns per path over 100k deep paths with the
// 50-pattern file. "warm" is the steady state of a watcher (directories
// already seen; every file still matched), "cold" builds a fresh matcher for
// each pass so directory results are computed too. Target: < 2µs/path.
func BenchmarkExcluded(b *testing.B) {
	paths := benchPaths(100_000)
	b.Run("warm", func(b *testing.B) {
		m, err := New(benchPatterns)
		if err != nil {
			b.Fatal(err)
		}
		for _, p := range paths {
			m.Excluded(p)
		}
		b.ResetTimer()
		cpu0 := cpuTime()
		for i := 0; i < b.N; i++ {
			m.Excluded(paths[i%len(paths)])
		}
		report(b, cpu0)
	})
	b.Run("cold", func(b *testing.B) {
		var m *Matcher
		cpu0 := cpuTime()
		for i := 0; i < b.N; i++ {
			if i%len(paths) == 0 {
				m, _ = New(benchPatterns)
			}
			m.Excluded(paths[i%len(paths)])
		}
		report(b, cpu0)
	})
	b.Run("patternmatcher-direct", func(b *testing.B) {
		// The baseline the cache replaces: every ancestor re-matched.
		pm, err := patternmatcher.New(benchPatterns)
		if err != nil {
			b.Fatal(err)
		}
		cpu0 := cpuTime()
		for i := 0; i < b.N; i++ {
			_, _ = pm.MatchesOrParentMatches(paths[i%len(paths)])
		}
		report(b, cpu0)
	})
}
