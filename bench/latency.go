package main

import (
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// latency is write -> served, split where each tool starts its build.
// For rebuildd the split is the compose build process starting (the stamp
// wrapper); for compose watch, which builds in process, its "Rebuilding"
// log line.
type latency struct {
	started, logged, served time.Duration // medians from the write
	servedP90               time.Duration
	decided                 time.Duration // rebuildd's "decision" line, median from the write
	docker                  time.Duration // median of served - started
	runs                    int
	err                     error
}

// buildLimit bounds one write -> served: a source rebuild of the default
// project and a recreate.
const buildLimit = 5 * time.Minute

// measureLatency writes src/index.html runs times and times the tool.
func (e *env) measureLatency(tool string, runs int) latency {
	// rebuildd would live-update this project's source edit (row 7):
	// on_source: rebuild times the build path.
	var p *proc
	var err error
	if tool == toolRebuildd {
		p, _, err = e.rebuilddWatchWith(e.rebuildConfig, nil, e.stack.dir)
	} else {
		p, err = e.watchWith(tool)
	}
	if err != nil {
		return latency{err: err}
	}
	defer p.stop()
	var started, logged, served, docker, decided []time.Duration
	for i := 0; i < runs; i++ {
		s, err := e.latencyRun(p, tool, i)
		if err != nil {
			return latency{err: err, runs: i}
		}
		started, logged = append(started, s.started), append(logged, s.logged)
		served, docker = append(served, s.served), append(docker, s.docker)
		decided = append(decided, s.decided)
	}
	return latency{started: median(started), logged: median(logged), served: median(served), servedP90: p90(served),
		docker: median(docker), decided: median(decided), runs: runs}
}

func (e *env) latencyRun(p *proc, tool string, i int) (latency, error) {
	mark := p.mark()
	want := fmt.Sprintf("%s run %d at %d\n", tool, i, time.Now().UnixNano())
	if err := os.WriteFile(filepath.Join(e.stack.dir, "src", "index.html"), []byte(want), 0o644); err != nil {
		return latency{}, fmt.Errorf("write: %w", err)
	}
	t0 := time.Now()
	servedAt, err := e.stack.waitServing(want, buildLimit)
	if err != nil {
		return latency{}, err
	}
	l, _, err := p.wait(mark, buildLimit, rebuildStarted(tool))
	if err != nil {
		return latency{}, err
	}
	res := latency{logged: l.at().Sub(t0), served: servedAt.Sub(t0)}
	res.started = res.logged
	if tool == toolRebuildd {
		d, _, err := p.wait(mark, buildLimit, func(l line) bool { return l.msg == "decision" })
		if err != nil {
			return latency{}, err
		}
		res.decided = d.at().Sub(t0)
		ss, err := readStamps(e.stamps)
		if err != nil {
			return latency{}, err
		}
		b := builds(ss, t0, servedAt)
		if len(b) != 1 {
			return latency{}, fmt.Errorf("rebuildd ran %d build commands for one write, want 1", len(b))
		}
		res.started = b[0].at.Sub(t0)
	}
	res.docker = res.served - res.started
	// The next write must not land in this one's batch or build.
	return res, e.settle(p, tool, mark)
}
