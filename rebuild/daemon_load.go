package rebuild

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"go.uber.org/zap"

	"github.com/rebuildd/rebuildd/config"
	"github.com/rebuildd/rebuildd/docker"
	"github.com/rebuildd/rebuildd/dockerfile"
	"github.com/rebuildd/rebuildd/fingerprint"
)

// snapshot is one consistent view of the project: the compose model, one
// layer model per build service and the reconciler over them. It is never
// modified once published; a reload makes a new one.
type snapshot struct {
	proj    *config.Project
	models  map[string]*dockerfile.Model
	sources map[string]fingerprint.Source
	watched []Watched
	broken  map[string]error // services whose Dockerfile or ignore file does not load; their last good model is kept
	rec     *Reconciler      // decides every request; in dry-run mode over an overlay store
}

func (s *snapshot) service(name string) (config.Service, bool) {
	for _, svc := range s.proj.Services {
		if svc.Name == name {
			return svc, true
		}
	}
	return config.Service{}, false
}

// load builds a snapshot. At start (prev == nil) any bad input is an
// error. On reload, a service whose Dockerfile or ignore file is broken
// keeps its model from prev and is marked broken; a broken compose file or
// rebuild.yaml fails the whole reload and the caller keeps prev.
func (d *Daemon) load(ctx context.Context, prev *snapshot) (*snapshot, error) {
	proj, err := d.o.Load(ctx)
	if err != nil {
		return nil, err
	}
	s := &snapshot{proj: proj, models: map[string]*dockerfile.Model{}, sources: map[string]fingerprint.Source{}, broken: map[string]error{}}
	for _, svc := range proj.BuildServices() {
		m, err := d.o.Model(svc, proj.Settings.Services[svc.Name])
		if err != nil {
			old, ok := prevModel(prev, svc.Name)
			if !ok {
				return nil, err
			}
			s.broken[svc.Name] = err
			m = old
		}
		s.models[svc.Name] = m
		s.sources[svc.Name] = fingerprint.SourceOf(svc, m)
		s.watched = append(s.watched, Watched{Service: svc, Model: m})
	}
	s.rec = d.reconciler(proj, func(svc config.Service) (fingerprint.Source, error) {
		src, ok := s.sources[svc.Name]
		if !ok {
			return fingerprint.Source{}, fmt.Errorf("service %q: no layer model (it has no build: section or is excluded)", svc.Name)
		}
		return src, nil
	})
	if d.live == nil { // the first load, before any worker runs
		idx := d.index
		if s.rec.Index != nil {
			idx = s.rec.Index // persisted: the first walk reads only what changed since the last run
		}
		d.live = fingerprint.NewLive(idx)
	}
	s.rec.Prints, s.rec.Brief, s.rec.Unsettled = d.prints, true, d.live.Unsettled
	if s.rec.Engine != nil && !d.o.DryRun {
		if d.pre == nil {
			d.pre = docker.NewPrefetch(s.rec.Engine, d.o.Now)
		}
		s.rec.Engine, s.rec.Runner = d.pre, d.pre.Forgetful(s.rec.Runner)
	}
	return s, nil
}

// reconciler is the options' reconciler for p, or, in a dry run without
// one, a reconciler that decides from memory alone: no records on disk, no
// engine, compose v2's image names. A dry run never writes the state dir:
// what it pretends to build is recorded in an overlay.
func (d *Daemon) reconciler(p *config.Project, sources func(config.Service) (fingerprint.Source, error)) *Reconciler {
	if d.o.Reconciler != nil {
		r := d.o.Reconciler(p, sources)
		if d.o.DryRun {
			if _, ok := r.Store.(*fingerprint.Overlay); !ok {
				r.Store = d.dryStore(r.Store)
			}
			if r.Engine != nil {
				r.Engine = d.dryEngineOver(r.Engine)
			}
		}
		return r
	}
	return &Reconciler{Project: p, Sources: sources, Runner: docker.Names{}, Store: d.dryStore(nil),
		Index: d.index, Log: d.o.Log, Now: d.o.Now}
}

// dryEngineOver is the one pretended engine a dry run keeps for its whole
// life, over the real one.
func (d *Daemon) dryEngineOver(real docker.Engine) *dryEngine {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.dryEng == nil {
		d.dryEng = newDryEngine(real)
	}
	return d.dryEng
}

