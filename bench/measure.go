package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// measure runs every scenario in an order that needs the fewest rebuilds
// between them, each tool alone (two watchers would race for the builds).
// After each one the table so far goes to stderr, so an interrupted run
// still shows what it measured. The cheap measurements go first.
func (h *harness) measure(r *results) error {
	e, o := h.env, h.opts
	r.sessions = sessions(o.layout)
	steps := []struct {
		n     int
		what  string
		reset bool // tree back to main, and the stack rebuilt for compose watch
		keep  bool // runs on the tree and stack the previous rebuildd step left in step
		skip  bool
		do    func()
	}{
		{4, "--once vs docker compose build", false, false, false, func() { r.once = e.measureOnce(o.runs) }},
		{1, "watch set-up", false, false, false, func() { r.ready = e.readyAll(o.runs, !o.noCompose) }},
		{5, "BenchmarkClassify", false, false, false, func() { r.classify, r.classifyErr = measureClassify(h.root) }},
		{6, fmt.Sprintf("idle on %d files for %v", o.idleFiles, o.idle), false, false, false, func() { r.idle = h.idle() }},
		{3, "edit sessions, rebuildd", true, false, false, func() { r.sessRebuildd = e.runSessions(toolRebuildd, r.sessions) }},
		// Right after a rebuildd step, which left the stack in step: a
		// reset would cost a start-up build of the whole context. Before
		// row 2: a record made with on_source: rebuild is a definition a
		// container's files cannot be synced from (rebuild/livebase.go),
		// so the first save after it builds.
		{7, "save -> served, live update, rebuildd", true, true, false, func() { r.liveRebuildd = e.measureLive(toolRebuildd, o.liveRuns) }},
		{2, "write -> served, rebuildd (on_source: rebuild)", true, false, false, func() { r.latRebuildd = e.measureLatency(toolRebuildd, o.runs) }},
		{3, "edit sessions, compose watch", true, false, o.noCompose, func() { r.sessCompose = e.runSessions(toolCompose, r.sessions) }},
		{2, "write -> served, compose watch", true, false, o.noCompose, func() { r.latCompose = e.measureLatency(toolCompose, o.runs) }},
		{7, "save -> served, live update, compose watch sync rule", true, false, o.noCompose, func() { r.liveCompose = e.measureLive(toolCompose, o.liveRuns) }},
	}
	dirty, inStep := false, false // inStep: the last step run was rebuildd's, which settled
	for _, st := range steps {
		if !o.wants(st.n) || st.skip {
			continue
		}
		if st.reset && dirty && !(st.keep && inStep) {
			// rebuildd brings the stack in step itself at start.
			if err := h.reset(strings.Contains(st.what, "compose")); err != nil {
				return err
			}
		}
		h.log("%d: %s", st.n, st.what)
		st.do()
		dirty = dirty || st.reset
		inStep = st.reset && !strings.Contains(st.what, "compose")
		r.print(os.Stderr)
	}
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

// p90 is the nearest-rank 90th percentile: of 5 runs the slowest, of 10
// the 9th.
func p90(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[(9*len(s)+9)/10-1]
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
