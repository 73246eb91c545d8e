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

// eventLog is one project's live `docker events` process. Its reading
// goroutine owns the stream; events and the barrier waiters are guarded by mu.
type eventLog struct {
	owns   func(Event) bool
	cancel context.CancelFunc
	done   chan struct{} // closed by the reading goroutine when the stream ends

	mu      sync.Mutex
	events  Events                   // the project's events and the volumes its containers mounted
	ctrs    map[string]bool          // IDs of the project's containers
	waiters map[string]chan struct{} // barrier volume name -> closed when its destroy event arrives
	err     error                    // why the stream ended early
}

func startEventLog(since time.Time, owns func(Event) bool) (*eventLog, error) {
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
	r := &eventLog{owns: owns, cancel: cancel, done: make(chan struct{}),
		ctrs: map[string]bool{}, waiters: map[string]chan struct{}{}}
	go r.read(cmd, out)
	return r, nil
}

func (r *eventLog) read(cmd *exec.Cmd, out io.Reader) {
	defer close(r.done)
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 0, 64*1024), 4*1024*1024)
	for sc.Scan() {
		es, err := parseEvents(sc.Text())
		if err != nil || len(es) == 0 {
			continue // a line the CLI garbled says nothing about the project
		}
		r.add(es[0])
	}
	err := cmd.Wait()
	r.mu.Lock()
	r.err = fmt.Errorf("docker events ended: %v", err)
	r.mu.Unlock()
}

func (r *eventLog) add(e Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
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
	case <-r.done:
		r.mu.Lock()
		defer r.mu.Unlock()
		return r.err
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
	r.cancel()
	<-r.done
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
