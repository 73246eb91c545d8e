package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
	"go.uber.org/zap"

	"github.com/rebuildd/rebuildd/advice"
	"github.com/rebuildd/rebuildd/config"
	"github.com/rebuildd/rebuildd/docker"
	"github.com/rebuildd/rebuildd/dockerfile"
	"github.com/rebuildd/rebuildd/fingerprint"
	"github.com/rebuildd/rebuildd/rebuild"
	"github.com/rebuildd/rebuildd/watcher"
)

// runWatch is the daemon: reconcile once, then act on every change until
// SIGINT/SIGTERM.
func runWatch(cmd *cobra.Command, g *globalFlags, m *modeFlags, services []string) error {
	ctx := cmd.Context()
	proj, err := loadSelected(ctx, g.project, services)
	if err != nil {
		return err
	}
	format := g.logFormat
	if format == "" {
		format = proj.Settings.LogFormat
	}
	con, err := newConsole(cmd.ErrOrStderr(), consoleOptions{format: format, debug: os.Getenv("REBUILDD_DEBUG") == "1", verbose: g.verbose})
	if err != nil {
		return err
	}
	defer con.close()
	defer con.log.Sync()
	log, board, err := serveStatus(ctx, g.listen, con.log)
	if err != nil {
		return err
	}
	con.log = log
	opts := rebuild.DaemonOptions{
		Load:      func(ctx context.Context) (*config.Project, error) { return loadSelected(ctx, g.project, services) },
		Model:     dockerfile.Loader(projectBuilder(ctx, proj, !m.dryRun).Dialect),
		Watch:     watchFunc(g, log),
		DryRun:    m.dryRun,
		NoInitial: m.noInitial,
		Log:       log,
		Advise:    adviseBanner(log),
	}
	base, release, err := newReconciler(ctx, g, proj, con, !m.dryRun)
	if err != nil {
		return err
	}
	defer release()
	if eng, ok := base.Engine.(*docker.DockerEngine); ok && board != nil {
		board.Probe(eng.Ping)
		defer board.Probe(nil) // before release closes the client
	}
	if m.dryRun { // decisions as usual, over the records; nothing runs
		opts.Reconciler = func(p *config.Project, sources func(config.Service) (fingerprint.Source, error)) *rebuild.Reconciler {
			r := *base
			r.Project, r.Sources = p, sources
			return &r
		}
	} else {
		wireCompose(&opts, base, con.buildOut)
	}
	if err := rebuild.NewDaemon(opts).Run(ctx); err != nil {
		return onceError(err)
	}
	return nil
}

// wireCompose gives the daemon a reconciler per project snapshot (sharing
// the engine, Compose CLI, state and index of base), compose restart and
// recreate, and develop.watch syncs. Every compose up and restart goes
// through one SerialUp, so they never run at once.
func wireCompose(opts *rebuild.DaemonOptions, base *rebuild.Reconciler, out io.Writer) {
	cli, _ := base.Runner.(*docker.ComposeCLI)
	serial := docker.NewSerialUp(base.Runner)
	base.Runner = serial
	opts.Reconciler = func(p *config.Project, sources func(config.Service) (fingerprint.Source, error)) *rebuild.Reconciler {
		r := *base
		r.Project, r.Sources = p, sources
		return &r
	}
	opts.Recreate = func(ctx context.Context, services []string) error {
		return serial.Up(ctx, services, false, out)
	}
	opts.Sync = func(ctx context.Context, service string, ops []docker.SyncOp, exec [][]string) error {
		eng, ok := base.Engine.(*docker.DockerEngine)
		if !ok {
			return fmt.Errorf("sync %s: the engine client cannot copy into containers", service)
		}
		return eng.Sync(ctx, base.Project.Name, service, ops, exec)
	}
	opts.Restart = func(ctx context.Context, service string) error {
		if cli == nil {
			return fmt.Errorf("restart %s: the compose runner cannot restart", service)
		}
		return serial.Do(func() error { return cli.Restart(ctx, service, out) })
	}
}

// watchFunc starts the real watcher with rebuild.yaml's timing and polling
// settings; --poll forces polling.
func watchFunc(g *globalFlags, log *zap.Logger) func([]watcher.Root, config.Settings, func([]string)) (rebuild.BatchSource, error) {
	return func(roots []watcher.Root, s config.Settings, touched func([]string)) (rebuild.BatchSource, error) {
		poll := string(s.Poll)
		if g.poll {
			poll = "on"
		}
		return watcher.New(watcher.Options{Roots: roots, Debounce: s.Debounce, MaxWait: s.MaxWait,
			Poll: poll, PollInterval: s.PollInterval, Logger: log.Named("watcher"), Touched: touched})
	}
}

// loadSelected loads the project; when services are named, the other build
// services are excluded as if rebuild.yaml said so. An unknown name is
// bad usage.
func loadSelected(ctx context.Context, o config.Options, names []string) (*config.Project, error) {
	proj, err := config.Load(ctx, o)
	if err == nil {
		err = sidecarProject(ctx, proj) // as a sidecar: check the mounts, never rebuild ourselves
	}
	if err != nil || len(names) == 0 {
		return proj, err
	}
	if _, err := selectServices(proj, names); err != nil {
		return nil, err
	}
	keep := map[string]bool{}
	for _, n := range names {
		keep[n] = true
	}
	for _, s := range proj.BuildServices() {
		if !keep[s.Name] {
			ss := proj.Settings.Services[s.Name]
			ss.Exclude = true
			proj.Settings.Services[s.Name] = ss
		}
	}
	return proj, nil
}

// adviseBanner logs a service's findings once, in the start-up banner:
// advice never blocks a rebuild, it only says what costs time.
func adviseBanner(log *zap.Logger) func(*config.Project, config.Service, *dockerfile.Model) {
	return func(p *config.Project, svc config.Service, m *dockerfile.Model) {
		for _, f := range advice.Check(p, svc, m) {
			fields := []zap.Field{zap.String("service", svc.Name), zap.String("code", f.Code),
				zap.String("file", f.File), zap.Int("line", f.Line), zap.String("fix", f.Fix)}
			if f.Severity == advice.Warn {
				log.Warn("advice: "+f.Message, fields...)
			} else {
				log.Info("advice: "+f.Message, fields...)
			}
		}
	}
}
