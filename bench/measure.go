package main

import (
	"fmt"
	"path/filepath"
	"slices"
	"time"
)

// measure runs every scenario in an order that needs the fewest rebuilds
// between them, each tool alone (two watchers would race for the builds).
func (h *harness) measure(r *results) error {
	e, o := h.env, h.opts
	h.log("4: --once vs docker compose build, %d runs", o.runs)
	r.once = e.measureOnce(o.runs)
	h.log("1: watch set-up, %d runs per tool", o.runs)
	r.ready = e.readyAll(o.runs, !o.noCompose)
	r.sessions = sessions(o.layout)
	h.log("3: edit sessions, rebuildd")
	r.sessRebuildd = e.runSessions(toolRebuildd, r.sessions)
	if err := h.reset(false); err != nil {
		return err
	}
	h.log("2: write -> served, rebuildd, %d runs", o.runs)
	r.latRebuildd = e.measureLatency(toolRebuildd, o.runs)
	if !o.noCompose {
		if err := h.reset(true); err != nil {
			return err
		}
		h.log("3: edit sessions, compose watch")
		r.sessCompose = e.runSessions(toolCompose, r.sessions)
		if err := h.reset(true); err != nil {
			return err
		}
		h.log("2: write -> served, compose watch, %d runs", o.runs)
		r.latCompose = e.measureLatency(toolCompose, o.runs)
	}
	if err := h.reset(false); err != nil {
		return err
	}
	h.log("5: BenchmarkClassify")
	r.classify, r.classifyErr = measureClassify(h.root)
	h.log("6: idle on %d files for %v", o.idleFiles, o.idle)
	r.idle = h.idle()
	return nil
}

// idle runs watch mode on a separate tree of idleFiles files that is never
// built (no start-up reconcile), so only the watcher's idle cost shows.
func (h *harness) idle() idleResult {
	dir := filepath.Join(h.opts.dir, "idle")
	if err := generate(dir, layout{files: h.opts.idleFiles}, h.env.stack.port); err != nil {
		return idleResult{err: err}
	}
	e := *h.env
	e.stack = stack{dir: dir, name: h.env.stack.name + "idle", port: h.env.stack.port}
	return e.measureIdle(dir, h.opts.idleFiles, h.opts.idle)
}

func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

func medianInt(ns []int) int {
	ds := make([]time.Duration, len(ns))
	for i, n := range ns {
		ds[i] = time.Duration(n)
	}
	return int(median(ds))
}

func ms(d time.Duration) string {
	return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000)
}

func mb(kb int) string { return fmt.Sprintf("%.1f MB", float64(kb)/1024) }
