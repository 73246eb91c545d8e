package rebuild

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/rebuildd/rebuildd/config"
	"github.com/rebuildd/rebuildd/docker"
	"github.com/rebuildd/rebuildd/fingerprint"
	"github.com/rebuildd/rebuildd/internal/testfs"
)

// rig is a project on a fake engine and fake compose.
type rig struct {
	dir    string
	clock  time.Time
	engine *docker.FakeEngine
	runner *docker.FakeRunner
	rec    *Reconciler
	out    bytes.Buffer
}

// newRig: api builds ./api (package.json is deps, src/ is source) with an
// anonymous volume; extra services are added by the caller.
func newRig(t *testing.T, extra ...config.Service) *rig {
	t.Helper()
	r := &rig{dir: t.TempDir(), clock: time.Now().Add(time.Hour)}
	testfs.Write(t, r.dir, "api/Dockerfile", "FROM base\n")
	testfs.Write(t, r.dir, "api/package.json", "{}")
	testfs.Write(t, r.dir, "api/src/app.js", "1")
	svcs := append([]config.Service{{Name: "api", AnonVolumes: []string{"/app/node_modules"},
		Build: &config.Build{Context: filepath.Join(r.dir, "api"), Dockerfile: filepath.Join(r.dir, "api/Dockerfile")}}}, extra...)
	proj := &config.Project{Name: "proj", Dir: r.dir, Services: svcs}
	r.engine = docker.NewFakeEngine()
	tags := map[string]string{}
	for _, s := range svcs {
		tags[s.Name] = s.Image
		if s.Image == "" {
			tags[s.Name] = "proj-" + s.Name
		}
	}
	r.runner = docker.NewFakeRunner(r.engine, tags, r.now)
	store, err := fingerprint.OpenStore(filepath.Join(t.TempDir(), "state"), nil)
	if err != nil {
		t.Fatal(err)
	}
	// api's container mounts an anonymous node_modules volume over files
	// of its image: the one volume a deps rebuild refreshes.
	r.engine.Vols["api"] = []docker.FakeVolume{{Name: strings.Repeat("a", 64), Path: "/app/node_modules", Anon: true}}
	r.engine.Filled["proj-api"] = []string{"/app/node_modules"}
	r.rec = &Reconciler{Project: proj, Runner: r.runner, Engine: r.engine, Volumes: r.engine, Store: store,
		Index: fingerprint.NewIndex(r.now), Log: zap.NewNop(), Out: &r.out, Now: r.now, WaitTimeout: time.Minute,
		Sources: func(s config.Service) (fingerprint.Source, error) {
			return fingerprint.Source{Service: s.Name, Context: s.Build.Context, Dockerfile: s.Build.Dockerfile,
				Classify: &fingerprint.FakeClassifier{Context: s.Build.Context, Impacts: map[string]string{
					"package.json": "deps:RUN npm ci", "src/": "source", "site/": "live"}},
				Binds: []string{"./site:/www"}, Mounts: "./site"}, nil
		}}
	return r
}

func (r *rig) now() time.Time { return r.clock }

// tick moves the clock so built images are newer than what came before.
func (r *rig) tick() { r.clock = r.clock.Add(time.Minute) }

func (r *rig) once(t *testing.T, names ...string) map[string]Outcome {
	t.Helper()
	r.tick()
	out, err := r.rec.Run(context.Background(), names)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]Outcome{}
	for _, o := range out {
		m[o.Service] = o
	}
	return m
}

func (r *rig) calls(t *testing.T, want ...string) {
	t.Helper()
	got := r.runner.TakeCalls()
	if len(got) == 0 && len(want) == 0 {
		return
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("compose calls = %q, want %q", got, want)
	}
}

func status(t *testing.T, got map[string]Outcome, service, want string) {
	t.Helper()
	if got[service].Status != want {
		t.Errorf("%s: status %q (%s), want %q", service, got[service].Status, got[service].Reason, want)
	}
}

func TestRunFreshThenUpToDate(t *testing.T) {
	r := newRig(t)
	got := r.once(t)
	r.calls(t, "build api", "up api")
	status(t, got, "api", StatusRebuilt)
	if got["api"].Reason != "image missing" {
		t.Errorf("reason = %q", got["api"].Reason)
	}
	if !strings.Contains(r.out.String(), "api | built api") {
		t.Errorf("build output not prefixed: %q", r.out.String())
	}
	got = r.once(t)
	r.calls(t)
	status(t, got, "api", StatusUpToDate)
}

