package rebuild

import (
	"maps"
	"reflect"
	"testing"
	"time"

	"github.com/rebuildd/rebuildd/docker"
	"github.com/rebuildd/rebuildd/fingerprint"
)

var (
	t0      = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	imgOld  = &docker.Image{ID: "sha256:old"}
	running = []docker.Container{{ID: "c1", Name: "proj-api-1", Service: "api", ImageID: "sha256:old", State: "running"}}
)

// printOf is a print with the given files; Sum follows the content.
func printOf(files map[string]fingerprint.FileSum) *fingerprint.Print {
	p := &fingerprint.Print{Files: files, Parts: fingerprint.Parts{Dockerfile: "df1", Mounts: "m1"}}
	p.Seal()
	return p
}

var (
	filesV1 = map[string]fingerprint.FileSum{
		"package-lock.json": {Sum: "a1", Impact: "deps", Why: "deps layer, RUN npm ci"},
		"src/app.js":        {Sum: "b1", Impact: "source", Why: "source layer"},
		"site/index.html":   {Sum: "d1", Impact: "source", Why: "source layer", Live: true},
	}
	filesDeps = with(filesV1, "package-lock.json", fingerprint.FileSum{Sum: "a2", Impact: "deps", Why: "deps layer, RUN npm ci"})
	filesSrc  = with(with(filesV1, "src/app.js", fingerprint.FileSum{Sum: "b2", Impact: "source", Why: "source layer"}),
		"src/new.js", fingerprint.FileSum{Sum: "c1", Impact: "source", Why: "source layer"})
	filesLive = with(filesV1, "site/index.html", fingerprint.FileSum{Sum: "d2", Impact: "source", Why: "source layer", Live: true})
)

// with is files with rel set to f.
func with(files map[string]fingerprint.FileSum, rel string, f fingerprint.FileSum) map[string]fingerprint.FileSum {
	out := maps.Clone(files)
	out[rel] = f
	return out
}

func recordOf(p *fingerprint.Print, imageID string) *fingerprint.Record {
	return &fingerprint.Record{Service: "api", Fingerprint: p.Sum, ImageID: imageID, Parts: p.Parts}
}

// oldFormat is r as written before the folds: no layer digests, and a
// Sum computed another way.
func oldFormat(r *fingerprint.Record) *fingerprint.Record {
	r.Fingerprint, r.Parts.Deps, r.Parts.Source, r.Parts.Baked, r.Parts.Live, r.Parts.Mounts = "sorted-lines-sum", "", "", "", "", ""
	return r
}

// beforeLive is r as written before the live fold: layer digests, no
// Baked, Live or Mounts.
func beforeLive(r *fingerprint.Record) *fingerprint.Record {
	r.Parts.Baked, r.Parts.Live, r.Parts.Mounts = "", "", ""
	return r
}

func otherMounts(r *fingerprint.Record) *fingerprint.Record {
	r.Parts.Mounts = "m0"
	return r
}

func unsettled(r *fingerprint.Record, layer string) *fingerprint.Record {
	r.Unsettled = layer
	return r
}

func apiInput(p *fingerprint.Print, rec *fingerprint.Record, img *docker.Image, cs []docker.Container) Input {
	return Input{Service: "api", Tag: "proj-api", Build: true, Print: p, Record: rec, Image: img,
		Containers: cs, Binds: []string{"./site:/www"},
		Files: func() (map[string]fingerprint.FileSum, error) { return filesV1, nil }}
}

func container(state string, code int) []docker.Container {
	return []docker.Container{{ID: "c1", Name: "proj-api-1", Service: "api", ImageID: "sha256:old", State: state, ExitCode: code}}
}

const syncedWhy = "the containers hold the current sources, synced into them; the image is built from them without recreating them"

var imgNew = &docker.Image{ID: "sha256:new"}

// synced is in with every container's sync mark at sum.
func synced(in Input, sum string) Input {
	in.Synced = map[string]fingerprint.SyncMark{}
	for _, c := range in.Containers {
		in.Synced[c.ID] = fingerprint.SyncMark{Service: "api", Sum: sum}
	}
	return in
}

