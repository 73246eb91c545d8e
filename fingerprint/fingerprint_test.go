package fingerprint

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rebuildd/rebuildd/dockerfile"
	"github.com/rebuildd/rebuildd/internal/testfs"
)

// later is a clock far after every test file's mtime, so no index entry is
// "racy" and cached hashes are trusted.
func later() time.Time { return time.Now().Add(time.Hour) }

// fixture is a small context: deps file, source tree, an unused README and
// an ignored node_modules.
type fixture struct {
	dir   string
	src   Source
	idx   *Index
	reads atomic.Int64
	dirs  []string // directories the walk classified files in
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{dir: t.TempDir()}
	testfs.Write(t, f.dir, "Dockerfile", "FROM base\nCOPY package.json ./\nRUN npm ci\nCOPY src ./src\n")
	testfs.Write(t, f.dir, "package.json", `{"name":"x"}`)
	testfs.Write(t, f.dir, "src/app.js", "console.log(1)")
	testfs.Write(t, f.dir, "src/lib/util.js", "export {}")
	testfs.Write(t, f.dir, "README.md", "# hi")
	testfs.Write(t, f.dir, "node_modules/left-pad/index.js", "module.exports = 1")
	f.src = Source{
		Service: "api", Context: f.dir, Dockerfile: filepath.Join(f.dir, "Dockerfile"),
		Classify: &countingClassifier{FakeClassifier: FakeClassifier{Context: f.dir, Impacts: map[string]string{
			"package.json": "deps:RUN npm ci", "src/": "source", "node_modules/": "source",
		}}, dirs: &f.dirs},
		Prune: FakePruner{"node_modules": true},
	}
	f.idx = f.newIndex()
	return f
}

func (f *fixture) newIndex() *Index {
	idx := NewIndex(later)
	idx.hash = func(abs string) ([32]byte, error) { f.reads.Add(1); return hashFile(abs) }
	return idx
}

// countingClassifier records the directory of every path classified. The
// context walk classifies from several goroutines, hence the mutex.
type countingClassifier struct {
	FakeClassifier
	mu   sync.Mutex
	dirs *[]string
}

func (c *countingClassifier) Classify(abs string) dockerfile.Result {
	c.mu.Lock()
	*c.dirs = append(*c.dirs, filepath.Dir(abs))
	c.mu.Unlock()
	return c.FakeClassifier.Classify(abs)
}

func (f *fixture) print(t *testing.T) *Print {
	t.Helper()
	p, err := Fingerprint(context.Background(), f.src, f.idx)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestFingerprintCoversDepsAndSourceOnly(t *testing.T) {
	f := newFixture(t)
	p := f.print(t)
	want := map[string]dockerfile.Impact{"package.json": "deps", "src/app.js": "source", "src/lib/util.js": "source"}
	if len(p.Files) != len(want) {
		t.Fatalf("files = %v, want %v", p.Files, want)
	}
	for rel, impact := range want {
		if p.Files[rel].Impact != impact {
			t.Errorf("%s: impact %q, want %q", rel, p.Files[rel].Impact, impact)
		}
	}
	if got := p.Files["package.json"].Why; got != "deps layer, RUN npm ci" {
		t.Errorf("why = %q", got)
	}
	for _, d := range f.dirs {
		if filepath.Base(d) == "left-pad" {
			t.Errorf("walk entered the pruned node_modules (%s)", d)
		}
	}
}

func TestFingerprintChanges(t *testing.T) {
	future := time.Now().Add(time.Minute)
	tests := []struct {
		name    string
		edit    func(t *testing.T, dir string)
		changed bool
	}{
		{"nothing", func(*testing.T, string) {}, false},
		{"touch source", func(t *testing.T, d string) { os.Chtimes(filepath.Join(d, "src/app.js"), future, future) }, false},
		{"same content rewritten", func(t *testing.T, d string) { testfs.Write(t, d, "src/app.js", "console.log(1)") }, false},
		{"README edit (unused)", func(t *testing.T, d string) { testfs.Write(t, d, "README.md", "# changed") }, false},
		{"ignored dir edit", func(t *testing.T, d string) { testfs.Write(t, d, "node_modules/left-pad/index.js", "2") }, false},
		{"source edit", func(t *testing.T, d string) { testfs.Write(t, d, "src/app.js", "console.log(2)") }, true},
		{"deps edit", func(t *testing.T, d string) { testfs.Write(t, d, "package.json", "{}") }, true},
		{"source added", func(t *testing.T, d string) { testfs.Write(t, d, "src/new.js", "") }, true},
		{"source removed", func(t *testing.T, d string) { os.Remove(filepath.Join(d, "src/lib/util.js")) }, true},
		{"mode change", func(t *testing.T, d string) { os.Chmod(filepath.Join(d, "src/app.js"), 0o755) }, true},
		{"Dockerfile edit", func(t *testing.T, d string) { testfs.Write(t, d, "Dockerfile", "FROM other\n") }, true},
		{"symlink added", func(t *testing.T, d string) { os.Symlink("app.js", filepath.Join(d, "src/link.js")) }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			before := f.print(t)
			tt.edit(t, f.dir)
			after := f.print(t)
			if (before.Sum != after.Sum) != tt.changed {
				t.Errorf("sum changed = %v, want %v", before.Sum != after.Sum, tt.changed)
			}
		})
	}
}

