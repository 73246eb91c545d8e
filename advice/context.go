package advice

import (
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/rebuildd/rebuildd/dockerfile"
)

// largeFile is the size above which one file in the context is worth naming
// on its own: 10 MB is more than any source file and about what a dump, a
// video or a model weighs; Docker's own progress output counts in decimal MB.
const largeFile = 10_000_000

// contextScan is the build context as the engine receives it: every file
// the ignore file lets through, in walk order.
type contextScan struct {
	ignoreFile string // the ignore file in force, "" when none
	files      []scanFile
	bytes      int64
}

type scanFile struct {
	rel  string // context-relative, slash-separated
	size int64
}

// files walks the context once (with the model's ignore matcher, pruning
// directories it excludes entirely) and keeps the result for every check
// that needs it.
func (s *subject) files() *contextScan {
	if s.scan != nil {
		return s.scan
	}
	m := s.ign
	s.scan = &contextScan{ignoreFile: s.ignoreFile}
	_ = filepath.WalkDir(s.context, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return skipUnreadable(d)
		}
		rel, _ := filepath.Rel(s.context, p)
		rel = filepath.ToSlash(rel)
		switch {
		case rel == ".":
			return nil
		case d.IsDir():
			if m.SkipDir(rel) {
				return filepath.SkipDir
			}
			return nil
		case !d.Type().IsRegular() || m.Excluded(rel):
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return nil // vanished while walking
		}
		s.scan.files = append(s.scan.files, scanFile{rel: rel, size: info.Size()})
		s.scan.bytes += info.Size()
		return nil
	})
	return s.scan
}

// skipUnreadable keeps the walk going past a directory it may not read:
// advice is best effort, the build itself will complain.
func skipUnreadable(d fs.DirEntry) error {
	if d != nil && d.IsDir() {
		return filepath.SkipDir
	}
	return nil
}

// heavyItem is a directory or file that should not be in the context.
type heavyItem struct {
	rel    string // context-relative
	line   string // the ignore-file line that removes it
	sample string // one file of it, to name the COPY that reads it
	files  int
	bytes  int64
}

// reader names the first chain input that reads rel, for a message.
func (s *subject) reader(rel string) string {
	for _, in := range s.an.Inputs {
		if in.Reads(rel) {
			if ci := s.doc.instrAt(in.Line); ci != nil {
				return fmt.Sprintf("%s (line %d)", ci.brief(), s.ln(ci.line))
			}
		}
	}
	return "the COPY that reads it"
}

// ignoreLines drops lines another one already covers: **/node_modules also
// matches the root node_modules.
func ignoreLines(lines []string) []string {
	nested := false
	for _, l := range lines {
		nested = nested || l == "**/node_modules"
	}
	var out []string
	seen := map[string]bool{}
	for _, l := range lines {
		if nested && l == "node_modules" || seen[l] {
			continue
		}
		seen[l] = true
		out = append(out, l)
	}
	return out
}

// heavyContext reports node_modules, .git, build output and large files
// that the context sends and a COPY reads: they slow every build's context
// transfer, and any change in them busts the COPY's cache. No ignore file at
// all is worth knowing even when nothing heavy is there yet.
func heavyContext(s *subject) []Finding {
	scan := s.files()
	if scan == nil {
		return nil
	}
	items := s.heavyItems(scan)
	file := scan.ignoreFile
	if file == "" {
		file = filepath.Join(s.context, ".dockerignore")
	}
	if len(items) == 0 {
		if scan.ignoreFile != "" {
			return nil
		}
		return []Finding{{Code: CodeHeavyContext, Severity: Info, File: file,
			Message: fmt.Sprintf("no .dockerignore: every build sends the whole context (%s) to the engine, and any stray file in it (logs, .env, editor files) busts the cache of a COPY that reads it",
				counts(len(scan.files), scan.bytes)),
			Fix: "create " + s.place(file, 0) + " listing what the image does not need, e.g.:\n.git\n**/node_modules\n.env*\n*.log"}}
	}
	var what, lines []string
	for _, it := range items {
		label := counts(it.files, it.bytes)
		if envFile(it.rel) {
			label = "secrets the image then carries"
		}
		what = append(what, fmt.Sprintf("%s (%s)", it.rel, label))
		lines = append(lines, it.line)
	}
	msg := "the build context sends " + strings.Join(what, ", ") +
		" to the engine on every build, and a change there busts the cache of " + s.reader(items[0].sample)
	if scan.ignoreFile == "" {
		msg = "no .dockerignore: " + msg
	}
	fix := "add to " + s.place(file, 0) + ":\n" + strings.Join(ignoreLines(lines), "\n")
	return []Finding{{Code: CodeHeavyContext, Severity: Warn, File: file, Message: msg, Fix: fix}}
}

