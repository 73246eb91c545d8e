package rebuild

import (
	"strings"

	"go.uber.org/zap"
)

// syncLogged says what a live update did: its decision (action sync, with
// the container paths) and its result, one line on the console:
// "src/server.js -> synced to /app/src/server.js in 84ms (restart 0.9s)",
// or a dry run's "would sync to ...".
func (d *Daemon) syncLogged(r Request, done syncDone) {
	change := d.change(r)
	d.o.Log.Info("decision", append([]zap.Field{zap.String("service", r.Service), zap.String("action", "sync"),
		zap.String("status", StatusStale), zap.Strings("container_path", done.paths), zap.String("reason", r.Reason)}, change...)...)
	if done.dry {
		d.o.Log.Info("result", append([]zap.Field{zap.String("service", r.Service), zap.String("action", "sync"),
			zap.String("result", "would sync to "+listPaths(done.paths)), zap.Bool("dry_run", true),
			zap.Strings("container_path", done.paths)}, change...)...)
		return
	}
	fields := append([]zap.Field{zap.String("service", r.Service), zap.String("action", "sync"),
		zap.String("result", "synced to "+listPaths(done.paths)), zap.Duration("took", done.took),
		zap.Strings("container_path", done.paths)}, change...)
	if len(done.restarted) > 0 {
		fields = append(fields, zap.Strings("restarted", done.restarted), zap.Duration("restart", done.restart))
	}
	if done.reloads != "" {
		fields = append(fields, zap.String("reloads", done.reloads))
	}
	d.o.Log.Info("result", fields...)
}

// listPaths names the first maxListed container paths and "+N more", as
// a decision names changed files (listed).
func listPaths(paths []string) string {
	if len(paths) == 0 {
		return "nothing (removals only)"
	}
	return strings.Join(listed("", paths), ", ")
}
