package main

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"
)

// onceResult compares `rebuildd --once` on an up-to-date project with
// `docker compose build` of the same project (every step a cache hit).
type onceResult struct {
	rebuildd, compose time.Duration // medians
	floor             time.Duration // median of the bare walk (floor.go)
	builds            int           // build commands rebuildd ran in the timed runs (want 0)
	err               error
}

// measureOnce times both runs times, after one untimed --once that
// records the state (the image was built by compose, so rebuildd adopts
// it) and fills the stat index.
func (e *env) measureOnce(runs int) onceResult {
	argv := []string{e.rebuildd, "--once", "-p", e.stack.name, "-c", e.config, "--state-dir", e.stateDir, "-q"}
	if _, err := runCmd(e.stack.dir, composeEnv, argv...); err != nil {
		return onceResult{err: err}
	}
	self, err := os.Executable()
	if err != nil {
		return onceResult{err: err}
	}
	from := time.Now()
	var own, ref, bare []time.Duration
	for i := 0; i < runs; i++ {
		d, err := timed(e.stack.dir, argv...)
		if err != nil {
			return onceResult{err: err}
		}
		own = append(own, d)
		// The floor right after, on the same warm page cache.
		if d, err = timed(e.stack.dir, self, floorFlag, e.stack.dir, strings.TrimSpace(strings.ReplaceAll(dockerignore, "\n", ","))); err != nil {
			return onceResult{err: err}
		}
		bare = append(bare, d)
		d, err = timed(e.stack.dir, "docker", "compose", "-p", e.stack.name, "build", "-q")
		if err != nil {
			return onceResult{err: err}
		}
		ref = append(ref, d)
	}
	ss, err := readStamps(e.stamps)
	return onceResult{rebuildd: median(own), compose: median(ref), floor: median(bare), builds: len(builds(ss, from, time.Now())), err: err}
}

// timed runs argv and returns its wall time.
func timed(dir string, argv ...string) (time.Duration, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Env = append(cmd.Environ(), composeEnv...)
	start := time.Now()
	out, err := cmd.CombinedOutput()
	d := time.Since(start)
	if err != nil {
		return 0, fmt.Errorf("%v: %w\n%s", argv, err, lastLines(string(out), 15))
	}
	return d, nil
}
