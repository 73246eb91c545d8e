package watcher

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/rebuildd/rebuildd/ignore"
)

// scenario runs against a real directory with one backend.
type scenario struct {
	name string
	// only restricts the scenario to one backend ("" = both): injected
	// inotify limits and kernel overflows mean nothing to polling.
	only  string
	setup func(t *testing.T, root string, o *Options)
	run   func(t *testing.T, h *harness)
}

func skipper(t *testing.T, patterns ...string) func(string) bool {
	m, err := ignore.New(patterns)
	if err != nil {
		t.Fatal(err)
	}
	return m.SkipDir
}

// treeScenarios: the watch set follows the tree.
var treeScenarios = []scenario{
	{
		name: "ignored node_modules gets no watches",
		setup: func(t *testing.T, root string, o *Options) {
			for i := 0; i < 10; i++ {
				mkdirs(t, root, fmt.Sprintf("src/a%d/b", i))
			}
			for i := 0; i < 2000; i++ {
				mkdirs(t, root, fmt.Sprintf("node_modules/pkg%d/lib", i))
			}
			o.Roots = []Root{{Path: root, SkipDir: skipper(t, "node_modules")}}
		},
		run: func(t *testing.T, h *harness) {
			if got, want := h.watches(), 1+1+10+10; got != want {
				t.Errorf("watches = %d, want %d (root, src, 10 a*, 10 b)", got, want)
			}
			write(t, filepath.Join(h.root, "node_modules/pkg1/lib/x.js"), "x")
			write(t, filepath.Join(h.root, "src/a1/b/y.go"), "y")
			got := changed(h.sync())
			if !got[filepath.Join(h.root, "src/a1/b/y.go")] {
				t.Errorf("edit under src missed: %v", got)
			}
			if got[filepath.Join(h.root, "node_modules/pkg1/lib/x.js")] {
				t.Errorf("edit under the ignored node_modules reported")
			}
		},
	},
	{
		name: "mkdir -p then write, 100 times, nothing missed",
		run: func(t *testing.T, h *harness) {
			var want []string
			for i := 0; i < 100; i++ {
				p := filepath.Join(h.root, fmt.Sprintf("d%d/b/c/f", i))
				write(t, p, "x")
				want = append(want, p)
			}
			got := changed(h.sync())
			for _, p := range want {
				if !got[p] {
					t.Errorf("missed %s", p)
				}
			}
			if n := h.watches(); n != 1+300 {
				t.Errorf("watches = %d, want 301", n)
			}
		},
	},
	{
		name: "a tree moved in is watched and its files reported",
		run: func(t *testing.T, h *harness) {
			outside := tempRoot(t)
			var want []string
			for _, rel := range []string{"tree/f", "tree/x/f", "tree/x/y/f", "tree/x/y/z/f"} {
				write(t, filepath.Join(outside, rel), "x")
				want = append(want, filepath.Join(h.root, rel))
			}
			must(t, os.Rename(filepath.Join(outside, "tree"), filepath.Join(h.root, "tree")))
			got := changed(h.sync())
			for _, p := range want {
				if !got[p] {
					t.Errorf("moved-in file %s not reported", p)
				}
			}
			if n := h.watches(); n != 1+4 {
				t.Errorf("watches = %d, want 5", n)
			}
			deep := filepath.Join(h.root, "tree/x/y/z/new")
			write(t, deep, "x")
			if !changed(h.sync())[deep] {
				t.Errorf("edit in the moved-in tree missed")
			}
		},
	},
	{
		name: "nested directory renamed",
		setup: func(t *testing.T, root string, o *Options) {
			write(t, filepath.Join(root, "a/b/c/f"), "x")
		},
		run: func(t *testing.T, h *harness) {
			must(t, os.Rename(filepath.Join(h.root, "a/b"), filepath.Join(h.root, "a/x")))
			got := changed(h.sync())
			for _, p := range []string{"a/b", "a/x", "a/x/c/f"} {
				if !got[filepath.Join(h.root, p)] {
					t.Errorf("%s not reported: %v", p, got)
				}
			}
			if n := h.watches(); n != 4 {
				t.Errorf("watches = %d, want 4 (root, a, a/x, a/x/c): old ones must go", n)
			}
			p := filepath.Join(h.root, "a/x/c/g")
			write(t, p, "x")
			if !changed(h.sync())[p] {
				t.Errorf("edit under the renamed directory missed")
			}
		},
	},
	{
		name: "directory deleted and recreated",
		setup: func(t *testing.T, root string, o *Options) {
			write(t, filepath.Join(root, "d/e/f"), "x")
		},
		run: func(t *testing.T, h *harness) {
			must(t, os.RemoveAll(filepath.Join(h.root, "d")))
			if got := changed(h.sync()); !got[filepath.Join(h.root, "d")] {
				t.Errorf("deleted directory not reported: %v", got)
			}
			if n := h.watches(); n != 1 {
				t.Errorf("watches after delete = %d, want 1", n)
			}
			p := filepath.Join(h.root, "d/e/g")
			write(t, p, "x")
			if !changed(h.sync())[p] {
				t.Errorf("file in the recreated directory missed")
			}
			if n := h.watches(); n != 3 {
				t.Errorf("watches after recreate = %d, want 3", n)
			}
		},
	},
	{
		name: "root deleted and recreated",
		setup: func(t *testing.T, root string, o *Options) {
			write(t, filepath.Join(root, "sub/f"), "x")
		},
		run: func(t *testing.T, h *harness) {
			must(t, os.RemoveAll(h.root))
			h.waitPath(h.root)
			if !h.rootStats(h.root).Missing {
				t.Errorf("root not marked missing")
			}
			p := filepath.Join(h.root, "sub/g")
			write(t, p, "x")
			h.waitPath(p)
			h.sync()
			rs := h.rootStats(h.root)
			if rs.Missing || rs.Dirs != 2 {
				t.Errorf("after recreate: %+v, want 2 dirs, not missing", rs)
			}
		},
	},
	{
		name: "root missing at start is watched once it appears",
		setup: func(t *testing.T, root string, o *Options) {
			o.Roots = []Root{{Path: filepath.Join(root, "later/ctx")}}
		},
		run: func(t *testing.T, h *harness) {
			ctx := filepath.Join(h.root, "later/ctx")
			if !h.rootStats(ctx).Missing {
				t.Fatalf("absent root not reported missing")
			}
			p := filepath.Join(ctx, "sub/f")
			write(t, p, "x")
			h.waitPath(p)
			q := filepath.Join(ctx, "sub/g")
			write(t, q, "x")
			h.waitPath(q)
			if rs := h.rootStats(ctx); rs.Missing || rs.Dirs != 2 {
				t.Errorf("after it appeared: %+v, want 2 dirs", rs)
			}
			if n := h.watches(); n != 2 {
				t.Errorf("watches = %d, want 2: the ancestor watch must go", n)
			}
		},
	},
	{
		name: "single-file root sees a save by rename, nothing else",
		setup: func(t *testing.T, root string, o *Options) {
			write(t, filepath.Join(root, "compose.yaml"), "v1")
			o.Roots = []Root{{Path: root, Files: []string{"compose.yaml"}}}
		},
		run: func(t *testing.T, h *harness) {
			f := filepath.Join(h.root, "compose.yaml")
			write(t, filepath.Join(h.root, "other.yaml"), "x")
			write(t, f+".tmp", "v2")
			must(t, os.Rename(f+".tmp", f))
			got := changed(h.waitPath(f))
			if len(got) != 1 {
				t.Errorf("changes = %v, want compose.yaml only", got)
			}
		},
	},
	{
		name: "vim-style save is one change",
		setup: func(t *testing.T, root string, o *Options) {
			write(t, filepath.Join(root, "main.go"), "v1")
		},
		run: func(t *testing.T, h *harness) {
			f := filepath.Join(h.root, "main.go")
			write(t, filepath.Join(h.root, "4913"), "")
			must(t, os.Remove(filepath.Join(h.root, "4913")))
			must(t, os.Rename(f, f+"~"))
			write(t, f, "v2")
			must(t, os.Remove(f+"~"))
			got := changed(h.sync())
			if len(got) != 1 || !got[f] {
				t.Errorf("changes = %v, want only %s", got, f)
			}
		},
	},
	{
		name: "5,000-file checkout under index.lock is one batch",
		setup: func(t *testing.T, root string, o *Options) {
			mkdirs(t, root, ".git")
		},
		run: func(t *testing.T, h *harness) {
			lock := filepath.Join(h.root, ".git/index.lock")
			write(t, lock, "")
			var files []string
			for d := 0; d < 50; d++ {
				for f := 0; f < 100; f++ {
					p := filepath.Join(h.root, fmt.Sprintf("co/d%d/f%d", d, f))
					write(t, p, "x")
					files = append(files, p)
				}
				if d == 24 {
					// Half-way, let the quiet window expire (a slow disk,
					// a big file): without the lock this flushes half a
					// checkout.
					h.waitQuietExpired()
				}
			}
			must(t, os.Remove(lock))
			var holding []Batch
			for _, b := range h.sync() {
				if contains(b.Paths, files[0]) || contains(b.Paths, files[len(files)-1]) {
					holding = append(holding, b)
				}
			}
			if len(holding) != 1 {
				t.Fatalf("checkout split into %d batches, want 1", len(holding))
			}
			for _, p := range files {
				if !contains(holding[0].Paths, p) {
					t.Fatalf("checkout batch lacks %s", p)
				}
			}
			next := files[17]
			write(t, next, "edited")
			if !changed(h.sync())[next] {
				t.Errorf("edit after the checkout missed")
			}
		},
	},
	{
		name: "symlinks reported, never followed, loops do not hang",
		setup: func(t *testing.T, root string, o *Options) {
			mkdirs(t, root, "real")
			must(t, os.Symlink(".", filepath.Join(root, "loop")))
			must(t, os.Symlink("b", filepath.Join(root, "a")))
			must(t, os.Symlink("a", filepath.Join(root, "b")))
			must(t, os.Symlink(root, filepath.Join(root, "real/up")))
		},
		run: func(t *testing.T, h *harness) {
			if n := h.watches(); n != 2 {
				t.Errorf("watches = %d, want 2 (root, real)", n)
			}
			outside := tempRoot(t)
			link := filepath.Join(h.root, "ext")
			must(t, os.Symlink(outside, link))
			write(t, filepath.Join(outside, "f"), "x")
			got := changed(h.sync())
			if !got[link] || got[filepath.Join(link, "f")] || got[filepath.Join(outside, "f")] {
				t.Errorf("changes = %v, want the link only", got)
			}
		},
	},
	{
		name: "! exception under an ignored directory keeps it watched",
		setup: func(t *testing.T, root string, o *Options) {
			mkdirs(t, root, "vendor/keep", "vendor/other")
			o.Roots = []Root{{Path: root, SkipDir: skipper(t, "vendor", "!vendor/keep")}}
		},
		run: func(t *testing.T, h *harness) {
			if n := h.watches(); n != 3 {
				t.Errorf("watches = %d, want 3 (root, vendor, vendor/keep)", n)
			}
			p := filepath.Join(h.root, "vendor/keep/x")
			write(t, p, "x")
			if !changed(h.sync())[p] {
				t.Errorf("edit under the exception missed")
			}
		},
	},
	{
		name: "nested, duplicate and single-file roots share watches",
		setup: func(t *testing.T, root string, o *Options) {
			mkdirs(t, root, "services/api/src", "services/web")
			envDir := filepath.Join(filepath.Dir(root), "env")
			mkdirs(t, envDir)
			skipServices := func(rel string) bool { return rel == "services" }
			o.Roots = []Root{
				{Path: root, SkipDir: skipServices},
				{Path: root, SkipDir: skipServices},
				{Path: filepath.Join(root, "services/api")},
				{Path: root, Files: []string{"compose.yaml"}},
				{Path: envDir, Files: []string{".env"}},
			}
		},
		run: func(t *testing.T, h *harness) {
			// root, ../env, services/api, services/api/src; not services, services/web.
			if n := h.watches(); n != 4 {
				t.Errorf("watches = %d, want 4: %+v", n, h.w.Stats())
			}
			envDir := filepath.Join(filepath.Dir(h.root), "env")
			envf := filepath.Join(envDir, ".env")
			write(t, filepath.Join(envDir, "junk"), "x")
			write(t, envf, "A=1")
			write(t, filepath.Join(h.root, "services/web/x"), "x")
			api := filepath.Join(h.root, "services/api/src/main.go")
			write(t, api, "x")
			got := changed(h.sync())
			if !got[envf] || !got[api] || got[filepath.Join(envDir, "junk")] || got[filepath.Join(h.root, "services/web/x")] {
				t.Errorf("changes = %v", got)
			}
		},
	},
	{
		name: "SetRoots moves the watches",
		setup: func(t *testing.T, root string, o *Options) {
			mkdirs(t, root, "one/a", "two/b")
			o.Roots = []Root{{Path: root, SkipDir: func(rel string) bool { return rel == "two" }}}
		},
		run: func(t *testing.T, h *harness) {
			must(t, h.w.SetRoots([]Root{{Path: h.root, SkipDir: func(rel string) bool { return rel == "one" }}}))
			if n := h.watches(); n != 3 {
				t.Errorf("watches = %d, want 3 (root, two, two/b)", n)
			}
			write(t, filepath.Join(h.root, "one/a/x"), "x")
			p := filepath.Join(h.root, "two/b/y")
			write(t, p, "y")
			got := changed(h.sync())
			if !got[p] || got[filepath.Join(h.root, "one/a/x")] {
				t.Errorf("changes = %v", got)
			}
		},
	},
}