func TestRunSourceEditRebuildsWithoutRenew(t *testing.T) {
	r := newRig(t)
	r.once(t)
	r.calls(t, "build api", "up api")
	testfs.Write(t, r.dir, "api/src/app.js", "2")
	got := r.once(t)
	r.calls(t, "build api", "up api")
	status(t, got, "api", StatusRebuilt)
	if want := "src/app.js changed (source layer)"; got["api"].Reason != want {
		t.Errorf("reason = %q, want %q", got["api"].Reason, want)
	}
}

func TestRunSameImageIDSkipsRecreate(t *testing.T) {
	r := newRig(t)
	r.once(t)
	r.calls(t, "build api", "up api")
	testfs.Write(t, r.dir, "api/src/app.js", "2")
	r.runner.SameID["api"] = true
	got := r.once(t)
	r.calls(t, "build api")
	status(t, got, "api", StatusRebuilt)
}

func TestRunFailedBuildKeepsContainer(t *testing.T) {
	r := newRig(t)
	r.once(t)
	r.calls(t, "build api", "up api")
	before, _ := r.engine.Containers(context.Background(), "proj")
	testfs.Write(t, r.dir, "api/src/app.js", "2")
	r.runner.Fail["api"] = "step 1\nstep 2\nERROR: no such file\n"
	got := r.once(t)
	r.calls(t, "build api")
	status(t, got, "api", StatusFailed)
	if tail := got["api"].Tail; len(tail) != 3 || tail[2] != "ERROR: no such file" {
		t.Errorf("tail = %q", tail)
	}
	after, _ := r.engine.Containers(context.Background(), "proj")
	if !reflect.DeepEqual(before, after) {
		t.Errorf("containers changed after a failed build: %v -> %v", before, after)
	}
	// Still stale next time: the failed build recorded nothing.
	delete(r.runner.Fail, "api")
	r.once(t)
	r.calls(t, "build api", "up api")
}

func TestRunSharedImageBuiltOnce(t *testing.T) {
	shared := func(s config.Service) config.Service { s.Image = "shared:dev"; return s }
	r := newRig(t, config.Service{Name: "web", Image: "shared:dev"})
	api := r.rec.Project.Services[0]
	api.AnonVolumes = nil
	worker := api
	worker.Name = "worker"
	r.rec.Project.Services = []config.Service{shared(api), r.rec.Project.Services[1], shared(worker)}
	for _, s := range []string{"api", "web", "worker"} {
		r.runner.Tags[s] = "shared:dev"
	}
	got := r.once(t)
	r.calls(t, "build api", "up api web worker")
	status(t, got, "api", StatusRebuilt)
	status(t, got, "worker", StatusRebuilt)
	status(t, got, "web", StatusRecreated)
	r.once(t)
	r.calls(t)
}

