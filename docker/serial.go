package docker

import (
	"context"
	"io"
)

// SerialUp is a Runner whose Up calls, and whatever else is run through
// Do (compose restart), happen one at a time: concurrent `compose up`s of
// one project race on its network and containers. Builds stay parallel.
type SerialUp struct {
	Runner
	turn chan struct{} // holds a token while an Up or Do runs
}

// NewSerialUp wraps r.
func NewSerialUp(r Runner) *SerialUp {
	return &SerialUp{Runner: r, turn: make(chan struct{}, 1)}
}

// Up implements Runner, one call at a time.
func (s *SerialUp) Up(ctx context.Context, services []string, renewAnon bool, out io.Writer) error {
	s.turn <- struct{}{}
	defer func() { <-s.turn }()
	return s.Runner.Up(ctx, services, renewAnon, out)
}

// Do runs f while no Up runs.
func (s *SerialUp) Do(f func() error) error {
	s.turn <- struct{}{}
	defer func() { <-s.turn }()
	return f()
}

// CommandLine is implemented by *ComposeCLI: the command that reproduces
// a subcommand, for failure messages.
type CommandLine interface {
	Args(sub ...string) []string
}

// Args is the wrapped runner's command line, when it has one.
func (s *SerialUp) Args(sub ...string) []string {
	if c, ok := s.Runner.(CommandLine); ok {
		return c.Args(sub...)
	}
	return nil
}
