package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/rebuildd/rebuildd/docker"
)

// children are the Compose commands rebuildd runs, each in a process group
// of its own (docker.Children): a terminal's Ctrl-C reaches rebuildd alone,
// and rebuildd stops them itself when it exits at once.
var children = docker.NewChildren()

// The answers to SIGINT and SIGTERM (docs/design.md, "Signals"):
const (
	// sameSignal: two signals closer than this are one. A terminal's
	// Ctrl-C reaches every process of the foreground group, so rebuildd
	// under make, a script or `timeout` gets it from the terminal and
	// again from the parent that forwards it, within milliseconds (tens
	// on a loaded machine); a person's second Ctrl-C takes 150 ms or more.
	sameSignal = 100 * time.Millisecond
	// shutdownBound is how long the first signal waits for what must not
	// be cut half-way (a recreate: cut, it leaves a service without a
	// running container). `compose up` stops the old container with a
	// 10 s grace by default, then creates and starts the new one in a
	// second or two; 30 s lets that finish on a loaded machine. Past it,
	// rebuildd stops its children as on a second signal.
	shutdownBound = 30 * time.Second
	// stopGrace is how long Compose gets to stop after SIGTERM on the way
	// out before it is killed: it answers in well under a second.
	stopGrace = 3 * time.Second
)

// exitInterrupted is the exit code of a run stopped by a signal (128+SIGINT).
const exitInterrupted = 130

// stopper is what shutdown needs of docker.Children.
type stopper interface {
	Stop(grace time.Duration) int
}

// shutdown turns signals into rebuildd's way of stopping. Its fields are
// seams for the tests; onSignals fills them for real.
type shutdown struct {
	cancel   context.CancelFunc // the first signal: stop watching, cancel builds
	children stopper
	stderr   io.Writer
	now      func() time.Time
	after    func(time.Duration) <-chan time.Time
	exit     func(code int)
}

// onSignals answers SIGINT and SIGTERM until stop is called: the first
// cancels ctx (no new work, running builds cancelled, a running recreate
// finishes, within shutdownBound); a second, later than sameSignal, stops
// the Compose commands and exits at once.
func onSignals(cancel context.CancelFunc) (stop func()) {
	ch := make(chan os.Signal, 4)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	s := &shutdown{cancel: cancel, children: children, stderr: os.Stderr, now: time.Now, after: time.After, exit: os.Exit}
	go s.run(ch, done)
	return func() { signal.Stop(ch); close(done) }
}

// run is the signal goroutine: it owns first and bound.
func (s *shutdown) run(sigs <-chan os.Signal, done <-chan struct{}) {
	var first time.Time
	var bound <-chan time.Time
	for {
		select {
		case <-done:
			return
		case <-bound:
			fmt.Fprintf(s.stderr, "rebuildd: not done %s after the signal: stopping Compose and exiting\n", shutdownBound)
			s.stop()
			return
		case <-sigs:
			t := s.now()
			switch {
			case first.IsZero():
				first = t
				s.cancel()
				bound = s.after(shutdownBound)
			case t.Sub(first) < sameSignal:
				// The same Ctrl-C, delivered twice.
			default:
				fmt.Fprintln(s.stderr, "rebuildd: second signal: stopping Compose and exiting now")
				s.stop()
				return
			}
		}
	}
}

// stop ends the running Compose commands and exits.
func (s *shutdown) stop() {
	if n := s.children.Stop(stopGrace); n > 0 {
		fmt.Fprintf(s.stderr, "rebuildd: killed %d Compose command(s) that did not stop within %s\n", n, stopGrace)
	}
	s.exit(exitInterrupted)
}
