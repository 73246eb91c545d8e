package rebuild

import (
	"os"
	"path/filepath"
	"sort"

	"github.com/rebuildd/rebuildd/config"
	"github.com/rebuildd/rebuildd/dockerfile"
	"github.com/rebuildd/rebuildd/watcher"
)

// Roots are the watcher roots of a project: every build context (pruned by
// what its .dockerignore skips; the watcher merges contexts shared by
// several services and skips a directory only when all of them do), every
// Dockerfile and its own ignore file (a Dockerfile may live outside its
// context), and the files that define the project: compose files, env
// files and rebuild.yaml (also when it does not exist yet, so creating it
// is picked up).
func Roots(p *config.Project, models map[string]*dockerfile.Model) []watcher.Root {
	var roots []watcher.Root
	files := map[string][]string{} // dir -> base names
	addFile := func(path string) {
		if path == "" {
			return
		}
		dir, base := filepath.Split(filepath.Clean(path))
		dir = filepath.Clean(dir)
		files[dir] = append(files[dir], base)
	}
	names := make([]string, 0, len(models))
	for n := range models {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		m := models[n]
		roots = append(roots, watcher.Root{Path: m.Context(), SkipDir: m.SkipWatch})
		if df := m.Dockerfile(); df != "" {
			addFile(df)
			addFile(df + ".dockerignore")
		}
	}
	for _, svc := range p.Services {
		for _, rule := range svc.Watch {
			// A develop.watch path may lie outside every build context
			// (a shared folder synced into the container).
			if fi, err := os.Stat(rule.Path); err == nil && !fi.IsDir() {
				addFile(rule.Path)
				continue
			}
			roots = append(roots, watcher.Root{Path: rule.Path})
		}
	}
	for _, f := range p.ComposeFiles {
		addFile(f)
	}
	for _, f := range p.EnvFiles {
		addFile(f)
	}
	addFile(p.SettingsFile)
	if p.SettingsFile == "" {
		addFile(filepath.Join(p.Dir, "rebuild.yaml"))
	}
	addFile(filepath.Join(p.Dir, ".env"))
	dirs := make([]string, 0, len(files))
	for d := range files {
		dirs = append(dirs, d)
	}
	sort.Strings(dirs)
	for _, d := range dirs {
		roots = append(roots, watcher.Root{Path: d, Files: files[d]})
	}
	return roots
}

// definesProject reports whether a changed path is one of the files the
// project is loaded from, so the batch must reload the project first.
func definesProject(p *config.Project, path string) bool {
	for _, f := range p.ComposeFiles {
		if f == path {
			return true
		}
	}
	for _, f := range p.EnvFiles {
		if f == path {
			return true
		}
	}
	return path == p.SettingsFile || path == filepath.Join(p.Dir, "rebuild.yaml") || path == filepath.Join(p.Dir, ".env")
}
