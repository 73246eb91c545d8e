package watcher

import (
	"sync"
	"time"
)

// op is what happened to a path, in fsnotify's vocabulary.
type op uint8

const (
	opCreate op = 1 << iota
	opWrite
	opRemove
	opRename
	opChmod
)

func (o op) String() string {
	names := []string{"create", "write", "remove", "rename", "chmod"}
	s := ""
	for i, n := range names {
		if o&(1<<i) != 0 {
			if s != "" {
				s += "|"
			}
			s += n
		}
	}
	return s
}

// kind separates path events from the backend's control messages.
type kind uint8

const (
	kindPath     kind = iota // path changed (op says how)
	kindOverflow             // the backend lost events: rescan its roots
	kindError                // the backend reported an error it cannot classify
	kindScanDone             // the poller finished a full scan that started at at
)

// event is one raw notification from a backend to the loop.
type event struct {
	kind kind
	path string // absolute, for kindPath
	op   op
	err  error
	from backend   // who sent it: an overflow concerns that backend's roots
	at   time.Time // kindScanDone: when the scan started
}

// queue carries events from backend goroutines to the loop goroutine. It is
// unbounded on purpose: a backend reader must never block on the consumer,
// or inotify's kernel queue overflows while we wait (the compose watch
// failure this package exists to avoid). Memory grows only while the loop is
// busy, and the loop drains everything at once.
type queue struct {
	mu     sync.Mutex
	events []event       // guarded by mu
	notify chan struct{} // capacity 1: "events is non-empty"
}

func newQueue() *queue {
	return &queue{notify: make(chan struct{}, 1)}
}

// push appends events and wakes the loop. It never blocks.
func (q *queue) push(evs ...event) {
	if len(evs) == 0 {
		return
	}
	q.mu.Lock()
	q.events = append(q.events, evs...)
	q.mu.Unlock()
	select {
	case q.notify <- struct{}{}:
	default: // a wake-up is already pending
	}
}

// ready is signalled after a push; the receiver then calls drain.
func (q *queue) ready() <-chan struct{} { return q.notify }

// drain takes every queued event, oldest first.
func (q *queue) drain() []event {
	q.mu.Lock()
	evs := q.events
	q.events = nil
	q.mu.Unlock()
	return evs
}
