package humanlog

import (
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/rebuildd/rebuildd/docker"
)

// LogProgress is the docker.Progress for output that is not a live
// terminal (a pipe, a file, --log-format json): no redraws, one
// "msg":"progress" line per build step instead, with the service, the
// phase, the stage, the step's position, its instruction and the time
// since the command began.
func LogProgress(log *zap.Logger, now func() time.Time) docker.Progress {
	return &logProgress{log: log, now: now, start: map[string]time.Time{}, phase: map[string]docker.Phase{}}
}

type logProgress struct {
	log *zap.Logger
	now func() time.Time

	mu    sync.Mutex
	start map[string]time.Time // service -> when its command began
	phase map[string]docker.Phase
}

func (p *logProgress) Begin(service string, phase docker.Phase) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.start[service], p.phase[service] = p.now(), phase
}

func (p *logProgress) Step(service string, s docker.Step) {
	p.mu.Lock()
	start, phase := p.start[service], p.phase[service]
	p.mu.Unlock()
	fields := []zap.Field{zap.String("service", service), zap.String("phase", string(phase))}
	if s.Stage != "" {
		fields = append(fields, zap.String("stage", s.Stage))
	}
	if s.N > 0 {
		fields = append(fields, zap.Int("step", s.N), zap.Int("steps", s.Total))
	}
	fields = append(fields, zap.String("instruction", s.Text), zap.Duration("elapsed", p.now().Sub(start)))
	p.log.Info("progress", fields...)
}

func (p *logProgress) End(service string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.start, service)
	delete(p.phase, service)
}
