// Command bench measures rebuildd beside the tools a user would otherwise
// pick, on one generated Compose project with a real Docker Engine, and
// prints one table (issue 7 "Benchmarks", issues 5, 4 and 16 "Speed"):
//
//  1. watch set-up: ready time, inotify watches, RSS — rebuildd,
//     inotifywait -r, docker compose watch;
//  2. write -> build started (rebuildd's own part, seen as the compose
//     build process starting) and write -> new content served, on the
//     build path (rebuildd with on_source: rebuild, which row 7 replaces);
//  3. builds run by scripted edit sessions, counted from outside the tools;
//  4. rebuildd --once on an up-to-date project vs docker compose build, and
//     vs the floor: a bare walk of the same directories and files;
//  5. classification ns/path (dockerfile's BenchmarkClassify);
//  6. idle CPU and RSS of watch mode on a 100,000-file tree;
//  7. save -> new content served for a syncable source edit: rebuildd's
//     live update beside compose watch with a hand-written sync rule.
//
// Usage, from the module root (scripts/install-test-deps.sh installs what
// it needs):
//
//	go run ./bench                           # defaults: a few minutes on 2 cores
//	go run ./bench -runs 9 -idle-files 300000 # more samples, bigger trees
//
// Medians of -runs runs. docs/performance.md holds the numbers and how
// they were taken. It is a harness, not a test: nothing here asserts a
// time; the table says which target was met.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

type options struct {
	layout    layout
	idleFiles int
	runs      int
	liveRuns  int // runs of row 7
	idle      time.Duration
	dir       string
	noCompose bool   // skip docker compose watch
	only      string // comma-separated measurement numbers
}

func (o options) wants(n int) bool {
	for _, f := range strings.Split(o.only, ",") {
		if strings.TrimSpace(f) == strconv.Itoa(n) {
			return true
		}
	}
	return false
}

func main() {
	// The stamp wrapper runs before anything else: see stamp.go.
	if len(os.Args) > 1 && os.Args[1] == floorFlag {
		if err := runFloor(os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		return
	}
	if len(os.Args) > 1 && os.Args[1] == stampFlag {
		if err := runStamp(os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(127)
		}
		return
	}
	var o options
	flag.IntVar(&o.layout.files, "files", 50000, "source files in the build context (every one copied into the image)")
	flag.IntVar(&o.layout.nmFiles, "nm-files", 20000, "files in node_modules, which .dockerignore excludes")
	flag.IntVar(&o.layout.changed, "checkout-files", 5000, "files a git checkout changes in the edit sessions")
	flag.IntVar(&o.idleFiles, "idle-files", 100000, "files in the idle-CPU tree")
	flag.IntVar(&o.runs, "runs", 5, "runs per measurement; medians are reported")
	flag.IntVar(&o.liveRuns, "live-runs", 10, "runs of the live update row (7); medians and 90th percentiles are reported")
	flag.DurationVar(&o.idle, "idle", 10*time.Second, "how long idle CPU is measured")
	flag.StringVar(&o.dir, "dir", filepath.Join(os.TempDir(), "rebuildd-bench"), "working directory (generated trees are kept for the next run)")
	flag.BoolVar(&o.noCompose, "no-compose-watch", false, "skip docker compose watch")
	flag.StringVar(&o.only, "only", "1,2,3,4,5,6,7", "measurements to run, by number (see the package comment)")
	flag.Parse()
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(2)
	}
}

func run(o options) error {
	start := time.Now()
	s, err := setup(o)
	if err != nil {
		return err
	}
	defer s.cleanup()
	// An interrupted run stops what it started and removes the project.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sig
		s.log("interrupted: stopping the tools and removing the project")
		stopAll()
		s.cleanup()
		os.Exit(130)
	}()
	r := &results{opts: o, facts: machineFacts(), setup: s.built, wrapper: s.env.wrapper}
	if err := s.measure(r); err != nil {
		return err
	}
	r.total = time.Since(start)
	r.print(os.Stdout)
	return nil
}