func TestScenarios(t *testing.T) {
	for _, backend := range []string{"inotify", "polling"} {
		for _, sc := range append(append([]scenario(nil), treeScenarios...), failureScenarios...) {
			if sc.only != "" && sc.only != backend {
				continue
			}
			t.Run(backend+"/"+sc.name, func(t *testing.T) {
				root := tempRoot(t)
				opts := testOptions(backend)
				if sc.setup != nil {
					sc.setup(t, root, &opts)
				}
				h := newHarness(t, backend, root, opts)
				sc.run(t, h)
			})
		}
	}
}

// REBUILDD_DEBUG_EVENTS=1 logs every raw event, with its path and op.
func TestDebugEvents(t *testing.T) {
	t.Setenv("REBUILDD_DEBUG_EVENTS", "1")
	root := tempRoot(t)
	h := newHarness(t, "inotify", root, testOptions("inotify"))
	p := filepath.Join(root, "f")
	write(t, p, "x")
	h.sync()
	n := 0
	for _, e := range h.logs.FilterMessage("event").All() {
		if e.ContextMap()["path"] == p {
			n++
		}
	}
	if n == 0 {
		t.Errorf("no raw event logged for %s", p)
	}
}

// Poll "auto" keeps inotify on a local file system.
func TestPollAutoLocal(t *testing.T) {
	root := tempRoot(t)
	o := testOptions("inotify")
	o.Poll = ""
	h := newHarness(t, "inotify", root, o)
	typ := readMounts().fsType(root)
	if needsPolling(typ) {
		t.Skipf("%s is on %s, where auto polls", root, typ)
	}
	if rs := h.rootStats(root); rs.Backend != "inotify" {
		t.Errorf("auto chose %s on %s", rs.Backend, typ)
	}
}

// A root behind a regular file (root/file/ctx) waits on root: the file is
// not an ancestor directory to descend into, and waiting must not loop.
func TestMissingRootBehindAFile(t *testing.T) {
	root := tempRoot(t)
	write(t, filepath.Join(root, "file"), "x")
	o := testOptions("inotify")
	ctx := filepath.Join(root, "file/ctx")
	o.Roots = []Root{{Path: ctx}}
	h := newHarness(t, "inotify", root, o)
	if rs := h.rootStats(ctx); !rs.Missing {
		t.Errorf("root behind a file: %+v, want missing", rs)
	}
	if n := h.watches(); n != 1 {
		t.Errorf("watches = %d, want 1 (the ancestor)", n)
	}
}
