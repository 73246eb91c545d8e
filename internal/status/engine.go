package status

import (
	"context"
	"sync"
	"time"
)

// EngineOK is Snapshot.Engine when the Docker engine answered.
const EngineOK = "ok"

// probeTimeout bounds one engine probe: a local engine answers its ping in
// a millisecond, and one that takes 2 s is as good as gone for a
// healthcheck, whose own timeout (30 s by default) it stays well inside.
const probeTimeout = 2 * time.Second

// engineProbe asks the engine whether it answers. Concurrent requests
// share one probe at a time (mu), so a burst of clients is at most one
// ping at a time for the engine.
type engineProbe struct {
	mu    sync.Mutex
	probe func(context.Context) error
}

// Probe sets how the board learns whether the Docker engine answers: a
// ping, asked on every /healthz and /status, so the answer is today's and
// not the last build's. Without one (--dry-run needs no engine) the
// endpoint says nothing about the engine.
func (b *Board) Probe(probe func(context.Context) error) {
	b.engine.mu.Lock()
	b.engine.probe = probe
	b.engine.mu.Unlock()
}

// Engine asks the probe: EngineOK, the error's text when the engine does
// not answer, "" when there is no probe.
func (b *Board) Engine(ctx context.Context) string {
	b.engine.mu.Lock()
	defer b.engine.mu.Unlock()
	if b.engine.probe == nil {
		return ""
	}
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	if err := b.engine.probe(ctx); err != nil {
		return err.Error()
	}
	return EngineOK
}
