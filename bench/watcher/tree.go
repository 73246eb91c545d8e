package main

import (
	"fmt"
	"os"
	"path/filepath"
)

// shape is the synthetic tree: dirs directories (100 per top-level
// directory under src/) holding files files, plus node_modules with
// nmFiles files in nmFiles/100 directories, which the watcher must skip.
type shape struct {
	dirs, files, nmFiles int
}

func (s shape) String() string {
	return fmt.Sprintf("dirs=%d files=%d node_modules_files=%d", s.dirs, s.files, s.nmFiles)
}

// srcDirs lists the non-ignored directories below src, relative to the
// tree: src/dNNN (groups) and src/dNNN/dMMM, dirs in total.
func (s shape) srcDirs() []string {
	var out []string
	for g := 0; len(out) < s.dirs; g++ {
		group := fmt.Sprintf("src/d%03d", g)
		out = append(out, group)
		for i := 0; i < 99 && len(out) < s.dirs; i++ {
			out = append(out, fmt.Sprintf("%s/d%03d", group, i))
		}
	}
	return out
}

// watchable is the number of directories a correct watcher watches: the
// tree itself, src, and every directory below src.
func (s shape) watchable() int { return 2 + s.dirs }

// generate builds the tree under dir unless a previous run left the same
// shape there (generation dominates the harness's run time).
func generate(dir string, s shape) error {
	marker := filepath.Join(dir, ".shape")
	if b, err := os.ReadFile(marker); err == nil && string(b) == s.String() {
		return nil
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("clear %q: %w", dir, err)
	}
	dirs := s.srcDirs()
	if err := fill(dir, dirs, s.files); err != nil {
		return err
	}
	var nm []string
	for i := 0; i < max(1, s.nmFiles/100); i++ {
		nm = append(nm, fmt.Sprintf("node_modules/pkg%04d/lib", i))
	}
	if err := fill(dir, nm, s.nmFiles); err != nil {
		return err
	}
	return os.WriteFile(marker, []byte(s.String()), 0o644)
}

// fill creates dirs and spreads n small files over them.
func fill(root string, dirs []string, n int) error {
	for _, d := range dirs {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			return fmt.Errorf("generate %q: %w", d, err)
		}
	}
	for i := 0; i < n; i++ {
		p := filepath.Join(root, dirs[i%len(dirs)], fmt.Sprintf("f%06d.txt", i))
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			return fmt.Errorf("generate %q: %w", p, err)
		}
	}
	return nil
}
