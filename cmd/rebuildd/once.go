package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"go.uber.org/zap"

	"github.com/rebuildd/rebuildd/config"
	"github.com/rebuildd/rebuildd/docker"
	"github.com/rebuildd/rebuildd/dockerfile"
	"github.com/rebuildd/rebuildd/fingerprint"
	"github.com/rebuildd/rebuildd/ignore"
	"github.com/rebuildd/rebuildd/internal/escape"
	"github.com/rebuildd/rebuildd/rebuild"
	"github.com/rebuildd/rebuildd/statedir"
)

// onceWaitTimeout bounds the wait for a recreated container to run and, with
// a healthcheck, turn healthy: healthchecks commonly allow a 30-60 s start
// period, and a dev service that needs longer is broken enough to report.
const onceWaitTimeout = 2 * time.Minute

// enginePingTimeout: a local engine answers a ping in milliseconds; a remote
// DOCKER_HOST that does not answer within this is as good as down.
const enginePingTimeout = 15 * time.Second

// onceGCPercent is the garbage collector's GOGC for --once and --check: a
// short-lived process that allocates ~40 MB while checking 50,000 files
// spent ~20 % of its CPU collecting at the default of 100. At 1000 the heap
// may grow to 11x what is live (tens of MB, proportionate to the context,
// unlike GC off) and a run collects once or twice. Watch mode keeps the
// default: it lives long and idles. A GOGC the user set wins.
const onceGCPercent = 1000

// runOnce is --once / --check / --dry-run: bring the project in step once
// (or only say what is stale) and exit 0, 1, 2 or 3.
func runOnce(cmd *cobra.Command, g *globalFlags, m *modeFlags, services []string) error {
	ctx := cmd.Context()
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(onceGCPercent)
	}
	con, err := newConsole(cmd.ErrOrStderr(), consoleOptions{format: g.logFormat, debug: os.Getenv("REBUILDD_DEBUG") == "1", verbose: g.verbose})
	if err != nil {
		return err
	}
	defer con.close()
	defer con.log.Sync()
	proj, err := loadSelected(ctx, g.project, nil) // config.Load plus the sidecar check (sidecar.go)
	if err != nil {
		return err
	}
	dry := m.dryRun || m.check
	rec, release, err := newReconciler(ctx, g, proj, con, !dry)
	if err != nil {
		return err
	}
	defer release()
	rec.Policy.Images = m.images
	var out []rebuild.Outcome
	if dry {
		out, err = rec.Check(ctx, services)
	} else {
		out, err = rec.Run(ctx, services)
	}
	if err != nil {
		return onceError(err)
	}
	tails := cmd.ErrOrStderr()
	if g.verbose {
		tails = nil // the output was streamed as it came
	}
	if err := printOutcomes(cmd.OutOrStdout(), tails, out, m.json); err != nil {
		return err
	}
	for _, o := range out {
		if o.Status == rebuild.StatusUnknown {
			fmt.Fprintln(cmd.ErrOrStderr(), "rebuildd: unknown means no record says what the image was built from; `rebuildd --once` builds it once (cheap from the cache) and records it")
			break
		}
	}
	return onceExit(out, m.check)
}

// newReconciler wires the state dir, for a real run the project lock, the
// engine and the Compose CLI. The state dir comes first: the stat index and
// the Compose detection cache live there, and the index is read while the
// engine answers its ping.
//
// changing is false for --check and --dry-run: no lock (they change
// nothing), no record written (an overlay keeps what they decide), no
// engine needed (without one they decide from the records alone), and a
// compose_command from rebuild.yaml is never started.
func newReconciler(ctx context.Context, g *globalFlags, proj *config.Project, con *console, changing bool) (*rebuild.Reconciler, func(), error) {
	store, err := openStore(g.stateDir, proj)
	if err != nil {
		return nil, nil, &exitError{code: exitUsage, err: err}
	}
	release := func() {}
	if changing {
		// The project first: a second rebuildd with another --state-dir
		// is refused too, and named (projectlock.go).
		pl, err := lockProject(ctx, proj)
		if err != nil {
			return nil, nil, &exitError{code: exitFailed, err: err}
		}
		l, err := statedir.AcquireLock(store.Dir(), proj.Name, nil)
		if err != nil {
			pl.Release()
			return nil, nil, &exitError{code: exitFailed, err: err}
		}
		release = func() { l.Release(); pl.Release() }
	}
	index := make(chan *fingerprint.Index, 1)
	go func() { index <- fingerprint.LoadIndex(store.IndexPath(), nil) }()
	eng, closeEngine, err := dialEngine(ctx, con, !changing)
	if err != nil {
		release()
		return nil, nil, err
	}
	detect := docker.DetectComposeCached
	if !mayRunCompose(proj, changing) {
		detect = docker.InspectCompose
	}
	var run docker.Runner = docker.Names{} // a dry run without a Compose CLI only needs image names
	builder := docker.DefaultBuilder
	runner, err := detect(ctx, proj.Settings.ComposeCommand, docker.FlavorCachePath(store.Dir()))
	switch {
	case err == nil:
		runner.ProjectArgs = docker.ProjectArgs(g.project, proj.Name)
		runner.Children = children // stopped by a second signal (signals.go)
		runner.Dir = g.project.WorkDir
		runner.Progress = con.progress
		run, builder = runner, docker.ChooseBuilder(proj.Settings.Builder, runner)
	case changing:
		closeEngine()
		release()
		return nil, nil, &exitError{code: exitFailed, err: err}
	}
	rec := &rebuild.Reconciler{
		Project: proj, Sources: onceSources(proj, builder.Dialect), Runner: run, Engine: eng,
		Store: store, Index: <-index, Log: con.log,
		Out: con.buildOut, WaitTimeout: onceWaitTimeout,
	}
	if v, ok := eng.(docker.Volumes); ok {
		rec.Volumes = v // refreshes the volumes that hide a new image's files
	}
	if l, ok := eng.(docker.Live); ok {
		rec.Live = l // live updates, and what a new image holds where they removed files
	}
	if !changing {
		rec.Store = fingerprint.NewOverlay(store) // decides like a real run; writes nothing
	}
	return rec, func() { closeEngine(); release() }, nil
}