const liveWhy = "changed source files are live in the containers (bind-mounted: ./site:/www); the image keeps the files it was built with (--images rebuilds it)"

// TestDecide is the decision function's table: every status and reason.
func TestDecide(t *testing.T) {
	v1 := printOf(filesV1)
	dfChanged := printOf(filesV1)
	dfChanged.Parts.Dockerfile = "df2"
	dfChanged.Seal()
	build := func(status, reason string, impacts ...string) Decision {
		return Decision{Status: status, Build: true, Builder: true, Recreate: true, Impacts: impacts, Reason: reason}
	}
	// refresh: the cause may change what the image has under a volume.
	refresh := func(d Decision) Decision { d.RefreshVolumes = true; return d }
	recreate := func(reason string) Decision {
		return Decision{Status: StatusStale, Recreate: true, Reason: reason}
	}
	images := Policy{Images: true}
	unknownWhy := "no record of what image proj-api was built from; a build (cheap from the cache) finds out and records it"
	tests := []struct {
		name string
		in   Input
		pol  Policy
		want Decision
	}{
		{"up to date", apiInput(v1, recordOf(v1, "sha256:old"), imgOld, running), Policy{},
			Decision{Status: StatusUpToDate}},
		{"image missing", apiInput(v1, recordOf(v1, "sha256:old"), nil, running), Policy{},
			refresh(build(StatusStale, "image missing", "image missing"))},
		{"no record: unknown, never a timestamp", apiInput(v1, nil, imgOld, running), Policy{},
			refresh(build(StatusUnknown, unknownWhy, "unknown"))},
		{"image built outside rebuildd: unknown", apiInput(v1, recordOf(v1, "sha256:byhand"), imgOld, running), Policy{},
			refresh(build(StatusUnknown, "image proj-api was built outside rebuildd, not from the inputs rebuildd recorded; a build (cheap from the cache) finds out and records it", "unknown"))},
		{"deps changed", apiInput(printOf(filesDeps), recordOf(v1, "sha256:old"), imgOld, running), Policy{},
			refresh(build(StatusStale, "package-lock.json changed (deps layer, RUN npm ci)", "deps"))},
		{"baked source changed", apiInput(printOf(filesSrc), recordOf(v1, "sha256:old"), imgOld, running), Policy{},
			build(StatusStale, "src/app.js changed (source layer), src/new.js added (source layer)", "source")},
		{"live source changed: delivered", apiInput(printOf(filesLive), recordOf(v1, "sha256:old"), imgOld, running), Policy{},
			Decision{Status: StatusUpToDate, Reason: liveWhy}},
		{"live source changed, --images", apiInput(printOf(filesLive), recordOf(v1, "sha256:old"), imgOld, running), images,
			build(StatusStale, "site/index.html changed (source layer)", "source")},
		{"live source changed, bind mounts changed: file by file", apiInput(printOf(filesLive), otherMounts(recordOf(v1, "sha256:old")), imgOld, running), Policy{},
			Decision{Status: StatusUpToDate, Reason: liveWhy}},
		{"baked source changed, bind mounts changed", apiInput(printOf(filesSrc), otherMounts(recordOf(v1, "sha256:old")), imgOld, running), Policy{},
			build(StatusStale, "src/app.js changed (source layer), src/new.js added (source layer)", "source")},
		{"record before the live fold, live change", apiInput(printOf(filesLive), beforeLive(recordOf(v1, "sha256:old")), imgOld, running), Policy{},
			Decision{Status: StatusUpToDate, Reason: liveWhy}},
		{"Dockerfile changed", apiInput(dfChanged, recordOf(v1, "sha256:old"), imgOld, running), Policy{},
			refresh(build(StatusStale, "Dockerfile changed", "dockerfile"))},
		{"record from before the folds, same inputs: record again", apiInput(v1, oldFormat(recordOf(v1, "sha256:old")), imgOld, running), Policy{},
			Decision{Status: StatusUpToDate, Adopt: true, Impacts: []string{"adopted"}}},
		{"record from before the folds, a file changed", apiInput(printOf(filesSrc), oldFormat(recordOf(v1, "sha256:old")), imgOld, running), Policy{},
			build(StatusStale, "src/app.js changed (source layer), src/new.js added (source layer)", "source")},
		{"deps edited and reverted during the last build", apiInput(v1, unsettled(recordOf(v1, "sha256:old"), "deps"), imgOld, running), Policy{},
			Decision{Status: StatusStale, Build: true, Builder: true, Recreate: true, RefreshVolumes: true, Recheck: true, Impacts: []string{"deps"},
				Reason: "deps files changed while the last build ran; building again so the image holds what is on disk"}},
		{"deps edited during the last build, then source", apiInput(printOf(filesSrc), unsettled(recordOf(v1, "sha256:old"), "deps"), imgOld, running), Policy{},
			refresh(build(StatusStale, "src/app.js changed (source layer), src/new.js added (source layer)", "deps", "source"))},
		{"no container", apiInput(v1, recordOf(v1, "sha256:old"), imgOld, nil), Policy{},
			recreate("no container")},
		{"container runs an older image", apiInput(v1, recordOf(v1, "sha256:old"), imgOld,
			[]docker.Container{{ID: "c1", Name: "proj-api-1", Service: "api", ImageID: "sha256:older", State: "running"}}), Policy{},
			recreate("container proj-api-1 runs an older image")},
		{"container created, never started", apiInput(v1, recordOf(v1, "sha256:old"), imgOld, container("created", 0)), Policy{},
			recreate("container proj-api-1 was created but never started")},
		{"container exited with an error", apiInput(v1, recordOf(v1, "sha256:old"), imgOld, container("exited", 137)), Policy{},
			recreate("container proj-api-1 exited with code 137")},
		{"container finished with code 0", apiInput(v1, recordOf(v1, "sha256:old"), imgOld, container("exited", 0)), Policy{},
			Decision{Status: StatusUpToDate}},
		{"interrupted recreate", func() Input {
			in := apiInput(v1, recordOf(v1, "sha256:old"), imgOld, container("exited", 0))
			in.Interrupted = true
			return in
		}(), Policy{}, recreate("a recreate was interrupted before it finished")},
		{"synced: every running container holds the current print", synced(apiInput(printOf(filesSrc), recordOf(v1, "sha256:old"), imgOld, running), printOf(filesSrc).Sum), Policy{},
			Decision{Status: StatusSynced, Build: true, Builder: true, Recreate: true, Impacts: []string{"synced"}, Reason: syncedWhy}},
		{"synced, --images", synced(apiInput(printOf(filesSrc), recordOf(v1, "sha256:old"), imgOld, running), printOf(filesSrc).Sum), images,
			build(StatusStale, "src/app.js changed (source layer), src/new.js added (source layer); synced into the containers, not yet built into the image", "source")},
		{"synced to an older print", synced(apiInput(printOf(filesSrc), recordOf(v1, "sha256:old"), imgOld, running), "older"), Policy{},
			build(StatusStale, "src/app.js changed (source layer), src/new.js added (source layer)", "source")},
		{"one running container not synced", func() Input {
			in := synced(apiInput(printOf(filesSrc), recordOf(v1, "sha256:old"), imgOld, append(running, docker.Container{ID: "c2", Name: "proj-api-2", Service: "api", ImageID: "sha256:old", State: "running"})), printOf(filesSrc).Sum)
			delete(in.Synced, "c2") // its sync failed, or it started after the sync
			return in
		}(), Policy{}, build(StatusStale, "src/app.js changed (source layer), src/new.js added (source layer)", "source")},
		{"synced, and a stopped container", func() Input {
			return synced(apiInput(printOf(filesSrc), recordOf(v1, "sha256:old"), imgOld, append(running, docker.Container{ID: "c2", Name: "proj-api-2", Service: "api", ImageID: "sha256:old", State: "exited"})), printOf(filesSrc).Sum)
		}(), Policy{}, Decision{Status: StatusSynced, Build: true, Builder: true, Recreate: true, Impacts: []string{"synced"}, Reason: syncedWhy}},
		{"synced, engine not asked: marks unread", func() Input {
			in := synced(apiInput(printOf(filesSrc), recordOf(v1, "sha256:old"), imgOld, running), printOf(filesSrc).Sum)
			in.Unasked = true
			return in
		}(), Policy{}, build(StatusStale, "src/app.js changed (source layer), src/new.js added (source layer)", "source")},
		{"container of an older image holds the current image's print", synced(apiInput(v1, recordOf(v1, "sha256:new"), imgNew, running), v1.Sum), Policy{},
			Decision{Status: StatusUpToDate}},
		{"container of an older image holds it, but removals not compared", func() Input {
			in := synced(apiInput(v1, recordOf(v1, "sha256:new"), imgNew, running), v1.Sum)
			in.Synced["c1"] = fingerprint.SyncMark{Sum: v1.Sum, Removed: []string{"/app/old.js"}}
			return in
		}(), Policy{}, recreate("container proj-api-1 runs an older image")},
		{"container of an older image synced to another print", synced(apiInput(v1, recordOf(v1, "sha256:new"), imgNew, running), "other"), Policy{},
			recreate("container proj-api-1 runs an older image")},
		{"engine not asked, record current", func() Input {
			in := apiInput(v1, recordOf(v1, "sha256:old"), nil, nil)
			in.Unasked = true
			return in
		}(), Policy{}, Decision{Status: StatusUpToDate, Reason: "the Docker engine was not asked: containers not checked"}},
		{"engine not asked, no record", func() Input {
			in := apiInput(v1, nil, nil, nil)
			in.Unasked = true
			return in
		}(), Policy{}, refresh(build(StatusUnknown, unknownWhy, "unknown"))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Plan([]Input{tt.in}, tt.pol)
			if err != nil {
				t.Fatal(err)
			}
			tt.want.Service, tt.want.Tag = "api", "proj-api"
			if !reflect.DeepEqual(got[0], tt.want) {
				t.Errorf("got  %+v\nwant %+v", got[0], tt.want)
			}
		})
	}
}

