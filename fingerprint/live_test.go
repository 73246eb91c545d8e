package fingerprint

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/rebuildd/rebuildd/config"
	"github.com/rebuildd/rebuildd/dockerfile"
)

// liveContext writes a small context with a deps layer, a source layer,
// an ignored directory and an unused file, and returns its Source.
func liveContext(t *testing.T) Source {
	t.Helper()
	dir := t.TempDir()
	for rel, body := range map[string]string{
		"Dockerfile":    "FROM base\nCOPY package.json ./\nRUN npm ci\nCOPY src ./src\n",
		".dockerignore": "ignored\n",
		"package.json":  "{}",
		"README.md":     "unused",
		"src/a.js":      "a",
		"src/b/c.js":    "c",
		"ignored/x.js":  "x",
	} {
		put(t, filepath.Join(dir, rel), body)
	}
	svc := config.Service{Name: "api", Build: &config.Build{Context: dir, Dockerfile: filepath.Join(dir, "Dockerfile")}}
	m, err := dockerfile.Load(svc, config.ServiceSettings{})
	if err != nil {
		t.Fatal(err)
	}
	return SourceOf(svc, m)
}

func put(t *testing.T, path, body string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

// fromDisk is the print a full walk takes, with an index of its own.
func fromDisk(t *testing.T, src Source) *Print {
	t.Helper()
	p, err := Fingerprint(context.Background(), src, NewIndex(time.Now))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// newLive is a table of live prints over a fresh index, and a print
// function that fails the test on error.
func newLive(t *testing.T) (*Live, func(Source) *Print) {
	l := newLivePrints(NewIndex(time.Now))
	return l, func(src Source) *Print {
		t.Helper()
		p, err := l.Print(context.Background(), src)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
}

func samePrint(t *testing.T, step string, got, want *Print) {
	t.Helper()
	if got.Sum == want.Sum && len(got.Files) == len(want.Files) {
		return
	}
	for rel, f := range want.Files {
		if g, ok := got.Files[rel]; !ok || g.Sum != f.Sum || g.Impact != f.Impact {
			t.Errorf("%s: live print has %s = %+v, the walk %+v", step, rel, g, f)
		}
	}
	for rel := range got.Files {
		if _, ok := want.Files[rel]; !ok {
			t.Errorf("%s: live print keeps %s, which the walk does not find", step, rel)
		}
	}
	t.Fatalf("%s: live sum %s, walk sum %s", step, got.Sum, want.Sum)
}

// Each step changes the tree and reports what the watcher would: the
// changed file, or a directory that appeared or vanished as one path.
func TestLivePrintFollowsChanges(t *testing.T) {
	src := liveContext(t)
	ctx := context.Background()
	l := newLivePrints(NewIndex(time.Now))
	at := func(rel string) string { return filepath.Join(src.Context, rel) }
	first, err := l.Print(ctx, src)
	if err != nil {
		t.Fatal(err)
	}
	firstSum := first.Sum
	samePrint(t, "first walk", first, fromDisk(t, src))
	steps := []struct {
		name   string
		change func()
		paths  []string
	}{
		{"source edit", func() { put(t, at("src/a.js"), "a2") }, []string{"src/a.js"}},
		{"deps edit", func() { put(t, at("package.json"), `{"v":2}`) }, []string{"package.json"}},
		{"unused edit", func() { put(t, at("README.md"), "more") }, []string{"README.md"}},
		{"new file", func() { put(t, at("src/new.js"), "n") }, []string{"src/new.js"}},
		{"removed file", func() { os.Remove(at("src/b/c.js")) }, []string{"src/b/c.js"}},
		{"directory moved in", func() {
			tmp := filepath.Join(t.TempDir(), "d")
			put(t, filepath.Join(tmp, "e/f.js"), "f")
			put(t, filepath.Join(tmp, "g.js"), "g")
			if err := os.Rename(tmp, at("src/d")); err != nil {
				t.Fatal(err)
			}
		}, []string{"src/d"}},
		{"directory moved away", func() {
			if err := os.Rename(at("src/d"), filepath.Join(t.TempDir(), "gone")); err != nil {
				t.Fatal(err)
			}
		}, []string{"src/d"}},
		{"directory replaced by a file", func() {
			os.RemoveAll(at("src/b"))
			put(t, at("src/b"), "file now")
		}, []string{"src/b"}},
		{"file replaced by a directory", func() {
			os.Remove(at("src/b"))
			put(t, at("src/b/x.js"), "x")
		}, []string{"src/b"}},
		{"directory replaced by a symlink to a directory", func() {
			os.RemoveAll(at("src/b"))
			other := filepath.Join(t.TempDir(), "other")
			put(t, filepath.Join(other, "x.js"), "through the link")
			if err := os.Symlink(other, at("src/b")); err != nil {
				t.Fatal(err)
			}
		}, []string{"src/b/x.js", "src/b"}},
		{"symlink", func() {
			if err := os.Symlink("a.js", at("src/link.js")); err != nil {
				t.Fatal(err)
			}
		}, []string{"src/link.js"}},
		{"mode change", func() { os.Chmod(at("src/a.js"), 0o755) }, []string{"src/a.js"}},
		{"ignored directory", func() { put(t, at("ignored/y.js"), "y") }, []string{"ignored/y.js"}},
		{"editor swap and backup files, which the watcher never reports", func() {
			put(t, at("src/.a.js.swp"), "swap")
			put(t, at("src/a.js~"), "backup")
		}, nil},
		{"edit and revert", func() { put(t, at("src/a.js"), "zz"); put(t, at("src/a.js"), "a2") }, []string{"src/a.js"}},
	}
	for _, s := range steps {
		s.change()
		abs := make([]string, len(s.paths))
		for i, p := range s.paths {
			abs[i] = at(p)
		}
		l.Dirty(abs)
		got, err := l.Print(ctx, src)
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		samePrint(t, s.name, got, fromDisk(t, src))
	}
	if first.Sum != firstSum || first.total() != firstSum {
		t.Errorf("a print handed out changed afterwards: %s, was %s", first.Sum, firstSum)
	}
}

// Random edits, each reported as the watcher would, always leave the live
// print equal to a full walk.
func TestLivePrintRandomEdits(t *testing.T) {
	src := liveContext(t)
	ctx := context.Background()
	l := newLivePrints(NewIndex(time.Now))
	if _, err := l.Print(ctx, src); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(7, 7))
	names := []string{"src/a.js", "src/b/c.js", "src/b/d.js", "src/e/f/g.js", "package.json", "README.md", "ignored/q.js", "src/e"}
	for i := range 200 {
		var batch []string
		for range 1 + rng.IntN(4) {
			rel := names[rng.IntN(len(names))]
			abs := filepath.Join(src.Context, rel)
			switch rng.IntN(3) {
			case 0:
				if os.RemoveAll(abs) == nil {
					batch = append(batch, abs)
				}
			default:
				if fi, err := os.Stat(abs); err == nil && fi.IsDir() {
					continue
				}
				if os.MkdirAll(filepath.Dir(abs), 0o755) != nil {
					continue // a file stands where the directory would be
				}
				if os.WriteFile(abs, []byte(fmt.Sprint(rng.IntN(3))), 0o644) == nil {
					batch = append(batch, abs, filepath.Dir(abs)) // the directory may be new
				}
			}
		}
		l.Dirty(batch)
		got, err := l.Print(ctx, src)
		if err != nil {
			t.Fatal(err)
		}
		samePrint(t, fmt.Sprintf("round %d", i), got, fromDisk(t, src))
	}
}

// A deps or source file changed after a print was taken (during the build
// it started) leaves the print unsettled, even when the file is back as it
// was; paths no build reads, present or gone, do not. Lost events and the
// Dockerfile do.
func TestLivePrintUnsettled(t *testing.T) {
	src := liveContext(t)
	l, printFor := newLive(t)
	print := func() *Print { return printFor(src) }
	at := func(rel string) string { return filepath.Join(src.Context, rel) }
	for _, tc := range []struct {
		name   string
		change func() // before the path is reported
		path   string
		want   dockerfile.Impact
	}{
		{"nothing changed", nil, "", ""},
		{"unused file", nil, "README.md", ""},
		{"unused file removed", func() { os.Remove(at("README.md")) }, "README.md", ""},
		{"ignored file", nil, "ignored/x.js", ""},
		{"ignored file removed", func() { os.Remove(at("ignored/x.js")) }, "ignored/x.js", ""},
		{"ignored directory created", func() { os.Mkdir(at("ignored/cache"), 0o755) }, "ignored/cache", ""},
		{"source file", nil, "src/a.js", dockerfile.ImpactSource},
		{"deps file", nil, "package.json", dockerfile.ImpactDeps},
		{"new source directory", func() { os.Mkdir(at("src/newdir"), 0o755) }, "src/newdir", dockerfile.ImpactSource},
		{"source directory removed", func() { os.RemoveAll(at("src/b")) }, "src/b", dockerfile.ImpactSource},
		{"Dockerfile", nil, "Dockerfile", dockerfile.ImpactDockerfile},
		{"lost events", func() { l.Lost([]string{src.Context}) }, "", dockerfile.ImpactSource},
	} {
		p := print()
		if tc.change != nil {
			tc.change()
		}
		if tc.path != "" {
			// Say, an edit and its revert: the content is as before. As
			// from the watcher: touched when seen, then in a batch.
			l.Touch([]string{at(tc.path)})
			l.Dirty([]string{at(tc.path)})
		}
		if got := l.Unsettled(p); got != tc.want {
			t.Errorf("%s: Unsettled = %q, want %q", tc.name, got, tc.want)
		}
		if next := print(); l.Unsettled(next) != "" {
			t.Errorf("%s: a print taken after the change is unsettled", tc.name)
		}
	}
}

// A reload gives the service a new model and a new print; a print handed
// out before it still learns of changes made after it was taken.
func TestLivePrintUnsettledAcrossReload(t *testing.T) {
	src := liveContext(t)
	l, print := newLive(t)
	before := print(src)
	reloaded := src
	reloaded.Target = "other" // any difference makes a new entry
	print(reloaded)
	l.Touch([]string{filepath.Join(src.Context, "src/a.js")})
	if got := l.Unsettled(before); got != dockerfile.ImpactSource {
		t.Errorf("Unsettled after a reload = %q, want source", got)
	}
}

// Lost events make the next print a full walk: a change nobody reported
// is found.
func TestLivePrintLostWalksAgain(t *testing.T) {
	src := liveContext(t)
	l, print := newLive(t)
	before := print(src)
	put(t, filepath.Join(src.Context, "src/a.js"), "unreported")
	l.Lost([]string{src.Context})
	after := print(src)
	if after.Sum == before.Sum {
		t.Fatal("after lost events the print still shows the old content")
	}
	samePrint(t, "after the rescan", after, fromDisk(t, src))
}

// BenchmarkLivePrint50k is watch mode's fingerprint cost for one saved
// file in a 50,000-file context: the decision's share of the 10 ms budget
// between a save and its build command (the full walk is
// BenchmarkFingerprint50k). ns/print counts Dirty + Print alone: the save
// and the wait for the background copy between saves (which come at
// least a quiet window apart) are outside it, and timing them apart with
// StopTimer would cost more than the print (it reads the heap's stats).
func BenchmarkLivePrint50k(b *testing.B) {
	src := benchContext(b, 50000)
	ctx := context.Background()
	l := newLivePrints(NewIndex(time.Now))
	if _, err := l.Print(ctx, src); err != nil {
		b.Fatal(err)
	}
	abs := filepath.Join(src.Context, "src/d123/f045.js")
	var in time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := os.WriteFile(abs, []byte(fmt.Sprint(i)), 0o644); err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		l.Dirty([]string{abs})
		if _, err := l.Print(ctx, src); err != nil {
			b.Fatal(err)
		}
		in += time.Since(start)
		l.copies.Wait()
	}
	b.ReportMetric(float64(in.Nanoseconds())/float64(b.N), "ns/print")
}
