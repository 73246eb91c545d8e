package rebuild

import (
	"go.uber.org/zap"

	"github.com/rebuildd/rebuildd/dockerfile"
)

// Watch mode never forgets a change (docs/design.md, "One decision"). A
// request that arrives while the compose project or the service's
// Dockerfile or ignore file is broken is held here, not built against a
// configuration that does not load and not dropped. When the next reload
// succeeds every service is re-checked through the decision function: the
// held changes are built then, an up-to-date service does nothing, and a
// build that failed meanwhile is tried once more, never in a loop. All of
// it runs on Run's goroutine (batch), which owns owed and configErr.

// submit hands r to the scheduler, or holds it while what it needs is
// broken. Requests that build are logged when their decision is final
// (decisions); the others are final now.
func (d *Daemon) submit(snap *snapshot, sched *Scheduler, r Request) {
	if why := d.held(snap, r.Service); why != nil {
		_, already := d.owed[r.Service]
		if prev, ok := d.owed[r.Service]; ok {
			r = prev.merge(r)
		}
		d.owed[r.Service] = r
		if !already {
			// Debug: the reload that found the problem said so, with what
			// waits for the fix, in one error line (reload).
			d.o.Log.Debug("held until the configuration loads again; nothing is lost: the fix re-checks it",
				zap.String("service", r.Service), zap.Strings("paths", r.Paths), zap.Error(why))
		}
		return
	}
	if r.Action != dockerfile.ActionRebuild {
		d.decided(r, nil)
	} else {
		d.o.Log.Debug("queued", zap.String("service", r.Service), zap.Strings("paths", r.Paths), zap.String("reason", r.Reason))
	}
	sched.Submit(r)
}

// held says why r's service cannot be acted on now, nil when it can.
func (d *Daemon) held(snap *snapshot, service string) error {
	if d.configErr != nil {
		return d.configErr
	}
	return snap.broken[service]
}

// repaid is what a successful reload owes: after a broken configuration,
// or with requests held, a re-check of every service (the held requests
// merged in); services still broken stay held.
func (d *Daemon) repaid(snap *snapshot) []Request {
	if d.configErr == nil && len(d.owed) == 0 {
		return nil
	}
	d.configErr = nil
	var out []Request
	for _, w := range snap.watched {
		name := w.Service.Name
		r := Request{Service: name, Action: dockerfile.ActionRebuild, Impact: dockerfile.ImpactSource,
			Reason: "configuration loads again; re-checking"}
		if owed, ok := d.owed[name]; ok {
			r = owed.merge(r)
			r.Reason = owed.Reason
		}
		if snap.broken[name] != nil {
			continue // still held: the owed request stays
		}
		delete(d.owed, name)
		out = append(out, r)
	}
	return out
}