// dialEngine connects to the engine. A dry run goes on without one, and
// says so: it decides from the records alone.
func dialEngine(ctx context.Context, con *console, dry bool) (docker.Engine, func(), error) {
	pingCtx, cancel := context.WithTimeout(ctx, enginePingTimeout)
	engine, err := docker.NewDockerEngine(pingCtx)
	cancel()
	switch {
	case err != nil && dry:
		con.log.Warn("the Docker engine does not answer: deciding from the records alone (images and containers not checked)", zap.Error(err))
		return nil, func() {}, nil
	case err != nil:
		return nil, nil, &exitError{code: exitFailed, err: err}
	}
	return engine, func() { engine.Close() }, nil
}

// openStore opens --state-dir, or the default under the user cache dir.
func openStore(dir string, proj *config.Project) (*fingerprint.Store, error) {
	if dir == "" {
		var err error
		if dir, err = statedir.Default(proj.Name, proj.Dir); err != nil {
			return nil, err
		}
	}
	var contexts []string
	for _, s := range proj.BuildServices() {
		contexts = append(contexts, s.Build.Context)
	}
	return fingerprint.OpenStore(dir, contexts)
}

// onceSources reads a service's layer model (Dockerfile and ignore file,
// the latter as builder d reads it).
func onceSources(proj *config.Project, d ignore.Dialect) func(config.Service) (fingerprint.Source, error) {
	return func(svc config.Service) (fingerprint.Source, error) {
		model, err := dockerfile.LoadWith(svc, proj.Settings.Services[svc.Name], d)
		if err != nil {
			return fingerprint.Source{}, err
		}
		return fingerprint.SourceOf(svc, model), nil
	}
}

// onceError maps run errors: bad input is exit 2 (main maps InputError),
// everything else (engine, state dir) exit 1.
func onceError(err error) error {
	var ie *config.InputError
	if errors.As(err, &ie) {
		return err
	}
	return &exitError{code: exitFailed, err: err}
}

// onceExit: 1 when anything failed; for --check, 3 when something is
// stale, else 4 when something is unknown (no record says what its image
// holds; one `rebuildd --once` records it).
func onceExit(out []rebuild.Outcome, check bool) error {
	code := exitOK
	for _, o := range out {
		switch {
		case o.Status == rebuild.StatusFailed:
			return &exitError{code: exitFailed}
		case check && o.Status == rebuild.StatusStale:
			code = exitStale
		case check && o.Status == rebuild.StatusUnknown && code == exitOK:
			code = exitUnknown
		}
	}
	if code != exitOK {
		return &exitError{code: code}
	}
	return nil
}

// onceJSON is the --json document.
type onceJSON struct {
	Services []onceJSONService `json:"services"`
}

type onceJSONService struct {
	Service string `json:"service"`
	Status  string `json:"status"`
	Reason  string `json:"reason,omitempty"`
}

// printOutcomes prints one line per service (or JSON) on stdout, and the
// tail of every failed build on stderr (nil: the output was streamed).
func printOutcomes(stdout, stderr io.Writer, out []rebuild.Outcome, asJSON bool) error {
	printed := map[string]bool{} // services sharing an image share its build's failure
	for _, o := range out {
		tail := strings.Join(o.Tail, "\n")
		if len(o.Tail) == 0 || stderr == nil || printed[tail] {
			continue
		}
		printed[tail] = true
		fmt.Fprintf(stderr, "rebuildd: last lines of the failed build of %s:\n", o.Service)
		for _, l := range docker.FailureLines(o.Tail) {
			fmt.Fprintf(stderr, "  %s | %s\n", o.Service, escape.Line(l)) // a build echoes the project's text
		}
	}
	if asJSON {
		doc := onceJSON{Services: []onceJSONService{}}
		for _, o := range out {
			doc.Services = append(doc.Services, onceJSONService{Service: o.Service, Status: o.Status, Reason: o.Reason})
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(doc)
	}
	for _, o := range out {
		if o.Reason != "" {
			fmt.Fprintf(stdout, "%s: %s (%s)\n", o.Service, o.Status, escape.Shorten(escape.Line(o.Reason))) // reasons name files
		} else {
			fmt.Fprintf(stdout, "%s: %s\n", o.Service, o.Status)
		}
	}
	return nil
}
