package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"time"
)

// readiness is one tool's watch set-up: exec to ready (median), the
// watches it holds and its RSS once ready (medians; with its children).
type readiness struct {
	ready          time.Duration
	watches, rssKB int
	err            error // the tool could not run here, and why
}

// measureReady starts a tool runs times; start returns the process and
// its ready line.
func measureReady(runs int, start func() (*proc, line, error)) readiness {
	var ds []time.Duration
	var ws, rs []int
	for i := 0; i < runs; i++ {
		p, l, err := start()
		if err != nil {
			return readiness{err: err}
		}
		ds = append(ds, l.at().Sub(p.start))
		w, r := treeUsage(p.cmd.Process.Pid)
		ws, rs = append(ws, w), append(rs, r)
		p.stop()
	}
	return readiness{ready: median(ds), watches: medianInt(ws), rssKB: medianInt(rs)}
}

// readyAll measures the three tools on the project: rebuildd without its
// start-up reconcile (the watcher alone, like the others) and with it,
// inotifywait -r with the ignored directories excluded the only way it
// can (the @path form), and compose watch.
func (e *env) readyAll(runs int, compose bool) map[string]readiness {
	dir := e.stack.dir
	out := map[string]readiness{}
	out["rebuildd"] = measureReady(runs, func() (*proc, line, error) { return e.rebuilddWatch(dir, "--no-initial") })
	// --dry-run needs no engine and no Compose CLI, but fingerprints every
	// service from disk before watching (what the next decision compares
	// with), so it shows the cost of hashing the context cold.
	out["rebuildd dry-run"] = measureReady(runs, func() (*proc, line, error) { return e.rebuilddWatch(dir, "--dry-run") })
	out["rebuildd+reconcile"] = measureReady(runs, func() (*proc, line, error) { return e.rebuilddWatch(dir) })
	out["inotifywait"] = measureReady(runs, func() (*proc, line, error) {
		p, err := spawn("inotifywait", dir, nil, "inotifywait", "-r", "-m", dir,
			"@"+filepath.Join(dir, "node_modules"), "@"+filepath.Join(dir, ".git"))
		if err != nil {
			return nil, line{}, fmt.Errorf("%w (apt-get install inotify-tools)", err)
		}
		l, _, err := p.wait(0, readyLimit, func(l line) bool { return strings.Contains(l.text, "Watches established") })
		if err != nil {
			p.stop()
		}
		return p, l, err
	})
	if compose {
		out["compose watch"] = measureReady(runs, func() (*proc, line, error) { return e.composeWatch(watchFile) })
	}
	return out
}