// Only a build for deps or the Dockerfile (or an unknown cause), or for
// source that a RUN follows, may change what the image has under an
// anonymous volume; which volumes are then
// refreshed is decided after the build (volumes_test.go).
func TestPlanRefreshesVolumesOnlyForDepsOrDockerfile(t *testing.T) {
	v1 := printOf(filesV1)
	tests := []struct {
		name       string
		print      *fingerprint.Print
		sourceRuns bool
		want       bool
	}{
		{"deps", printOf(filesDeps), false, true},
		{"source", printOf(filesSrc), false, false},
		{"source that a RUN follows", printOf(filesSrc), true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := apiInput(tt.print, recordOf(v1, "sha256:old"), imgOld, running)
			in.SourceRuns = tt.sourceRuns
			got, _ := Plan([]Input{in}, Policy{})
			if got[0].RefreshVolumes != tt.want {
				t.Errorf("RefreshVolumes = %v, want %v", got[0].RefreshVolumes, tt.want)
			}
		})
	}
}

func TestPlanSharedImageBuildsOnce(t *testing.T) {
	v1 := printOf(filesV1)
	changed := printOf(filesSrc)
	api := apiInput(changed, recordOf(v1, "sha256:old"), imgOld, running)
	api.Tag = "shared:dev"
	worker := api
	worker.Service = "worker"
	web := Input{Service: "web", Tag: "shared:dev", Image: imgOld,
		Containers: []docker.Container{{ID: "c3", Service: "web", ImageID: "sha256:old"}}}
	other := apiInput(v1, recordOf(v1, "sha256:old"), imgOld, running)
	other.Service = "other"
	got, err := Plan([]Input{api, other, web, worker}, Policy{})
	if err != nil {
		t.Fatal(err)
	}
	type row struct{ build, builder, recreate bool }
	want := map[string]row{"api": {true, true, true}, "other": {}, "web": {true, false, true}, "worker": {true, false, true}}
	for _, d := range got {
		if w := want[d.Service]; (row{d.Build, d.Builder, d.Recreate}) != w {
			t.Errorf("%s: build/builder/recreate = %v/%v/%v, want %+v", d.Service, d.Build, d.Builder, d.Recreate, w)
		}
	}
	if got[2].Reason != "uses image shared:dev, rebuilt for api" {
		t.Errorf("web reason = %q", got[2].Reason)
	}
}

