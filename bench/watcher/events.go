package main

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/rebuildd/rebuildd/internal/procfs"
)

// latency is event-to-batch time: from the write returning to the batch
// line arriving from the child (quiet window 0).
type latency struct{ p50, p95, max time.Duration }

// burstResult says whether a burst of new files was reported in full.
type burstResult struct {
	files, reported, rescans int
	all                      time.Duration // from the first write to the last report
	hwmKB                    int           // peak RSS after the burst
}

// failsafe ends a wait for reports that will never come (lost events).
const failsafe = 2 * time.Minute

func measureEvents(self, tree string, s shape, samples, burst int) (latency, burstResult, error) {
	p, _, _, err := launch(rebuildd(self, tree))
	if err != nil {
		return latency{}, burstResult{}, err
	}
	defer p.stop()
	dirs := s.srcDirs()
	var created []string
	defer func() { // keep the cached tree as generated
		for _, f := range created {
			_ = os.Remove(f)
		}
	}()
	lat, err := measureLatency(p, filepath.Join(tree, dirs[len(dirs)-1]), samples, &created)
	if err != nil {
		return lat, burstResult{}, err
	}
	b := measureBurst(p, tree, dirs, burst, &created)
	b.hwmKB, err = procfs.MemKB(p.cmd.Process.Pid, "VmHWM")
	return lat, b, err
}

func measureLatency(p *proc, dir string, samples int, created *[]string) (latency, error) {
	var ds []time.Duration
	for i := 0; i < samples; i++ {
		f := filepath.Join(dir, fmt.Sprintf("latency-%d.txt", i))
		*created = append(*created, f)
		start := time.Now()
		if err := os.WriteFile(f, []byte("x"), 0o644); err != nil {
			return latency{}, err
		}
		if !p.waitLine("P "+f, failsafe) {
			return latency{}, fmt.Errorf("latency sample %s never reported", f)
		}
		ds = append(ds, time.Since(start))
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	return latency{p50: ds[len(ds)/2], p95: ds[len(ds)*95/100], max: ds[len(ds)-1]}, nil
}

// measureBurst writes n new files over the existing directories as fast as
// possible, then counts how many the watcher reported.
func measureBurst(p *proc, tree string, dirs []string, n int, created *[]string) burstResult {
	want := map[string]bool{}
	start := time.Now()
	for i := 0; i < n; i++ {
		f := filepath.Join(tree, dirs[i%len(dirs)], fmt.Sprintf("burst-%06d.txt", i))
		if err := os.WriteFile(f, []byte("x"), 0o644); err != nil {
			break
		}
		*created = append(*created, f)
		want[f] = true
	}
	res := burstResult{files: len(want)}
	deadline := time.After(failsafe)
	for res.reported < res.files {
		select {
		case line, ok := <-p.lines:
			if !ok {
				return res
			}
			if f, found := strings.CutPrefix(line, "P "); found && want[f] {
				delete(want, f)
				res.reported++
			}
			if strings.HasPrefix(line, "R ") {
				res.rescans++
			}
		case <-deadline:
			return res
		}
	}
	res.all = time.Since(start)
	return res
}

// waitLine reads lines until want arrives; false when it never does.
func (p *proc) waitLine(want string, limit time.Duration) bool {
	deadline := time.After(limit)
	for {
		select {
		case line, ok := <-p.lines:
			if !ok {
				return false
			}
			if line == want {
				return true
			}
		case <-deadline:
			return false
		}
	}
}
