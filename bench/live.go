package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Row 7: save -> new content served for a syncable edit (issue 16,
// "Speed"; docs/design.md, "Live update"). The generated Dockerfile copies
// src into /www with no RUN after it, so rebuildd (on_source: auto)
// copies the saved file into the running container instead of building,
// then builds the image behind it (the converge build). Beside it: compose
// watch with a hand-written develop.watch sync rule for the same path
// (compose.sync.yaml). rebuildd's build path for the same edit is row 2.

// liveResult is one tool's runs of row 7; every slice has one entry a run.
type liveResult struct {
	served []time.Duration // save -> the container serves the new content
	// work is save -> the tool starts acting on the change: for rebuildd
	// its sync result's ts minus took (the request's start, before the
	// decision), for compose watch the time the harness read its
	// "Syncing" line (an upper bound).
	work []time.Duration
	took []time.Duration // rebuildd: the result's took, work start -> copy done
	// decide, plan and copy from rebuildd's debug "sync timing" line
	// (REBUILDD_DEBUG=1); timed counts the runs that had one.
	decide, plan, copy []time.Duration
	timed              int
	converge           []time.Duration // rebuildd: save -> its converge build's result
	builds             int             // build commands before the sync's result (compose: "Rebuilding" lines), all runs
	recreates          int             // containers created from save to settled, all runs
	load               [2]string       // load average before the first run and after the last
	runs               int
	err                error
}

// liveRun is one run's sample.
type liveRun struct {
	served, work, took, decide, plan, copy, converge time.Duration
	timed                                            bool
	builds, recreates                                int
}

// livePoll: the numbers are a few hundred milliseconds, so the served
// moment is asked for more often than the build rows' 10 ms.
const livePoll = 5 * time.Millisecond

// measureLive saves src/index.html runs times with new content and times
// the tool until it is served. rebuildd runs with REBUILDD_DEBUG=1 for its
// "sync timing" line; each run waits for the converge build and the tool
// to settle, so no run shares the machine with the previous run's build.
func (e *env) measureLive(tool string, runs int) liveResult {
	res := liveResult{load: [2]string{loadavg(), ""}}
	var p *proc
	var err error
	if tool == toolRebuildd {
		p, _, err = e.rebuilddWatchWith(e.config, []string{"REBUILDD_DEBUG=1"}, e.stack.dir)
	} else {
		p, _, err = e.composeWatch(syncFile)
	}
	if err != nil {
		res.err = err
		return res
	}
	defer p.stop()
	for i := 0; i < runs; i++ {
		s, err := e.liveRun(p, tool, i)
		if err != nil {
			res.err = err
			break
		}
		res.served, res.work, res.took = append(res.served, s.served), append(res.work, s.work), append(res.took, s.took)
		res.converge = append(res.converge, s.converge)
		if s.timed {
			res.decide, res.plan, res.copy = append(res.decide, s.decide), append(res.plan, s.plan), append(res.copy, s.copy)
			res.timed++
		}
		res.builds += s.builds
		res.recreates += s.recreates
		res.runs++
	}
	res.load[1] = loadavg()
	return res
}

func (e *env) liveRun(p *proc, tool string, i int) (liveRun, error) {
	mark := p.mark()
	want := fmt.Sprintf("%s live run %d at %d\n", tool, i, time.Now().UnixNano())
	if err := os.WriteFile(filepath.Join(e.stack.dir, "src", "index.html"), []byte(want), 0o644); err != nil {
		return liveRun{}, fmt.Errorf("write: %w", err)
	}
	t0 := time.Now()
	servedAt, err := e.stack.waitServingEvery(want, buildLimit, livePoll)
	if err != nil {
		return liveRun{}, fmt.Errorf("%w; %s said:\n%s", err, tool, p.tail(20))
	}
	s := liveRun{served: servedAt.Sub(t0)}
	if tool == toolRebuildd {
		err = e.liveRebuildd(p, mark, t0, &s)
	} else {
		err = liveCompose(p, mark, t0, &s)
	}
	if err != nil {
		return liveRun{}, err
	}
	// The next save must not land in this one's batch or converge build.
	if err := e.settle(p, tool, mark); err != nil {
		return liveRun{}, err
	}
	s.recreates, err = e.stack.containerCreates(t0, time.Now())
	return s, err
}

// liveRebuildd reads one sync from rebuildd's log: its result line, the
// sync timing line before it and the converge build's result after it.
func (e *env) liveRebuildd(p *proc, mark int, t0 time.Time, s *liveRun) error {
	l, at, err := p.wait(mark, buildLimit, func(l line) bool {
		return l.msg == "result" && l.action == "sync" || l.msg == "build"
	})
	if err != nil {
		return err
	}
	if l.msg == "build" {
		return fmt.Errorf("rebuildd built instead of syncing (%s)", notSynced(p.since(mark)))
	}
	s.took = l.took
	s.work = l.at().Sub(t0) - l.took
	if t, ok := syncTiming(p.since(mark)[:at-mark]); ok {
		s.decide, s.plan, s.copy, s.timed = t.decide, t.plan, t.cpy, true
	}
	// The converge build is queued behind the sync; its result ends it.
	c, _, err := p.wait(at+1, buildLimit, func(l line) bool { return l.msg == "result" })
	if err != nil {
		return err
	}
	s.converge = c.at().Sub(t0)
	ss, err := readStamps(e.stamps)
	if err != nil {
		return err
	}
	// Up to the sync's own result: the converge build starts right after
	// it, often before the poll sees the new content.
	s.builds = len(builds(ss, t0, l.at()))
	return nil
}

// liveCompose reads one sync from compose watch's output: the line it
// prints before syncing. A "Rebuilding" line instead means the rule did
// not match.
func liveCompose(p *proc, mark int, t0 time.Time, s *liveRun) error {
	l, _, err := p.wait(mark, buildLimit, func(l line) bool {
		return strings.Contains(l.text, "Syncing") || rebuildStarted(toolCompose)(l)
	})
	if err != nil {
		return err
	}
	if rebuildStarted(toolCompose)(l) {
		s.builds++
		return fmt.Errorf("compose watch rebuilt instead of syncing: %s", l.text)
	}
	s.work = l.read.Sub(t0)
	return nil
}

// syncTiming finds rebuildd's debug "sync timing" line among ls.
func syncTiming(ls []line) (line, bool) {
	for _, l := range ls {
		if l.msg == "sync timing" {
			return l, true
		}
	}
	return line{}, false
}

// notSynced is why rebuildd's debug log says it did not sync.
func notSynced(ls []line) string {
	var why []string
	for _, l := range ls {
		if l.msg == "not synced" && l.why != "" {
			why = append(why, l.why)
		}
	}
	if len(why) == 0 {
		return "no \"not synced\" line says why"
	}
	return strings.Join(why, "; ")
}

// own is rebuildd's own part of each run beyond the quiet window: from
// the save to the start of its work less the window (watcher, debounce
// overshoot, triage, queue), plus deciding and planning; the engine's
// archive upload is not in it. Only runs with a sync timing line count.
func (x liveResult) own() []time.Duration {
	if x.timed != x.runs {
		return nil
	}
	out := make([]time.Duration, x.runs)
	for i := range out {
		out[i] = x.work[i] - quietWindow + x.decide[i] + x.plan[i]
	}
	return out
}

// wake is save -> work start beyond a window of w, each run.
func (x liveResult) wake(w time.Duration) []time.Duration {
	out := make([]time.Duration, len(x.work))
	for i, d := range x.work {
		out[i] = d - w
	}
	return out
}
