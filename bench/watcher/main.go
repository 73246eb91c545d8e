// Command watcher benchmarks the watcher package against inotifywait
// (Debian inotify-tools) on a synthetic tree, and prints a table:
// time until ready, inotify watches (from /proc/PID/fdinfo), RSS (VmRSS,
// VmHWM), event-to-batch latency with the quiet window at zero, and a burst
// of new files with nothing lost.
//
//	go run ./bench/watcher                                   # issue 3's size
//	go run ./bench/watcher -dirs 200 -files 2000 -nm-files 4000 -burst 2000   # CI
//
// The tree is kept in -dir between runs (generating it dominates the run
// time). It exits 1 when a target is missed.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

func main() {
	var (
		s       shape
		burst   = flag.Int("burst", 20000, "files written in one burst; all must be reported")
		samples = flag.Int("latency", 100, "event-to-batch latency samples")
		runs    = flag.Int("runs", 3, "ready-time runs per tool; the median is reported")
		dir     = flag.String("dir", filepath.Join(os.TempDir(), "rebuildd-bench-watcher"), "where the tree is generated and kept")
		child   = flag.String("child", "", "internal: be the measured watcher process for this root")
	)
	flag.IntVar(&s.dirs, "dirs", 10000, "non-ignored directories")
	flag.IntVar(&s.files, "files", 100000, "files in the non-ignored directories")
	flag.IntVar(&s.nmFiles, "nm-files", 200000, "files in the ignored node_modules (100 per directory)")
	flag.Parse()
	if *child != "" {
		if err := runChild(*child); err != nil {
			fmt.Fprintln(os.Stderr, "bench child:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(s, *dir, *runs, *samples, *burst); err != nil {
		fmt.Fprintln(os.Stderr, "bench/watcher:", err)
		os.Exit(2)
	}
}

func run(s shape, dir string, runs, samples, burst int) error {
	tree := filepath.Join(dir, "tree")
	fmt.Printf("tree %s (%s)\n", tree, s)
	start := time.Now()
	if err := generate(tree, s); err != nil {
		return err
	}
	fmt.Printf("generated or reused in %v\n\n", time.Since(start).Round(time.Millisecond))
	ref, err := measureSetup(runs, inotifywait(tree))
	if err != nil {
		return fmt.Errorf("inotifywait (apt-get install inotify-tools): %w", err)
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	own, err := measureSetup(runs, rebuildd(self, tree))
	if err != nil {
		return err
	}
	lat, bst, err := measureEvents(self, tree, s, samples, burst)
	if err != nil {
		return err
	}
	if !report(s, ref, own, lat, bst, burst) {
		os.Exit(1)
	}
	return nil
}
