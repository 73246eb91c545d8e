package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// line is one output line of a measured process, with the time the
// harness read it and, for rebuildd's JSON logs, the time rebuildd logged it.
type line struct {
	read time.Time
	text string
	msg  string    // "msg" of a JSON log line
	ts   time.Time // "ts" of a JSON log line (zero otherwise)
	// action and why of a JSON log line, and its durations (zap writes
	// them as seconds): took of a result, decide, plan and copy of the
	// debug "sync timing" line.
	action, why             string
	took, decide, plan, cpy time.Duration
}

// proc is a started process whose merged stdout and stderr are kept as
// lines. The reader goroutine owns appending; waiters are woken through
// changed, which is closed and replaced on every append.
type proc struct {
	name  string
	cmd   *exec.Cmd
	start time.Time

	mu      sync.Mutex
	lines   []line
	changed chan struct{}
	eof     bool
}

// spawn starts argv in dir with env added to the harness's environment, in
// its own process group so stop ends its children (compose, builds) too.
func spawn(name, dir string, env []string, argv ...string) (*proc, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = w, w
	p := &proc{name: name, cmd: cmd, changed: make(chan struct{})}
	p.start = time.Now()
	err = cmd.Start()
	w.Close()
	if err != nil {
		r.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	go p.read(r)
	live.Lock()
	live.procs[p] = true
	live.Unlock()
	return p, nil
}

// live holds the started processes not yet stopped, so an interrupted
// harness stops them (stopAll) instead of leaving watchers and builds behind.
var live = struct {
	sync.Mutex
	procs map[*proc]bool
}{procs: map[*proc]bool{}}

func stopAll() {
	live.Lock()
	ps := make([]*proc, 0, len(live.procs))
	for p := range live.procs {
		ps = append(ps, p)
	}
	live.Unlock()
	for _, p := range ps {
		p.stop()
	}
}

func (p *proc) read(r io.ReadCloser) {
	defer r.Close()
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 4*1024*1024)
	for sc.Scan() {
		l := line{read: time.Now(), text: sc.Text()}
		parseJSONLog(&l)
		p.mu.Lock()
		p.lines = append(p.lines, l)
		close(p.changed)
		p.changed = make(chan struct{})
		p.mu.Unlock()
	}
	p.mu.Lock()
	p.eof = true
	close(p.changed)
	p.changed = make(chan struct{})
	p.mu.Unlock()
}

func parseJSONLog(l *line) {
	if !strings.HasPrefix(l.text, "{") {
		return
	}
	// A map, not a struct: a field of another type in some line must not
	// cost the line its msg.
	var v map[string]any
	if json.Unmarshal([]byte(l.text), &v) != nil {
		return
	}
	str := func(k string) string { s, _ := v[k].(string); return s }
	sec := func(k string) time.Duration { f, _ := v[k].(float64); return time.Duration(f * float64(time.Second)) }
	l.msg, l.action, l.why = str("msg"), str("action"), str("why")
	l.ts, _ = time.Parse(time.RFC3339Nano, str("ts"))
	l.took, l.decide, l.plan, l.cpy = sec("took"), sec("decide"), sec("plan"), sec("copy")
}

// at returns the time the line happened: rebuildd's own timestamp when it
// has one, else when the harness read it.
func (l line) at() time.Time {
	if !l.ts.IsZero() {
		return l.ts
	}
	return l.read
}

// mark is the number of lines seen so far, for waiting on later lines only.
func (p *proc) mark() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.lines)
}

// since returns a copy of the lines from index from on.
func (p *proc) since(from int) []line {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]line(nil), p.lines[min(from, len(p.lines)):]...)
}

// wait returns the first line at index >= from that match accepts, or an
// error after limit or when the process closed its output.
func (p *proc) wait(from int, limit time.Duration, match func(line) bool) (line, int, error) {
	deadline := time.After(limit)
	for i := from; ; {
		p.mu.Lock()
		for ; i < len(p.lines); i++ {
			if match(p.lines[i]) {
				l := p.lines[i]
				p.mu.Unlock()
				return l, i, nil
			}
		}
		eof, changed := p.eof, p.changed
		p.mu.Unlock()
		if eof {
			return line{}, i, fmt.Errorf("%s exited; last output:\n%s", p.name, p.tail(20))
		}
		select {
		case <-changed:
		case <-deadline:
			return line{}, i, fmt.Errorf("%s: nothing expected within %v; last output:\n%s", p.name, limit, p.tail(20))
		}
	}
}

// quiet waits until the process printed nothing for d, bounded by limit.
func (p *proc) quiet(d, limit time.Duration) {
	end := time.Now().Add(limit)
	for time.Now().Before(end) {
		p.mu.Lock()
		changed, eof := p.changed, p.eof
		p.mu.Unlock()
		if eof {
			return
		}
		select {
		case <-changed:
		case <-time.After(d):
			return
		}
	}
}

func (p *proc) tail(n int) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var b strings.Builder
	for _, l := range p.lines[max(0, len(p.lines)-n):] {
		b.WriteString(l.text + "\n")
	}
	return b.String()
}

// stopTimeout: rebuildd and compose exit within a few seconds of SIGINT
// (issue 5); past this the group is killed so the harness always ends.
const stopTimeout = 20 * time.Second

// stop interrupts the process group and waits for the process.
func (p *proc) stop() {
	live.Lock()
	running := live.procs[p]
	delete(live.procs, p)
	live.Unlock()
	if !running {
		return // stop is safe twice
	}
	pgid := p.cmd.Process.Pid
	_ = syscall.Kill(-pgid, syscall.SIGINT)
	done := make(chan struct{})
	go func() { _ = p.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(stopTimeout):
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		<-done
	}
}