// dryStore is the one overlay a dry run keeps for its whole life, so
// reloads remember what it pretended to build.
func (d *Daemon) dryStore(base fingerprint.Records) *fingerprint.Overlay {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.overlay == nil {
		d.overlay = fingerprint.NewOverlay(base)
	}
	return d.overlay
}

// touched gets each change's paths as the watcher sees them: counted for
// the builds that may be running, and, when one may reach a build, the
// engine is asked now what the decision after the quiet window will need.
func (d *Daemon) touched(paths []string) {
	if !d.live.Touch(paths) || d.pre == nil {
		return
	}
	s := d.snap.Load()
	tags := make([]string, 0, len(s.watched)) // d.pre is set only with a reconciler
	for _, w := range s.watched {
		tags = append(tags, s.rec.tag(w.Service))
	}
	d.pre.Start(s.proj.Name, tags)
}

func prevModel(prev *snapshot, name string) (*dockerfile.Model, bool) {
	if prev == nil {
		return nil, false
	}
	m, ok := prev.models[name]
	return m, ok
}

// reload re-reads everything after a definition file changed and returns
// the requests the change implies: a changed build section rebuilds, a
// changed runtime section recreates, a new service is reconciled. On bad
// input it logs file and line and returns prev unchanged with the error;
// changes meanwhile are held (owe.go).
func (d *Daemon) reload(ctx context.Context, prev *snapshot) (*snapshot, []Request, error) {
	next, err := d.load(ctx, prev)
	if err != nil {
		d.o.Log.Error("configuration not reloaded; the last good one keeps running, and changes wait until the file is fixed", zap.Error(err))
		return prev, nil, err
	}
	warnGlobal(d.o.Log, prev.proj.Settings, next.proj.Settings)
	var reqs []Request
	for _, svc := range next.proj.Services {
		if next.proj.Settings.Services[svc.Name].Exclude {
			continue // rebuild.yaml exclude, a sidecar's own service, or not named on the command line
		}
		old, existed := prev.service(svc.Name)
		switch {
		case !existed && svc.Build != nil:
			reqs = append(reqs, Request{Service: svc.Name, Action: dockerfile.ActionRebuild, Recreate: true,
				Impact: dockerfile.ImpactDockerfile, Reason: "new service in the compose file"})
		case !existed:
			reqs = append(reqs, Request{Service: svc.Name, Action: dockerfile.ActionRestart, Recreate: true,
				Reason: "new service in the compose file"})
		case svc.Build != nil && old.BuildHash != svc.BuildHash:
			reqs = append(reqs, Request{Service: svc.Name, Action: dockerfile.ActionRebuild, Recreate: old.RuntimeHash != svc.RuntimeHash,
				Impact: dockerfile.ImpactDockerfile, Reason: "build section changed in the compose file"})
		case old.RuntimeHash != svc.RuntimeHash:
			reqs = append(reqs, Request{Service: svc.Name, Action: dockerfile.ActionRestart, Recreate: true,
				Reason: "runtime section changed in the compose file"})
		}
	}
	d.o.Log.Info("configuration reloaded", zap.Int("build_services", len(next.watched)), zap.Int("requests", len(reqs)))
	// Once per reload, and the only line about it: its changes are held,
	// not built (owe.go), until the file is fixed.
	names := make([]string, 0, len(next.broken))
	for name := range next.broken {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		d.o.Log.Error("not built until this is fixed; changes wait, the running container stays as it is",
			zap.String("service", name), zap.Error(next.broken[name]))
	}
	return next, reqs, nil
}

// warnGlobal says which rebuild.yaml settings changed that only apply at
// start (the watcher's timing and the scheduler's limits), instead of
// silently keeping the old values.
func warnGlobal(log *zap.Logger, old, cur config.Settings) {
	var changed []string
	add := func(name string, differ bool) {
		if differ {
			changed = append(changed, name)
		}
	}
	add("debounce", old.Debounce != cur.Debounce)
	add("max_wait", old.MaxWait != cur.MaxWait)
	add("poll", old.Poll != cur.Poll || old.PollInterval != cur.PollInterval)
	add("parallel", old.Parallel != cur.Parallel)
	add("on_busy", old.OnBusy != cur.OnBusy)
	add("compose_command", strings.Join(old.ComposeCommand, " ") != strings.Join(cur.ComposeCommand, " "))
	add("log_format", old.LogFormat != cur.LogFormat)
	add("builder", old.Builder != cur.Builder)
	if len(changed) > 0 {
		log.Warn("restart rebuildd to apply these rebuild.yaml changes; per-service settings apply now",
			zap.Strings("settings", changed))
	}
}