// Containers of every service running the image are synced alike: the
// image converges once, and a service that only names the tag follows it.
func TestPlanSharedImageSynced(t *testing.T) {
	v1, cur := printOf(filesV1), printOf(filesSrc)
	api := apiInput(cur, recordOf(v1, "sha256:old"), imgOld, running)
	web := Input{Service: "web", Tag: "proj-api", Image: imgOld,
		Containers: []docker.Container{{ID: "c3", Name: "proj-web-1", Service: "web", ImageID: "sha256:old", State: "running"}}}
	marks := map[string]fingerprint.SyncMark{"c1": {Sum: cur.Sum}, "c3": {Sum: cur.Sum}}
	api.Synced, web.Synced = marks, marks
	got, err := Plan([]Input{api, web}, Policy{})
	if err != nil {
		t.Fatal(err)
	}
	if got[0].Status != StatusSynced || got[1].Status != StatusSynced || !got[0].Builder || got[1].Builder {
		t.Errorf("api %+v\nweb %+v", got[0], got[1])
	}
	delete(marks, "c3") // web's container was not synced: the stack does not serve the sources
	got, _ = Plan([]Input{api, web}, Policy{})
	if got[0].Status != StatusStale || got[1].Status != StatusStale {
		t.Errorf("api %s, web %s; want stale", got[0].Status, got[1].Status)
	}
	// After the build: web's container holds the print api's image was
	// recorded from, so it needs no recreate.
	web.Image = imgNew
	api.Record, api.Image, api.Print = recordOf(cur, "sha256:new"), imgNew, cur
	marks["c3"] = fingerprint.SyncMark{Sum: cur.Sum}
	got, _ = Plan([]Input{api, web}, Policy{})
	if got[0].Status != StatusUpToDate || got[1].Status != StatusUpToDate {
		t.Errorf("after: api %s (%s), web %s (%s)", got[0].Status, got[0].Reason, got[1].Status, got[1].Reason)
	}
}

func TestChangeReasonNamesFirstFewDepsFirst(t *testing.T) {
	old := map[string]fingerprint.FileSum{"a.js": {Sum: "1", Impact: "source"}, "gone.js": {Sum: "1", Impact: "source"}}
	cur := map[string]fingerprint.FileSum{
		"a.js":   {Sum: "2", Impact: "source", Why: "source layer"},
		"b.js":   {Sum: "1", Impact: "source", Why: "source layer"},
		"c.js":   {Sum: "1", Impact: "source", Why: "source layer"},
		"go.sum": {Sum: "1", Impact: "deps", Why: "deps layer, RUN go mod download"},
	}
	p := printOf(cur)
	in := Input{Print: p, Record: &fingerprint.Record{Parts: p.Parts},
		Files: func() (map[string]fingerprint.FileSum, error) { return old, nil }}
	reason, impacts, err := changeReason(in, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := "go.sum added (deps layer, RUN go mod download), a.js changed (source layer), b.js added (source layer), and 2 more"
	if reason != want {
		t.Errorf("reason\n got %q\nwant %q", reason, want)
	}
	if !reflect.DeepEqual(impacts, []string{"deps", "source"}) {
		t.Errorf("impacts = %v", impacts)
	}
}
