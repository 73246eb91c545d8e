package fingerprint

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/rebuildd/rebuildd/config"
	"github.com/rebuildd/rebuildd/dockerfile"
)

// benchContext writes a node-style context of files source files (100 per
// directory), a lock file, and an ignored node_modules of 10,000 files that
// the walk must prune, and returns its layer-model Source.
func benchContext(b *testing.B, files int) Source { return benchContextT(b, files) }

func benchContextT(b testing.TB, files int) Source {
	b.Helper()
	dir := b.TempDir()
	put := func(rel, body string) {
		p := filepath.Join(dir, rel)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	put("Dockerfile", "FROM node:20\nWORKDIR /app\nCOPY package.json package-lock.json ./\nRUN npm ci\nCOPY . .\nCMD [\"node\", \"src/index.js\"]\n")
	put(".dockerignore", "node_modules\n.git\n")
	put("package.json", `{"name":"bench"}`)
	put("package-lock.json", `{"lockfileVersion":3}`)
	for i := 0; i < files; i++ {
		put(fmt.Sprintf("src/d%03d/f%03d.js", i/100, i%100), fmt.Sprintf("export const v = %d\n", i))
	}
	for i := 0; i < 10000; i++ {
		put(fmt.Sprintf("node_modules/m%03d/f%02d.js", i/100, i%100), "module.exports = 1\n")
	}
	svc := config.Service{Name: "api", Build: &config.Build{Context: dir, Dockerfile: filepath.Join(dir, "Dockerfile")}}
	m, err := dockerfile.Load(svc, config.ServiceSettings{})
	if err != nil {
		b.Fatal(err)
	}
	return SourceOf(svc, m)
}

// BenchmarkFingerprint50k is rebuildd's own cost of an up-to-date check of
// a 50,000-file context: walk, classify, lstat, no reads (persisted index).
func BenchmarkFingerprint50k(b *testing.B) {
	src := benchContext(b, 50000)
	state := filepath.Join(b.TempDir(), "index")
	later := func() time.Time { return time.Now().Add(time.Hour) }
	idx := NewIndex(later)
	want, err := Fingerprint(context.Background(), src, idx) // the first run reads everything
	if err != nil {
		b.Fatal(err)
	}
	if err := idx.Save(state); err != nil {
		b.Fatal(err)
	}
	b.Run("persisted-index", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			idx := LoadIndex(state, later)
			p, err := Fingerprint(context.Background(), src, idx)
			if err != nil || p.Sum != want.Sum {
				b.Fatalf("fingerprint: %v", err)
			}
		}
	})
	b.Run("no-index", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if _, err := Fingerprint(context.Background(), src, NewIndex(later)); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkLoadIndex50k is reading the persisted index of a 50,000-file
// context, which --once waits for before its walk.
func BenchmarkLoadIndex50k(b *testing.B) {
	src := benchContext(b, 50000)
	state := filepath.Join(b.TempDir(), "index")
	idx := NewIndex(func() time.Time { return time.Now().Add(time.Hour) })
	if _, err := Fingerprint(context.Background(), src, idx); err != nil {
		b.Fatal(err)
	}
	if err := idx.Save(state); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if x := LoadIndex(state, nil); len(x.base) != idx.Len() {
			b.Fatalf("loaded %d entries, want %d", len(x.base), idx.Len())
		}
	}
}

// BenchmarkWalk50k is the context walk alone (walk, classify, fstatat,
// index lookups) over a 50,000-file context whose index is loaded.
func BenchmarkWalk50k(b *testing.B) {
	src := benchContext(b, 50000)
	state := filepath.Join(b.TempDir(), "index")
	later := func() time.Time { return time.Now().Add(time.Hour) }
	idx := NewIndex(later)
	if _, err := Fingerprint(context.Background(), src, idx); err != nil {
		b.Fatal(err)
	}
	if err := idx.Save(state); err != nil {
		b.Fatal(err)
	}
	idx = LoadIndex(state, later)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		p := &Print{Files: map[string]FileSum{}}
		if err := walkContext(context.Background(), src, idx, p); err != nil || len(p.Files) < 50000 {
			b.Fatalf("walk: %v, %d files", err, len(p.Files))
		}
	}
}
