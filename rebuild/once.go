package rebuild

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/rebuildd/rebuildd/config"
	"github.com/rebuildd/rebuildd/docker"
	"github.com/rebuildd/rebuildd/dockerfile"
	"github.com/rebuildd/rebuildd/fingerprint"
)

// Outcome is what --once did (or, dry, would do) to one service.
type Outcome struct {
	Service  string
	Status   string
	Reason   string
	Decision Decision
	Tail     []string // last lines of a failed build's output
	// Containers are the ones a recreate brought up, by short name
	// ("api-1"), for the log.
	Containers []string
}

// Reconciler brings a project's images and containers in step with their
// sources once: fingerprint, decide, build, recreate, record. Watch mode
// reuses it for its start-up reconcile and for every change it decides.
type Reconciler struct {
	Project *config.Project
	// Sources describes a build service's inputs (cmd wires it to
	// dockerfile.Load and ignore.Load).
	Sources func(config.Service) (fingerprint.Source, error)
	Runner  docker.Runner
	// Engine is read for images and containers; nil when it was not asked
	// (a dry run without an engine): decisions then say what they could
	// not know.
	Engine docker.Engine
	// Volumes looks into volumes and images and refreshes a volume after a
	// rebuild; nil refreshes nothing (volumes.go).
	Volumes docker.Volumes
	// Live answers what an image holds where syncs removed files, so a
	// synced container is spared its recreate only when the new image
	// agrees (converge.go); nil recreates every container with removals.
	Live        docker.Live
	Store       fingerprint.Records
	Policy      Policy
	Index       *fingerprint.Index
	Log         *zap.Logger
	Out         io.Writer // build output, prefixed per service; nil: quiet
	Now         func() time.Time
	WaitTimeout time.Duration // for a recreated container to run (and be healthy)
	// Prints, when set, fingerprints a source instead of a walk of its
	// context: watch mode keeps prints current from the watcher's events.
	Prints func(ctx context.Context, src fingerprint.Source) (*fingerprint.Print, error)
	// Brief reasons name the changed layers, not files, so a stale check
	// never loads the stored per-file sums (megabytes for a large context)
	// just for a reason before its build starts; watch mode names the
	// files itself.
	Brief bool
	// Unsettled, when set, says whether a file of the print's layer
	// changed after the print was taken (watch mode knows from its
	// events); the record of a build from it is then marked unsettled.
	Unsettled func(*fingerprint.Print) dockerfile.Impact
}

// Select returns the services --once acts on: the named ones (all
// build services when none are named) plus every service sharing an image
// tag with them, since a tag is built once and runs everywhere it is named.
// An unknown name is an InputError.
func (r *Reconciler) Select(names []string) ([]config.Service, error) {
	byName := map[string]config.Service{}
	for _, s := range r.Project.Services {
		if !r.Project.Settings.Services[s.Name].Exclude {
			byName[s.Name] = s
		}
	}
	want := map[string]bool{}
	for _, n := range names {
		if _, ok := byName[n]; !ok {
			return nil, &config.InputError{Msg: fmt.Sprintf("no service %q in project %s: run `docker compose config --services` to list them", n, r.Project.Name)}
		}
		want[n] = true
	}
	tags := map[string]bool{}
	for _, s := range byName {
		if (len(names) == 0 && s.Build != nil) || want[s.Name] {
			tags[r.tag(s)] = true
		}
	}
	var out []config.Service
	for _, s := range r.Project.Services {
		if _, ok := byName[s.Name]; ok && tags[r.tag(s)] {
			out = append(out, s)
		}
	}
	return out, nil
}

// tag is the image a service runs: image:, else compose's default name.
func (r *Reconciler) tag(s config.Service) string {
	if s.Image != "" {
		return s.Image
	}
	return r.Runner.ImageName(r.Project.Name, s.Name)
}