func TestFingerprintPartsAndSymlinkTarget(t *testing.T) {
	f := newFixture(t)
	os.Symlink("app.js", filepath.Join(f.dir, "src/link.js"))
	base := f.print(t)
	os.Remove(filepath.Join(f.dir, "src/link.js"))
	os.Symlink("lib/util.js", filepath.Join(f.dir, "src/link.js"))
	if f.print(t).Files["src/link.js"].Sum == base.Files["src/link.js"].Sum {
		t.Error("retargeted symlink kept its sum")
	}
	for _, edit := range []func(s *Source){
		func(s *Source) { s.Target = "dev" },
		func(s *Source) { s.Args = map[string]string{"NODE": "20"} },
		func(s *Source) { s.Dockerfile, s.DockerfileInline = "", "FROM base" },
	} {
		src := f.src
		edit(&f.src)
		if p := f.print(t); p.Sum == f.printWith(t, src).Sum {
			t.Errorf("build definition edit did not change the sum")
		}
		f.src = src
	}
}

func (f *fixture) printWith(t *testing.T, src Source) *Print {
	t.Helper()
	p, err := Fingerprint(context.Background(), src, f.idx)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestIndexSkipsReadsOfUnchangedFiles(t *testing.T) {
	f := newFixture(t)
	f.print(t)
	first := f.reads.Load()
	if first != 4 { // package.json, two sources, Dockerfile
		t.Fatalf("first fingerprint read %d files, want 4", first)
	}
	f.print(t)
	if again := f.reads.Load() - first; again != 0 {
		t.Errorf("unchanged tree read %d files, want 0", again)
	}
	testfs.Write(t, f.dir, "src/app.js", "console.log(3)")
	f.print(t)
	if again := f.reads.Load() - first; again != 1 {
		t.Errorf("one edit read %d files, want 1", again)
	}
}

func TestIndexPersists(t *testing.T) {
	f := newFixture(t)
	want := f.print(t)
	path := filepath.Join(t.TempDir(), "state", "index")
	if err := f.idx.Save(path); err != nil {
		t.Fatal(err)
	}
	loaded := LoadIndex(path, later)
	if loaded.Len() != f.idx.Len() {
		t.Fatalf("loaded %d entries, saved %d", loaded.Len(), f.idx.Len())
	}
	var reads int
	loaded.hash = func(abs string) ([32]byte, error) { reads++; return hashFile(abs) }
	got, err := Fingerprint(context.Background(), f.src, loaded)
	if err != nil {
		t.Fatal(err)
	}
	if got.Sum != want.Sum || reads != 0 {
		t.Errorf("from the loaded index: sum equal %v, %d reads; want equal, 0 reads", got.Sum == want.Sum, reads)
	}
}

func TestIndexDistrustsRacyEntries(t *testing.T) {
	f := newFixture(t)
	f.idx = NewIndex(time.Now) // files were just written: every entry is racy
	f.idx.hash = func(abs string) ([32]byte, error) { f.reads.Add(1); return hashFile(abs) }
	f.print(t)
	f.print(t)
	if got := f.reads.Load(); got != 8 {
		t.Errorf("racy entries: %d reads over two prints, want 8 (no cached hash trusted)", got)
	}
}

func TestLoadIndexIgnoresGarbage(t *testing.T) {
	path := filepath.Join(t.TempDir(), "index")
	os.WriteFile(path, []byte("rebuildd-index-v1\n\xff\xff\xff"), 0o600)
	if n := LoadIndex(path, nil).Len(); n != 0 {
		t.Errorf("garbage index gave %d entries", n)
	}
}

func TestIndexPruneDropsVanishedPaths(t *testing.T) {
	f := newFixture(t)
	f.print(t)
	path := filepath.Join(t.TempDir(), "index")
	f.idx.Save(path)
	os.Remove(filepath.Join(f.dir, "src/app.js"))
	loaded := LoadIndex(path, later)
	if _, err := Fingerprint(context.Background(), f.src, loaded); err != nil {
		t.Fatal(err)
	}
	loaded.Prune()
	if loaded.Len() != 3 {
		t.Errorf("after prune %d entries, want 3", loaded.Len())
	}
}