// An image under the service's tag that rebuildd did not build says
// nothing about the sources (never a timestamp): one build finds out, and
// a cached build that gives the image already there recreates nothing.
func TestRunBuiltByHandBuildsOnceAndRecordsIt(t *testing.T) {
	r := newRig(t)
	r.engine.SetImage("proj-api", "sha256:byhand")
	r.engine.Run("api", "sha256:byhand")
	out, err := r.rec.Check(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if out[0].Status != StatusUnknown {
		t.Errorf("check: %+v, want unknown", out[0])
	}
	r.runner.SameID["api"] = true // BuildKit's cache: the same inputs give the same image
	got := r.once(t)
	r.calls(t, "build api")
	status(t, got, "api", StatusUpToDate)
	if want := "recorded: a build from the current sources gave the image the containers run"; got["api"].Reason != want {
		t.Errorf("reason = %q, want %q", got["api"].Reason, want)
	}
	r.once(t)
	r.calls(t)
	if out, _ := r.rec.Check(context.Background(), nil); out[0].Status != StatusUpToDate {
		t.Errorf("check after --once: %+v", out[0])
	}
}

// An image built by hand from other content: the build gives another
// image, and the containers are recreated from it, with the volume that
// hides its files refreshed (the cause is unknown: it may be deps).
func TestRunBuiltByHandFromOtherContentRecreates(t *testing.T) {
	r := newRig(t)
	r.once(t)
	r.calls(t, "build api", "up api")
	r.engine.SetImage("proj-api", "sha256:byhand")
	r.engine.Run("api", "sha256:byhand")
	got := r.once(t)
	r.calls(t, "build api", "up -V api")
	status(t, got, "api", StatusRebuilt)
	r.once(t)
	r.calls(t)
}

// A bind-mounted edit is delivered: --once does nothing, --check agrees,
// and only --images calls the image stale.
func TestRunLiveEditIsUpToDateUnlessImages(t *testing.T) {
	r := newRig(t)
	testfs.Write(t, r.dir, "api/site/index.html", "1")
	r.once(t)
	r.calls(t, "build api", "up api")
	testfs.Write(t, r.dir, "api/site/index.html", "2")
	got := r.once(t)
	r.calls(t)
	status(t, got, "api", StatusUpToDate)
	if !strings.Contains(got["api"].Reason, "live in the containers (bind-mounted: ./site:/www)") {
		t.Errorf("reason = %q", got["api"].Reason)
	}
	r.rec.Policy.Images = true
	out, err := r.rec.Check(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if out[0].Status != StatusStale || out[0].Reason != "site/index.html changed (source layer)" {
		t.Errorf("check --images: %+v", out[0])
	}
}

// A container left Created by an interrupted recreate is brought up, and
// so is one whose recreate never reported back.
func TestRunRepairsInterruptedRecreate(t *testing.T) {
	r := newRig(t)
	r.once(t)
	r.calls(t, "build api", "up api")
	r.engine.List[0].State = "created"
	got := r.once(t)
	r.calls(t, "up api")
	status(t, got, "api", StatusRecreated)

	if err := r.rec.Store.BeginRecreate([]string{"api"}); err != nil { // as if killed during up
		t.Fatal(err)
	}
	got = r.once(t)
	r.calls(t, "up api")
	status(t, got, "api", StatusRecreated)
	if r.rec.Store.Recreating("api") {
		t.Error("the journal still marks api after a finished up")
	}
	r.once(t)
	r.calls(t)
}

func TestRunNoContainerUps(t *testing.T) {
	r := newRig(t)
	r.once(t)
	r.calls(t, "build api", "up api")
	r.engine.List = nil // docker compose down without --rmi
	got := r.once(t)
	r.calls(t, "up api")
	status(t, got, "api", StatusRecreated)
}

func TestRunWaitFailureFails(t *testing.T) {
	r := newRig(t)
	r.engine.WaitFn = func(id string) error { return errors.New("container c1 exited with code 1") }
	got := r.once(t)
	status(t, got, "api", StatusFailed)
}

func TestCheckChangesNothing(t *testing.T) {
	r := newRig(t)
	out, err := r.rec.Check(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	r.calls(t)
	if len(out) != 1 || out[0].Status != StatusStale || out[0].Reason != "image missing" {
		t.Errorf("check = %+v", out)
	}
	if rec, _ := r.rec.Store.Load("api"); rec != nil {
		t.Errorf("check wrote a record: %+v", rec)
	}
}

func TestSelectUnknownServiceIsInputError(t *testing.T) {
	r := newRig(t)
	_, err := r.rec.Run(context.Background(), []string{"nope"})
	var ie *config.InputError
	if !errors.As(err, &ie) {
		t.Fatalf("err = %v, want InputError", err)
	}
}

// A damaged record is no record: the service is unknown (never judged by
// a file's age), --once builds it once and records it again.
func TestRunDamagedRecordIsUnknown(t *testing.T) {
	r := newRig(t)
	r.once(t)
	r.calls(t, "build api", "up api")
	testfs.Write(t, r.dir, "api/src/app.js", "2")
	recs, err := filepath.Glob(filepath.Join(r.rec.Store.(*fingerprint.Store).Dir(), "*", "service-api.json"))
	if err != nil || len(recs) != 1 {
		t.Fatalf("record file: %v %v", recs, err)
	}
	if err := os.WriteFile(recs[0], []byte("{damaged"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := r.rec.Check(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if out[0].Status != StatusUnknown {
		t.Errorf("check with a damaged record: %+v, want unknown", out[0])
	}
	got := r.once(t)
	r.calls(t, "build api", "up -V api")
	status(t, got, "api", StatusRebuilt)
	if out, _ := r.rec.Check(context.Background(), nil); out[0].Status != StatusUpToDate {
		t.Errorf("check after --once: %+v", out[0])
	}
}
