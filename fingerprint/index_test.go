package fingerprint

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/rebuildd/rebuildd/dockerfile"
	"github.com/rebuildd/rebuildd/internal/testfs"
)

// The per-file sum is stored in records: it must stay what it was when it
// was written with fmt ("%o\x00" then the content hash or link target).
func TestFileSumOfKeepsItsLayout(t *testing.T) {
	content := sha256.Sum256([]byte("hello"))
	for _, m := range []fs.FileMode{0o644, 0o755, fs.ModeSymlink | 0o777, fs.ModeSetuid | 0o4755, 0} {
		h := sha256.New()
		fmt.Fprintf(h, "%o\x00", m)
		h.Write(content[:])
		want := hex.EncodeToString(h.Sum(nil))[:fileSumLen]
		if got := fileSumOf(m, content[:]); got != want {
			t.Errorf("mode %v: %s, want %s", m, got, want)
		}
	}
}

// indexFiles writes n files in each of dirs under a fresh directory.
func indexFiles(t *testing.T, dirs []string, n int) string {
	t.Helper()
	root := t.TempDir()
	for _, d := range dirs {
		for i := 0; i < n; i++ {
			testfs.Write(t, root, fmt.Sprintf("%s/f%02d.txt", d, i), fmt.Sprintf("%s %d", d, i))
		}
	}
	return root
}

// countingIndex is a loaded index whose reads are counted.
func countingIndex(path string, reads *int) *Index {
	x := LoadIndex(path, later)
	x.hash = func(abs string) ([32]byte, error) { *reads++; return hashFile(abs) }
	return x
}

func statKey(t *testing.T, abs string) fileStat {
	t.Helper()
	fi, err := os.Lstat(abs)
	if err != nil {
		t.Fatal(err)
	}
	return statOf(fi)
}

// Lookups through a directory's range and through the whole index find
// the same entries, including names that sort around a subdirectory's.
func TestIndexLookupsAfterLoad(t *testing.T) {
	root := indexFiles(t, []string{"a", "a/b", "a-b", "ab"}, 5)
	x := NewIndex(later)
	var paths []string
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			paths = append(paths, p)
			if _, err := x.Sum(p, mustInfo(t, p)); err != nil {
				t.Fatal(err)
			}
		}
		return nil
	})
	path := filepath.Join(t.TempDir(), "index")
	if err := x.Save(path); err != nil {
		t.Fatal(err)
	}
	reads := 0
	loaded := countingIndex(path, &reads)
	if loaded.Len() != len(paths) {
		t.Fatalf("loaded %d entries, want %d", loaded.Len(), len(paths))
	}
	for _, p := range paths {
		d := loaded.under(filepath.Dir(p))
		sum, fsum, err := loaded.entry(p, statKey(t, p), &d)
		if err != nil {
			t.Fatal(err)
		}
		if fsum != fileSumOf(0o644, sum[:]) || sum != sha256.Sum256(mustRead(t, p)) {
			t.Errorf("%s: wrong entry", p)
		}
		if _, err := loaded.sumStat(p, statKey(t, p)); err != nil {
			t.Fatal(err)
		}
	}
	if reads != 0 {
		t.Errorf("%d files read from a loaded index of an unchanged tree, want 0", reads)
	}
	if loaded.dirty {
		t.Error("an unchanged tree made the index dirty")
	}
}

func mustInfo(t *testing.T, p string) fs.FileInfo {
	t.Helper()
	fi, err := os.Lstat(p)
	if err != nil {
		t.Fatal(err)
	}
	return fi
}

