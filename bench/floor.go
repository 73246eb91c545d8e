package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// The physical floor of an up-to-date --once: a process that does nothing
// but list the same directories and fstatat the same files the context
// walk does (the ignore file's directories pruned, as rebuildd prunes
// them). --once must check every file against disk — it has no watcher to
// trust — so it cannot beat this; the target is 1.5x the floor plus 25 ms
// for loading the compose project and the records (issue 12, "Speed").
// The harness runs the floor as its own process (this binary, re-executed
// with floorFlag), so process start counts on both sides.

// floorFlag, as the first argument, makes the bench binary walk instead.
const floorFlag = "-floor-walk"

// runFloor walks root, skipping directories named in skip (comma
// separated), and prints how many directories and files it saw.
func runFloor(args []string) error {
	if len(args) != 2 {
		return errors.New("usage: bench -floor-walk ROOT SKIP,DIRS")
	}
	skip := map[string]bool{}
	for _, s := range strings.Split(args[1], ",") {
		skip[s] = true
	}
	var dirs, files int
	var walk func(dir string) error
	walk = func(dir string) error {
		dirs++
		fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("open %q: %w", dir, err)
		}
		f := os.NewFile(uintptr(fd), dir) // f owns fd now: closing both closed a number the walk reused
		defer f.Close()
		ents, err := f.ReadDir(-1) // getdents64, no stat
		if err != nil {
			return fmt.Errorf("list %q: %w", dir, err)
		}
		for _, e := range ents {
			name := e.Name()
			if e.IsDir() {
				if !skip[name] {
					if err := walk(filepath.Join(dir, name)); err != nil {
						return err
					}
				}
				continue
			}
			var st unix.Stat_t
			if err := unix.Fstatat(fd, name, &st, unix.AT_SYMLINK_NOFOLLOW); err == nil {
				files++
			}
		}
		return nil
	}
	if err := walk(args[0]); err != nil {
		return err
	}
	fmt.Printf("%d dirs, %d files\n", dirs, files)
	return nil
}
