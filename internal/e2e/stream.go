package e2e

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"
)

// The engine keeps only its last 256 events for `docker events --since`
// (daemon/events: eventsLimit); with other tests busy on the same engine a
// project's early events are gone within minutes (a build's tag event was
// seen lost that way, and its image leaked). So each project records its
// events live from the moment it is made, and a query first waits for a
// barrier event to come through, which proves every earlier event has.

// syncTimeout bounds the wait for the barrier: the engine delivers events
// in milliseconds; a minute covers a daemon stalled by heavy load.
const syncTimeout = time.Minute

// eventLog is one project's live `docker events` process. Each process's
// reading goroutine owns its stream; events, the barrier waiters and the
// current process are guarded by mu.
type eventLog struct {
	owns func(Event) bool

	mu      sync.Mutex
	proc    *eventProc               // the current docker events process
	last    time.Time                // time of the newest event seen, for a reconnect
	events  Events                   // the project's events and the volumes its containers mounted
	ctrs    map[string]bool          // IDs of the project's containers
	waiters map[string]chan struct{} // barrier volume name -> closed when its destroy event arrives
}

// eventProc is one `docker events` process. It ends when the engine goes
// away (a test that restarts the engine) or when the log is closed.
type eventProc struct {
	cancel context.CancelFunc
	done   chan struct{} // closed by the reading goroutine when the stream ends
	err    error         // why it ended; written before done is closed
}

func startEventLog(since time.Time, owns func(Event) bool) (*eventLog, error) {
	r := &eventLog{owns: owns, last: since, ctrs: map[string]bool{}, waiters: map[string]chan struct{}{}}
	proc, err := r.start(since)
	if err != nil {
		return nil, err
	}
	r.proc = proc
	return r, nil
}

func (r *eventLog) start(since time.Time) (*eventProc, error) {
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, "docker", "events", "--since", unixNano(since), "--format", "{{json .}}")
	cmd.Env = os.Environ()
	cmd.Stderr = io.Discard
	out, err := cmd.StdoutPipe()
	if err == nil {
		err = cmd.Start()
	}
	if err != nil {
		cancel()
		return nil, fmt.Errorf("start docker events: %w", err)
	}
	proc := &eventProc{cancel: cancel, done: make(chan struct{})}
	go r.read(proc, cmd, out)
	return proc, nil
}

// current returns the live process, starting a new one from just after the
// last event seen when the previous one ended: after an engine restart the
// old stream is gone, and the test goes on.
func (r *eventLog) current() (*eventProc, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	select {
	case <-r.proc.done:
		proc, err := r.start(r.last.Add(time.Nanosecond))
		if err != nil {
			return nil, err
		}
		r.proc = proc
	default:
	}
	return r.proc, nil
}

func (r *eventLog) read(proc *eventProc, cmd *exec.Cmd, out io.Reader) {
	defer close(proc.done)
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 0, 64*1024), 4*1024*1024)
	for sc.Scan() {
		es, err := parseEvents(sc.Text())
		if err != nil || len(es) == 0 {
			continue // a line the CLI garbled says nothing about the project
		}
		r.add(es[0])
	}
	proc.err = fmt.Errorf("docker events ended: %v", cmd.Wait())
}

func (r *eventLog) add(e Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if e.Time.After(r.last) {
		r.last = e.Time
	}
	if e.Type == "volume" && e.Action == "destroy" {
		if ch, ok := r.waiters[e.ID]; ok {
			close(ch)
			delete(r.waiters, e.ID)
			return
		}
	}
	switch {
	case r.owns(e):
		if e.Type == "container" {
			r.ctrs[e.ID] = true
		}
		r.events = append(r.events, e)
	case e.Type == "volume" && r.ctrs[e.Attributes["container"]]:
		r.events = append(r.events, e) // a volume a project container mounted
	}
}

// sync returns once every event the engine emitted before the call has been
// recorded: it creates and removes a volume and waits for the removal's
// event, which the engine delivers after all earlier ones.
func (r *eventLog) sync(name string) error {
	proc, err := r.current()
	if err != nil {
		return err
	}
	ch := make(chan struct{})
	r.mu.Lock()
	r.waiters[name] = ch
	r.mu.Unlock()
	if _, err := TryDocker("volume", "create", name); err != nil {
		return err
	}
	if _, err := TryDocker("volume", "rm", name); err != nil {
		return err
	}
	select {
	case <-ch:
		return nil
	case <-proc.done:
		return proc.err
	case <-time.After(syncTimeout):
		return fmt.Errorf("engine event for volume %q not seen after %v", name, syncTimeout)
	}
}

// since returns the recorded events at or after t.
func (r *eventLog) since(t time.Time) Events {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out Events
	for _, e := range r.events {
		if !e.Time.Before(t) {
			out = append(out, e)
		}
	}
	return out
}

// Close stops the stream; safe to call twice.
func (r *eventLog) Close() {
	r.mu.Lock()
	proc := r.proc
	r.mu.Unlock()
	proc.cancel()
	<-proc.done
}

// anonymousVolumes are the volumes with generated names (64 hex digits) that
// the project's containers mounted. `down -v` misses one that a recreate
// carried over to the new container (the engine then sees a named mount),
// which was seen here under both Compose versions.
func anonymousVolumes(es Events) []string {
	var names []string
	for _, e := range es {
		if e.Type == "volume" && e.Action == "mount" && isHex64(e.ID) {
			names = append(names, e.ID)
		}
	}
	return uniq(names)
}

func isHex64(s string) bool {
	return len(s) == 64 && strings.Trim(s, "0123456789abcdef") == ""
}
