package main

import (
	"bytes"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"testing/synctest"
	"time"
)

// signalRig runs shutdown in a synctest bubble: time.Sleep moves the
// bubble's clock, and synctest.Wait returns once run has handled a signal.
type signalRig struct {
	s         shutdown
	mu        sync.Mutex
	cancelled int
	stops     []time.Duration
	exits     []int
	stderr    bytes.Buffer
	sigs      chan os.Signal
	stopRun   chan struct{} // closed by the test: the run ended by itself
	ended     chan struct{} // closed when run has returned
}

func (r *signalRig) Stop(grace time.Duration) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.stops = append(r.stops, grace)
	return 0
}

func newSignalRig() *signalRig {
	r := &signalRig{sigs: make(chan os.Signal), stopRun: make(chan struct{}), ended: make(chan struct{})}
	r.s = shutdown{
		cancel:   func() { r.mu.Lock(); r.cancelled++; r.mu.Unlock() },
		children: r,
		stderr:   &r.stderr,
		now:      time.Now,
		after:    time.After,
		exit:     func(code int) { r.mu.Lock(); r.exits = append(r.exits, code); r.mu.Unlock() },
	}
	go func() { r.s.run(r.sigs, r.stopRun); close(r.ended) }()
	return r
}

// signal delivers sig after d has passed, and waits until run has handled it.
func (r *signalRig) signal(sig os.Signal, d time.Duration) {
	time.Sleep(d)
	r.sigs <- sig
	synctest.Wait()
}

func (r *signalRig) counts() (cancels, stops, exits int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.cancelled, len(r.stops), len(r.exits)
}

// TestFirstSignalCancelsSecondExits: one Ctrl-C delivered three times
// within sameSignal (the terminal, a parent that forwards it, `timeout`
// signalling the group) is one: it cancels, and nothing more; a person's
// second Ctrl-C stops the Compose commands and exits.
func TestFirstSignalCancelsSecondExits(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newSignalRig()
		r.signal(syscall.SIGINT, 0)
		r.signal(syscall.SIGINT, 2*time.Millisecond)
		r.signal(syscall.SIGTERM, 40*time.Millisecond)
		if c, s, e := r.counts(); c != 1 || s != 0 || e != 0 {
			t.Fatalf("one Ctrl-C delivered thrice: %d cancels, %d stops, %d exits; want 1, 0, 0", c, s, e)
		}
		r.signal(syscall.SIGINT, 300*time.Millisecond)
		<-r.ended
		if c, s, e := r.counts(); c != 1 || s != 1 || e != 1 || r.exits[0] != exitInterrupted || r.stops[0] != stopGrace {
			t.Errorf("second Ctrl-C: %d cancels, stops %v, exits %v; want the children stopped with %v, exit %d",
				c, r.stops, r.exits, stopGrace, exitInterrupted)
		}
		if !strings.Contains(r.stderr.String(), "second signal") {
			t.Errorf("stderr %q does not say why", r.stderr.String())
		}
	})
}

// TestShutdownIsBounded: after the first signal, what runs (a recreate
// finishing) gets shutdownBound; then rebuildd stops its children and
// exits as on a second signal.
func TestShutdownIsBounded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newSignalRig()
		r.signal(syscall.SIGTERM, 0)
		time.Sleep(shutdownBound - time.Second)
		synctest.Wait()
		if _, s, e := r.counts(); s != 0 || e != 0 {
			t.Fatalf("stopped before the bound: %d stops, %d exits", s, e)
		}
		time.Sleep(time.Second)
		<-r.ended
		if c, s, e := r.counts(); c != 1 || s != 1 || e != 1 || !strings.Contains(r.stderr.String(), "not done 30s after the signal") {
			t.Errorf("%d cancels, %d stops, %d exits, stderr %q", c, s, e, r.stderr.String())
		}
	})
}

// TestNoSignalNoBound: a run that ends by itself ends the goroutine
// without cancelling, stopping or exiting.
func TestNoSignalNoBound(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newSignalRig()
		close(r.stopRun)
		<-r.ended
		if c, s, e := r.counts(); c != 0 || s != 0 || e != 0 {
			t.Errorf("%d cancels, %d stops, %d exits; want none", c, s, e)
		}
	})
}
