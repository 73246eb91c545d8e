package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rebuildd/rebuildd/internal/e2e"
)

// benchFiles is the size of the benchmark's build context (issue 4: "a
// 50,000-file context").
const benchFiles = 50000

// BenchmarkOnceUpToDate compares `rebuildd --once` on an up-to-date project
// whose build context holds 50,000 files with `compose build` of the same
// project, every step a cache hit, for each installed Compose. Both run as
// the user would run them (a fresh process each time). The target is
// rebuildd >= 20x faster; the ratio is reported as "x-faster".
//
//	go test ./cmd/rebuildd -run '^$' -bench OnceUpToDate -benchtime 5x
func BenchmarkOnceUpToDate(b *testing.B) {
	e2e.Require(b)
	base := e2e.BaseImage(b)
	bin := buildBinary(b)
	for _, c := range e2e.Composes(b) {
		b.Run(c.Name, func(b *testing.B) { benchOnce(b, bin, c, base) })
	}
}

func benchOnce(b *testing.B, bin string, c e2e.Compose, base string) {
	port := e2e.FreePort(b)
	p := e2e.NewProject(b, c, map[string]string{
		"compose.yaml":    e2e.HTTPService("web", ".", port),
		"Dockerfile":      "FROM " + base + "\nCOPY site /www\nCOPY src /src\n" + e2e.HTTPDCmd,
		"site/index.html": "bench",
		"rebuild.yaml":    onceComposeYAML(c),
	})
	p.Write("site/id.txt", p.Name)
	for i := 0; i < benchFiles; i++ {
		path := p.Path(fmt.Sprintf("src/d%03d/f%03d.txt", i/100, i%100))
		if i%100 == 0 {
			os.MkdirAll(filepath.Dir(path), 0o755)
		}
		if err := os.WriteFile(path, []byte(fmt.Sprintf("file %d\n", i)), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	state := b.TempDir()
	args := []string{"-p", p.Name, "--state-dir", state, "--once", "-q"}
	once := func() (string, error) { return benchRun(p, bin, onceCommandTimeout, args...) }
	// The first run builds, starts and records: sending 50,000 files to the
	// builder the first time takes minutes on a busy 2-core machine.
	if out, err := benchRun(p, bin, firstBuildTimeout, args...); err != nil {
		b.Fatalf("first --once: %v\n%s", err, out)
	}
	if out, err := once(); err != nil || !strings.Contains(out, "web: up-to-date") {
		b.Fatalf("second --once is not up to date: %v\n%s", err, out)
	}
	var onceNs, buildNs float64
	b.Run("rebuildd-once", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if out, err := once(); err != nil || !strings.Contains(out, "web: up-to-date") {
				b.Fatalf("--once: %v\n%s", err, out)
			}
		}
		onceNs = float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	})
	b.Run("compose-build", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if out, err := benchCompose(p, "build", "web"); err != nil {
				b.Fatalf("compose build: %v\n%s", err, out)
			}
		}
		buildNs = float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	})
	if onceNs > 0 {
		b.ReportMetric(buildNs/onceNs, "x-faster")
		b.Logf("%s: rebuildd --once %v, compose build %v (%.1fx)", c.Name,
			time.Duration(onceNs).Round(time.Millisecond), time.Duration(buildNs).Round(time.Millisecond), buildNs/onceNs)
	}
}

// firstBuildTimeout bounds the benchmark's first, uncached build.
const firstBuildTimeout = 30 * time.Minute

// benchRun runs rebuildd in the project directory with its environment.
func benchRun(p *e2e.Project, bin string, timeout time.Duration, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = p.Dir
	cmd.Env = append(os.Environ(), p.Env()...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// benchCompose runs the project's compose like p.Compose, with a bound that
// fits a build of 50,000 files on a busy machine.
func benchCompose(p *e2e.Project, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), firstBuildTimeout)
	defer cancel()
	full := append(append(append([]string{}, p.CLI.Command[1:]...), "-p", p.Name), args...)
	cmd := exec.CommandContext(ctx, p.CLI.Command[0], full...)
	cmd.Dir = p.Dir
	cmd.Env = append(os.Environ(), p.Env()...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}
