package docker

import (
	"sync"
	"syscall"
	"time"
)

// Children are the Compose commands running right now, each the leader of
// a process group of its own (ComposeCLI.run sets Setpgid): a terminal's
// Ctrl-C goes to rebuildd's foreground group only, so a recreate is never
// cut half-way by the keypress meant for rebuildd. The price is that
// rebuildd must stop them itself when it exits at once (Stop): nothing
// else will.
type Children struct {
	mu     sync.Mutex
	groups map[int]chan struct{} // pgid -> closed when the command has returned
}

// NewChildren returns an empty set.
func NewChildren() *Children { return &Children{groups: map[int]chan struct{}{}} }

// add records the process group pgid; the returned func marks it gone.
// A nil *Children tracks nothing.
func (c *Children) add(pgid int) (gone func()) {
	if c == nil {
		return func() {}
	}
	done := make(chan struct{})
	c.mu.Lock()
	c.groups[pgid] = done
	c.mu.Unlock()
	return func() {
		c.mu.Lock()
		delete(c.groups, pgid)
		c.mu.Unlock()
		close(done)
	}
}

// Len is how many Compose commands are running.
func (c *Children) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.groups)
}

// Stop ends every running Compose command: SIGTERM to its process group,
// which Compose answers by stopping what it does (a build, a container it
// was creating), then SIGKILL to the groups that have not returned within
// grace. It returns how many had to be killed.
func (c *Children) Stop(grace time.Duration) int {
	c.mu.Lock()
	waiting := make(map[int]chan struct{}, len(c.groups))
	for pgid, done := range c.groups {
		waiting[pgid] = done
		syscall.Kill(-pgid, syscall.SIGTERM)
	}
	c.mu.Unlock()
	timeout := time.NewTimer(grace)
	defer timeout.Stop()
	for _, done := range waiting {
		select {
		case <-done:
		case <-timeout.C:
			return kill(waiting)
		}
	}
	return 0
}

// kill sends SIGKILL to every group of waiting that has not returned.
func kill(waiting map[int]chan struct{}) int {
	killed := 0
	for pgid, done := range waiting {
		select {
		case <-done:
		default:
			syscall.Kill(-pgid, syscall.SIGKILL)
			killed++
		}
	}
	return killed
}