// Inputs gathers what Plan needs: fingerprints, records, images, containers.
// The engine queries run while the fingerprints are taken: in watch mode
// they are most of the time between a saved file and its build command.
func (r *Reconciler) Inputs(ctx context.Context, svcs []config.Service) ([]Input, error) {
	var (
		wg     sync.WaitGroup
		all    []docker.Container
		images = make([]*docker.Image, len(svcs))
		errs   = make([]error, len(svcs)+1) // the container query's, then each image's
	)
	if r.Engine != nil {
		wg.Add(len(svcs) + 1)
		go func() {
			defer wg.Done()
			all, errs[0] = r.Engine.Containers(ctx, r.Project.Name)
		}()
		for i, s := range svcs {
			go func() {
				defer wg.Done()
				images[i], errs[i+1] = r.Engine.Image(ctx, r.tag(s))
			}()
		}
	}
	inputs := make([]Input, 0, len(svcs))
	var buildErr error
	for _, s := range svcs {
		in := Input{Service: s.Name, Tag: r.tag(s), Build: s.Build != nil, AnonVolumes: s.AnonVolumes,
			Unasked: r.Engine == nil, Interrupted: r.Store.Recreating(s.Name), Brief: r.Brief}
		if in.Build {
			if buildErr = r.buildInputs(ctx, s, &in); buildErr != nil {
				break
			}
		}
		inputs = append(inputs, in)
	}
	wg.Wait()
	// The container query's error first, and only one: an unreachable
	// engine fails every query with the same message.
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	if buildErr != nil {
		return nil, buildErr
	}
	byService := map[string][]docker.Container{}
	for _, c := range all {
		byService[c.Service] = append(byService[c.Service], c)
	}
	marks, err := r.Store.SyncMarks()
	if err != nil {
		return nil, err
	}
	for i := range inputs {
		inputs[i].Image, inputs[i].Containers, inputs[i].Synced = images[i], byService[inputs[i].Service], marks
	}
	return inputs, nil
}

func (r *Reconciler) buildInputs(ctx context.Context, s config.Service, in *Input) error {
	src, err := r.Sources(s)
	if err != nil {
		return err
	}
	start := r.now()
	if in.Print, err = r.fingerprint(ctx, src); err != nil {
		return err
	}
	if in.Print, in.Bases, err = r.withBases(ctx, src, in.Print); err != nil {
		return err
	}
	r.Log.Debug("fingerprint", zap.String("service", s.Name), zap.Int("files", len(in.Print.Files)),
		zap.Duration("took", r.now().Sub(start)))
	if in.Record, err = r.Store.Load(s.Name); err != nil {
		return err
	}
	name := s.Name
	in.Files = func() (map[string]fingerprint.FileSum, error) { return r.Store.Files(name) }
	in.Binds = src.Binds
	in.SourceRuns = sourceRuns(src.Classify)
	return nil
}

// sourceRuns: the Dockerfile runs a RUN after one of its source-layer
// inputs (a classifier that is no Dockerfile model says no).
func sourceRuns(c fingerprint.Classifier) bool {
	m, ok := c.(interface{ Analysis() *dockerfile.Analysis })
	if !ok || m.Analysis() == nil {
		return false
	}
	for _, in := range m.Analysis().Inputs {
		if in.Layer == dockerfile.LayerSource && in.RunAfter != nil {
			return true
		}
	}
	return false
}

func (r *Reconciler) fingerprint(ctx context.Context, src fingerprint.Source) (*fingerprint.Print, error) {
	src.Key = r.Store.Key() // the print is compared with the store's records
	if r.Prints != nil {
		return r.Prints(ctx, src)
	}
	return fingerprint.Fingerprint(ctx, src, r.Index)
}

// withBases folds into the print the image IDs of the project images the
// build is FROM (a service built on another service's image), and returns
// their tags for the plan's build order.
func (r *Reconciler) withBases(ctx context.Context, src fingerprint.Source, p *fingerprint.Print) (*fingerprint.Print, []string, error) {
	own := map[string]bool{}
	for _, s := range r.Project.BuildServices() {
		if s.Name != src.Service {
			own[normalTag(r.tag(s))] = true
		}
	}
	ids := map[string]string{}
	var tags []string
	for _, b := range src.Bases {
		t := normalTag(b)
		if !own[t] || ids[t] != "" {
			continue
		}
		ids[t] = "not asked"
		if r.Engine != nil {
			img, err := r.Engine.Image(ctx, t)
			if err != nil {
				return nil, nil, err
			}
			ids[t] = "missing"
			if img != nil {
				ids[t] = img.ID
			}
		}
		tags = append(tags, t)
	}
	return p.WithBases(ids), tags, nil
}

