package docker

import (
	"context"
	"io"
)

// Restart runs `compose restart SERVICE`: for on_source: restart, where a
// bind mount already carries the change and the process must reload it.
func (c *ComposeCLI) Restart(ctx context.Context, service string, out io.Writer) error {
	w, end := c.track([]string{service}, PhaseRestart, NewPrefixWriter(service, out))
	defer end()
	return c.run(ctx, w, "restart", service)
}