// heavyItems finds the heavy directories and large files that a chain input
// reads but does not name: `COPY dist/ /srv` wants dist, `COPY . .` does not.
func (s *subject) heavyItems(scan *contextScan) []heavyItem {
	byDir := map[string]*heavyItem{}
	var order []string
	var large []heavyItem
	for _, f := range scan.files {
		if dir, line := s.heavyDir(f.rel); dir != "" {
			it := byDir[dir]
			if it == nil {
				if !s.readsUnnamed(f.rel, dir) {
					byDir[dir] = &heavyItem{} // not read: mark seen, count nothing
					continue
				}
				it = &heavyItem{rel: dir, line: line, sample: f.rel}
				byDir[dir] = it
				order = append(order, dir)
			}
			if it.rel != "" {
				it.files++
				it.bytes += f.size
			}
			continue
		}
		if (f.size > largeFile || envFile(f.rel)) && s.readsUnnamed(f.rel, f.rel) {
			large = append(large, heavyItem{rel: f.rel, line: f.rel, sample: f.rel, files: 1, bytes: f.size})
		}
	}
	sort.Strings(order)
	var out []heavyItem
	for _, d := range order {
		out = append(out, *byDir[d])
	}
	return append(out, large...)
}

// envFile reports whether rel is a root .env file with real values: the
// article's .dockerignore lists .env because `COPY . .` would bake its
// secrets into the image. Examples and templates are meant to be shared.
func envFile(rel string) bool {
	if rel != ".env" && !strings.HasPrefix(rel, ".env.") {
		return false
	}
	for _, ok := range []string{".example", ".sample", ".template", ".dist"} {
		if strings.HasSuffix(rel, ok) {
			return false
		}
	}
	return true
}

// heavyDir returns the heavy directory rel is under and the ignore line for
// it, or "" when rel is under none. node_modules counts at any depth
// (workspaces); .git, and the build outputs only at the context root and
// only when a manifest there says what produces them, because a root
// `build/` in a Go project is packaging source, not output.
func (s *subject) heavyDir(rel string) (string, string) {
	parts := strings.Split(rel, "/")
	for i, p := range parts[:len(parts)-1] {
		if p == "node_modules" {
			dir := strings.Join(parts[:i+1], "/")
			if i == 0 {
				return dir, "node_modules"
			}
			return dir, "**/node_modules"
		}
	}
	if len(parts) < 2 {
		return "", ""
	}
	root := parts[0]
	if root == ".git" || s.outputDir(root) {
		return root, root
	}
	return "", ""
}

// outputDir reports whether a root directory is build output for the
// project the context root's manifests describe.
func (s *subject) outputDir(name string) bool {
	producers := map[string][]string{
		"dist":   {"package.json", "setup.py", "pyproject.toml"},
		"build":  {"package.json", "build.gradle", "build.gradle.kts", "setup.py"},
		".next":  {"package.json"},
		"target": {"Cargo.toml", "pom.xml"},
	}
	for _, m := range producers[name] {
		if _, err := os.Stat(filepath.Join(s.context, m)); err == nil {
			return true
		}
	}
	return false
}

// readsUnnamed reports whether a chain input reads rel without naming item
// (or a path in it) in its sources: the item is carried along by a broader
// COPY rather than wanted.
func (s *subject) readsUnnamed(rel, item string) bool {
	read := false
	for _, in := range s.an.Inputs {
		for _, src := range in.Sources {
			if src == item || strings.HasPrefix(src, item+"/") {
				return false
			}
		}
		if !read && inputReads(in, rel) {
			read = true
		}
	}
	return read
}

// inputReads is Input.Reads: the layer model decides what a source reads.
func inputReads(in *dockerfile.Input, rel string) bool {
	return in.Reads(rel)
}

// counts formats a file count and size the way people read them.
func counts(files int, bytes int64) string {
	unit := "files"
	if files == 1 {
		unit = "file"
	}
	return fmt.Sprintf("%d %s, %s", files, unit, humanBytes(bytes))
}

// humanBytes uses decimal units, as Docker's build output does.
func humanBytes(n int64) string {
	switch {
	case n >= 1_000_000_000:
		return fmt.Sprintf("%.1f GB", float64(n)/1e9)
	case n >= 1_000_000:
		return fmt.Sprintf("%.1f MB", float64(n)/1e6)
	case n >= 1_000:
		return fmt.Sprintf("%.1f kB", float64(n)/1e3)
	}
	return fmt.Sprintf("%d B", n)
}

// globMatch matches a base name against a manifest glob; a bad glob
// matches nothing.
func globMatch(glob, name string) bool {
	ok, err := path.Match(glob, name)
	return err == nil && ok
}