func mustRead(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// A file changed after the load is read once; the new hash then answers
// (it supersedes the loaded entry) and is what the next save keeps.
func TestIndexFreshHashSupersedesLoaded(t *testing.T) {
	f := newFixture(t)
	want := f.print(t)
	path := filepath.Join(t.TempDir(), "index")
	if err := f.idx.Save(path); err != nil {
		t.Fatal(err)
	}
	reads := 0
	loaded := countingIndex(path, &reads)
	testfs.Write(t, f.dir, "src/app.js", "console.log(2)")
	for i := 0; i < 2; i++ {
		got, err := Fingerprint(context.Background(), f.src, loaded)
		if err != nil {
			t.Fatal(err)
		}
		if got.Sum == want.Sum || reads != 1 {
			t.Fatalf("print %d after an edit: changed %v, %d reads; want changed, 1 read", i+1, got.Sum != want.Sum, reads)
		}
	}
	if err := loaded.Save(path); err != nil {
		t.Fatal(err)
	}
	again := countingIndex(path, &reads)
	if _, err := Fingerprint(context.Background(), f.src, again); err != nil {
		t.Fatal(err)
	}
	if reads != 1 || again.Len() != loaded.Len() {
		t.Errorf("after the save: %d reads (want 1), %d entries (want %d)", reads, again.Len(), loaded.Len())
	}
}

// Save writes nothing when nothing changed, and leaves pruned entries out.
func TestIndexSaveOnlyWhenChanged(t *testing.T) {
	f := newFixture(t)
	f.print(t)
	path := filepath.Join(t.TempDir(), "index")
	if err := f.idx.Save(path); err != nil {
		t.Fatal(err)
	}
	os.Remove(path)
	if err := f.idx.Save(path); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err == nil {
		t.Error("a clean index was written again")
	}
	f.idx.dirty = true
	f.idx.Save(path)
	loaded := LoadIndex(path, later)
	os.Remove(filepath.Join(f.dir, "src/lib/util.js"))
	if _, err := Fingerprint(context.Background(), f.src, loaded); err != nil {
		t.Fatal(err)
	}
	loaded.Prune()
	if err := loaded.Save(path); err != nil {
		t.Fatal(err)
	}
	if n := LoadIndex(path, later).Len(); n != 3 {
		t.Errorf("saved after prune: %d entries, want 3", n)
	}
}

// A damaged index loads as empty: out of order, truncated, trailing bytes.
func TestParseIndexRejectsDamage(t *testing.T) {
	f := newFixture(t)
	f.print(t)
	path := filepath.Join(t.TempDir(), "index")
	if err := f.idx.Save(path); err != nil {
		t.Fatal(err)
	}
	good := string(mustRead(t, path))
	if _, err := parseIndex(good); err != nil {
		t.Fatalf("good index: %v", err)
	}
	swapped := strings.Replace(good, f.dir+"/package.json", f.dir+"/zzzzzzz.json", 1)
	for name, s := range map[string]string{
		"truncated": good[:len(good)-1], "trailing": good + "x", "out of order": swapped,
		"v1": strings.Replace(good, "-v2\n", "-v1\n", 1), "empty": "",
	} {
		if _, err := parseIndex(s); err == nil {
			t.Errorf("%s index accepted", name)
		}
	}
}

// The walk's files and sums equal a plain walk's: nested directories,
// a symlink (its target is summed), a fifo (skipped), from an empty index
// and from a loaded one.
func TestWalkMatchesPlainWalk(t *testing.T) {
	root := indexFiles(t, []string{"src", "src/deep/er", "src-x", "s"}, 3)
	if err := os.Symlink("src/f00.txt", filepath.Join(root, "link")); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mkfifo(filepath.Join(root, "src", "pipe"), 0o644); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{}
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Type()&fs.ModeNamedPipe != 0 {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		fi := mustInfo(t, p)
		body := sha256.Sum256(mustRead(t, p))
		content := body[:]
		if fi.Mode()&fs.ModeSymlink != 0 {
			target, _ := os.Readlink(p)
			content = []byte(target)
		}
		want[rel] = fileSumOf(statOf(fi).fileMode(), content)
		return nil
	})
	src := Source{Service: "api", Context: root, Classify: allSource{}}
	path := filepath.Join(t.TempDir(), "index")
	for _, name := range []string{"empty index", "loaded index"} {
		x := LoadIndex(path, later)
		p, err := Fingerprint(context.Background(), src, x)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for rel, f := range p.Files {
			got[rel] = f.Sum
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s: walk gave\n%v\nwant\n%v", name, got, want)
		}
		if err := x.Save(path); err != nil {
			t.Fatal(err)
		}
	}
}

// allSource reads every path into the source layer.
type allSource struct{}

func (allSource) Classify(string) dockerfile.Result {
	return dockerfile.Result{Impact: dockerfile.ImpactSource, Action: dockerfile.ActionRebuild}
}

// The walk folds the files as it goes; the folds equal a refold of them.
func TestWalkFoldsLikeRefold(t *testing.T) {
	f := newFixture(t)
	p := f.print(t)
	deps, source := p.deps, p.source
	if deps == (fold{}) || source == (fold{}) {
		t.Fatal("the walk left a fold empty")
	}
	p.refold()
	if p.deps != deps || p.source != source {
		t.Error("the walk's folds differ from a refold of its files")
	}
}

func TestRelOf(t *testing.T) {
	tests := []struct{ rel, abs, child, want string }{
		{"", "/ctx", "/ctx/a", "a"},
		{"src", "/ctx/src", "/ctx/src/a", "src/a"},
		{"src/d", "/ctx/src/d", "/ctx/src/d/a", "src/d/a"},
		{"src", "/ctx//src", "/ctx//src/a", "src/a"},
		{"src", "/ctx/xsrc", "/ctx/xsrc/a", "src/a"}, // abs does not end in /rel: joined
	}
	for _, tt := range tests {
		if got := relOf(tt.rel, tt.abs, tt.child); got != tt.want {
			t.Errorf("relOf(%q, %q, %q) = %q, want %q", tt.rel, tt.abs, tt.child, got, tt.want)
		}
	}
}