// normalTag writes an image reference the way compose tags it, so "base"
// and "docker.io/library/base:latest" compare equal.
func normalTag(ref string) string {
	ref = strings.TrimPrefix(strings.TrimPrefix(ref, "docker.io/"), "library/")
	if i := strings.LastIndex(ref, ":"); i < 0 || strings.Contains(ref[i:], "/") {
		ref += ":latest"
	}
	return ref
}

func (r *Reconciler) now() time.Time {
	if r.Now == nil {
		return time.Now()
	}
	return r.Now()
}

// Decided is a run's decisions and what they were decided from.
type Decided struct {
	Inputs    []Input
	Decisions []Decision
}

// Decide fingerprints the named services (all build services when none
// are named), asks the engine and the records, and decides: the one
// decision every mode acts on. It logs nothing and changes nothing but
// the stat index in memory.
func (r *Reconciler) Decide(ctx context.Context, names []string) (*Decided, error) {
	svcs, err := r.Select(names)
	if err != nil {
		return nil, err
	}
	inputs, err := r.Inputs(ctx, svcs)
	if err != nil {
		return nil, err
	}
	if len(names) == 0 && len(svcs) == len(r.Project.BuildServices()) {
		r.Index.Prune() // every context was walked: drop paths that left them all
	}
	decisions, err := Plan(inputs, r.Policy)
	if err != nil {
		return nil, err
	}
	return &Decided{Inputs: inputs, Decisions: decisions}, nil
}

// Check decides without changing anything: every service is up to date,
// stale or unknown, with the reason.
func (r *Reconciler) Check(ctx context.Context, names []string) ([]Outcome, error) {
	dec, err := r.Decide(ctx, names)
	if err != nil {
		return nil, err
	}
	r.saveIndex()
	out := make([]Outcome, len(dec.Decisions))
	for i, d := range dec.Decisions {
		// Debug: the caller prints every outcome (--check's summary).
		r.Log.Debug("decision", decisionFields(d)...)
		out[i] = Outcome{Service: d.Service, Status: d.Status, Reason: d.Reason, Decision: d}
	}
	sortOutcomes(out)
	return out, nil
}

// saveIndex persists the stat index. Runs call it after their builds have
// started and finished, not before: writing 50,000 entries would sit
// between a saved file and its build command.
func (r *Reconciler) saveIndex() {
	path := r.Store.IndexPath()
	if path == "" {
		return
	}
	if err := r.Index.Save(path); err != nil {
		r.Log.Warn("index not saved; the next run reads every file again", zap.Error(err))
	}
}

// LogDecision logs one decision as "msg":"decision": info when it acts,
// debug when the service is up to date.
func (r *Reconciler) LogDecision(d Decision, extra ...zap.Field) {
	fields := append(decisionFields(d), extra...)
	if d.Stale() {
		r.Log.Info("decision", fields...)
		return
	}
	r.Log.Debug("decision", fields...)
}

func decisionFields(d Decision) []zap.Field {
	return []zap.Field{zap.String("service", d.Service), zap.String("action", d.Action()),
		zap.String("status", d.Status), zap.String("reason", d.Reason), zap.Strings("impacts", d.Impacts),
		zap.Bool("refresh_volumes", d.RefreshVolumes)}
}

// startOutcomes turns decisions into results before anything ran.
func startOutcomes(decisions []Decision) []Outcome {
	out := make([]Outcome, len(decisions))
	for i, d := range decisions {
		out[i] = Outcome{Service: d.Service, Status: StatusUpToDate, Reason: d.Reason, Decision: d}
	}
	return out
}

// sortOutcomes orders results by service name for stable output.
func sortOutcomes(out []Outcome) {
	sort.Slice(out, func(i, j int) bool { return out[i].Service < out[j].Service })
}

// failure is the reason of a failed service, with what stays as it was:
// the old container only when there is one.
func failure(what string, err error, containers []docker.Container) string {
	msg := err.Error()
	if i := strings.LastIndex(msg, ": "); i >= 0 && strings.HasPrefix(msg[i+2:], "exit status") {
		msg = msg[i+2:]
	}
	for _, c := range containers {
		if c.State == "running" {
			return fmt.Sprintf("%s failed (%s); the old container keeps running", what, msg)
		}
	}
	return fmt.Sprintf("%s failed (%s); the service has no running container", what, msg)
}
