package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/rebuildd/rebuildd/internal/procfs"
)

// tool describes how to start a watcher process and recognise readiness.
type tool struct {
	name   string
	cmd    func() *exec.Cmd
	stderr bool   // the ready line comes on stderr (inotifywait) or stdout
	ready  string // the ready line
}

func inotifywait(tree string) tool {
	return tool{
		name: "inotifywait -r",
		cmd: func() *exec.Cmd {
			// Only the @path form stops inotifywait from watching a
			// directory; --exclude still watches it.
			return exec.Command("inotifywait", "-r", "-m", tree, "@"+filepath.Join(tree, "node_modules"))
		},
		stderr: true,
		ready:  "Watches established.",
	}
}

func rebuildd(self, tree string) tool {
	return tool{
		name:  "rebuildd watcher",
		cmd:   func() *exec.Cmd { return exec.Command(self, "-child", tree) },
		ready: "ready",
	}
}

// proc is a started tool with its output lines on a channel.
type proc struct {
	cmd   *exec.Cmd
	lines chan string
}

// launch starts t and returns once its ready line arrived, with the time
// from exec to that line, and the line.
func launch(t tool) (*proc, time.Duration, string, error) {
	cmd := t.cmd()
	var r io.ReadCloser
	var err error
	if t.stderr {
		r, err = cmd.StderrPipe()
	} else {
		cmd.Stderr = os.Stderr
		r, err = cmd.StdoutPipe()
	}
	if err != nil {
		return nil, 0, "", err
	}
	p := &proc{cmd: cmd, lines: make(chan string, 1<<16)}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, 0, "", fmt.Errorf("start %s: %w", t.name, err)
	}
	go func() {
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
		close(p.lines)
	}()
	for line := range p.lines {
		// inotifywait prints "Setting up watches." first, then
		// the ready line.
		if strings.Contains(line, t.ready) {
			return p, time.Since(start), line, nil
		}
	}
	p.stop()
	return nil, 0, "", fmt.Errorf("%s exited before %q", t.name, t.ready)
}

func (p *proc) stop() {
	_ = p.cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { _ = p.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		<-done
	}
}

// setup is one tool's start-up cost.
type setup struct {
	name    string
	ready   time.Duration // exec to ready line, median over runs
	walk    time.Duration // in-process New to Ready (rebuildd only), median
	watches int
	rssKB   int
}

func measureSetup(runs int, t tool) (setup, error) {
	res := setup{name: t.name}
	var times, walks []time.Duration
	for i := 0; i < runs; i++ {
		p, d, line, err := launch(t)
		if err != nil {
			return res, err
		}
		times = append(times, d)
		if f := strings.Fields(line); len(f) == 2 && f[0] == "ready" {
			ns, _ := strconv.ParseInt(f[1], 10, 64)
			walks = append(walks, time.Duration(ns))
		}
		res.watches, err = procfs.InotifyWatches(p.cmd.Process.Pid)
		if err == nil {
			res.rssKB, err = procfs.MemKB(p.cmd.Process.Pid, "VmRSS")
		}
		p.stop()
		if err != nil {
			return res, err
		}
	}
	res.ready, res.walk = median(times), median(walks)
	return res, nil
}

func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	return ds[len(ds)/2]
}
