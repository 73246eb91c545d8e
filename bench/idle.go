package main

import (
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// idleResult is watch mode sitting on a big tree with nothing changing.
type idleResult struct {
	files          int
	ready          time.Duration
	watches, rssKB int
	afterReady     time.Duration // utime+stime in the first window after ready
	cpu            time.Duration // utime+stime in the window after that: idle
	window         time.Duration
	err            error
}

// measureIdle starts rebuildd on the idle project (no start-up reconcile:
// the tree is never built) and reads its CPU time over two windows after
// ready: the first catches work rebuildd still does after announcing ready
// (seen here: about a second of CPU in the first seconds), the second is
// the idle cost.
func (e *env) measureIdle(dir string, files int, window time.Duration) idleResult {
	p, l, err := e.rebuilddWatch(dir, "--no-initial")
	if err != nil {
		return idleResult{err: err}
	}
	defer p.stop()
	pid := p.cmd.Process.Pid
	res := idleResult{files: files, ready: l.at().Sub(p.start), window: window}
	var ts [3]time.Duration
	for i := range ts {
		if i > 0 {
			time.Sleep(window)
		}
		if ts[i], err = cpuTime(pid); err != nil {
			return idleResult{err: err}
		}
	}
	res.afterReady, res.cpu = ts[1]-ts[0], ts[2]-ts[1]
	res.watches, res.rssKB = inotifyWatches(pid), rssKB(pid)
	return res
}

// classifyRow is one sub-benchmark of dockerfile's BenchmarkClassify.
type classifyRow struct {
	name            string
	nsPath, cpuPath float64
}

// measureClassify runs BenchmarkClassify in module root and parses its
// custom metrics.
func measureClassify(root string) ([]classifyRow, error) {
	cmd := exec.Command("go", "test", "-run", "^$", "-bench", "^BenchmarkClassify$", "-count", "1", "./dockerfile/")
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("go test -bench BenchmarkClassify ./dockerfile/: %w\n%s", err, lastLines(string(out), 15))
	}
	return parseClassify(string(out)), nil
}

var metric = regexp.MustCompile(`([0-9.]+) (ns/path|cpu-ns/path)`)

func parseClassify(out string) []classifyRow {
	var rows []classifyRow
	for _, l := range strings.Split(out, "\n") {
		f := strings.Fields(l)
		if len(f) == 0 || !strings.HasPrefix(f[0], "BenchmarkClassify/") {
			continue
		}
		r := classifyRow{name: strings.TrimPrefix(f[0], "BenchmarkClassify/")}
		// Drop the -GOMAXPROCS suffix.
		if i := strings.LastIndexByte(r.name, '-'); i > 0 {
			if _, err := strconv.Atoi(r.name[i+1:]); err == nil {
				r.name = r.name[:i]
			}
		}
		for _, m := range metric.FindAllStringSubmatch(l, -1) {
			v, _ := strconv.ParseFloat(m[1], 64)
			if m[2] == "ns/path" {
				r.nsPath = v
			} else {
				r.cpuPath = v
			}
		}
		rows = append(rows, r)
	}
	return rows
}
