package rebuild

import (
	"reflect"
	"testing"
	"time"

	"github.com/rebuildd/rebuildd/docker"
	"github.com/rebuildd/rebuildd/fingerprint"
)

var (
	t0      = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	imgOld  = &docker.Image{ID: "sha256:old", Created: t0}
	running = []docker.Container{{ID: "c1", Service: "api", ImageID: "sha256:old", State: "running"}}
)

// printOf is a print with the given files; Sum follows the content.
func printOf(newest time.Time, files map[string]fingerprint.FileSum) *fingerprint.Print {
	p := &fingerprint.Print{Files: files, Parts: fingerprint.Parts{Dockerfile: "df1"}, Newest: newest, NewestPath: "src/app.js"}
	p.Seal()
	return p
}

var (
	filesV1 = map[string]fingerprint.FileSum{
		"package-lock.json": {Sum: "a1", Impact: "deps", Why: "deps layer, RUN npm ci"},
		"src/app.js":        {Sum: "b1", Impact: "source", Why: "source layer"},
	}
	filesDeps = map[string]fingerprint.FileSum{
		"package-lock.json": {Sum: "a2", Impact: "deps", Why: "deps layer, RUN npm ci"},
		"src/app.js":        {Sum: "b1", Impact: "source", Why: "source layer"},
	}
	filesSrc = map[string]fingerprint.FileSum{
		"package-lock.json": {Sum: "a1", Impact: "deps", Why: "deps layer, RUN npm ci"},
		"src/app.js":        {Sum: "b2", Impact: "source", Why: "source layer"},
		"src/new.js":        {Sum: "c1", Impact: "source", Why: "source layer"},
	}
)

func recordOf(p *fingerprint.Print, imageID string) *fingerprint.Record {
	return &fingerprint.Record{Service: "api", Fingerprint: p.Sum, ImageID: imageID, Parts: p.Parts}
}

// oldFormat is r as written before the folds: no layer digests, and a
// Sum computed another way.
func oldFormat(r *fingerprint.Record) *fingerprint.Record {
	r.Fingerprint, r.Parts.Deps, r.Parts.Source = "sorted-lines-sum", "", ""
	return r
}

func unsettled(r *fingerprint.Record, layer string) *fingerprint.Record {
	r.Unsettled = layer
	return r
}

func apiInput(p *fingerprint.Print, rec *fingerprint.Record, img *docker.Image, cs []docker.Container) Input {
	return Input{Service: "api", Tag: "proj-api", Build: true, Print: p, Record: rec, Image: img,
		Containers: cs, Files: func() (map[string]fingerprint.FileSum, error) { return filesV1, nil }}
}

func TestPlanStaleness(t *testing.T) {
	v1 := printOf(t0.Add(-time.Hour), filesV1)
	dfChanged := printOf(t0.Add(-time.Hour), filesV1)
	dfChanged.Parts.Dockerfile = "df2"
	dfChanged.Seal()
	tests := []struct {
		name string
		in   Input
		want Decision
	}{
		{"up to date", apiInput(v1, recordOf(v1, "sha256:old"), imgOld, running),
			Decision{}},
		{"image missing", apiInput(v1, recordOf(v1, "sha256:old"), nil, running),
			Decision{Build: true, Builder: true, Recreate: true, Impacts: []string{"image missing"}, Reason: "image missing"}},
		{"deps changed", apiInput(printOf(t0, filesDeps), recordOf(v1, "sha256:old"), imgOld, running),
			Decision{Build: true, Builder: true, Recreate: true, Impacts: []string{"deps"},
				Reason: "package-lock.json changed (deps layer, RUN npm ci)"}},
		{"source changed", apiInput(printOf(t0, filesSrc), recordOf(v1, "sha256:old"), imgOld, running),
			Decision{Build: true, Builder: true, Recreate: true, Impacts: []string{"source"},
				Reason: "src/app.js changed (source layer), src/new.js added (source layer)"}},
		{"Dockerfile changed", apiInput(dfChanged, recordOf(v1, "sha256:old"), imgOld, running),
			Decision{Build: true, Builder: true, Recreate: true, Impacts: []string{"dockerfile"}, Reason: "Dockerfile changed"}},
		{"no record, inputs older: adopt", apiInput(v1, nil, imgOld, running),
			Decision{Adopt: true, Impacts: []string{"adopted"}}},
		{"no record, an input newer", apiInput(printOf(t0.Add(time.Second), filesV1), nil, imgOld, running),
			Decision{Build: true, Builder: true, Recreate: true, Impacts: []string{"dockerfile"},
				Reason: "src/app.js is newer than the image"}},
		{"built by hand: adopt, recreate only",
			apiInput(v1, recordOf(v1, "sha256:older"), imgOld,
				[]docker.Container{{ID: "c1", Service: "api", ImageID: "sha256:older"}}),
			Decision{Adopt: true, Recreate: true, Impacts: []string{"adopted"}, Reason: "container runs an older image"}},
		{"no container", apiInput(v1, recordOf(v1, "sha256:old"), imgOld, nil),
			Decision{Recreate: true, Reason: "no container"}},
		{"record from before the folds, same inputs: adopt again", apiInput(v1, oldFormat(recordOf(v1, "sha256:old")), imgOld, running),
			Decision{Adopt: true, Impacts: []string{"adopted"}}},
		{"record from before the folds, a file changed", apiInput(printOf(t0, filesSrc), oldFormat(recordOf(v1, "sha256:old")), imgOld, running),
			Decision{Build: true, Builder: true, Recreate: true, Impacts: []string{"source"},
				Reason: "src/app.js changed (source layer), src/new.js added (source layer)"}},
		{"deps edited and reverted during the last build", apiInput(v1, unsettled(recordOf(v1, "sha256:old"), "deps"), imgOld, running),
			Decision{Build: true, Builder: true, Recreate: true, Recheck: true, Impacts: []string{"deps"},
				Reason: "deps files changed while the last build ran; building again so the image holds what is on disk"}},
		{"deps edited during the last build, then source", apiInput(printOf(t0, filesSrc), unsettled(recordOf(v1, "sha256:old"), "deps"), imgOld, running),
			Decision{Build: true, Builder: true, Recreate: true, Impacts: []string{"deps", "source"},
				Reason: "src/app.js changed (source layer), src/new.js added (source layer)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Plan([]Input{tt.in})
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

func TestPlanRenewsAnonVolumesOnlyForDepsOrDockerfile(t *testing.T) {
	v1 := printOf(t0.Add(-time.Hour), filesV1)
	tests := []struct {
		name  string
		print *fingerprint.Print
		anon  bool
		want  bool
	}{
		{"deps, anon volume", printOf(t0, filesDeps), true, true},
		{"deps, no anon volume", printOf(t0, filesDeps), false, false},
		{"source, anon volume", printOf(t0, filesSrc), true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := apiInput(tt.print, recordOf(v1, "sha256:old"), imgOld, running)
			in.AnonVolumes = tt.anon
			got, _ := Plan([]Input{in})
			if got[0].RenewAnon != tt.want {
				t.Errorf("RenewAnon = %v, want %v", got[0].RenewAnon, tt.want)
			}
		})
	}
}

func TestPlanSharedImageBuildsOnce(t *testing.T) {
	v1 := printOf(t0.Add(-time.Hour), filesV1)
	changed := printOf(t0, filesSrc)
	api := apiInput(changed, recordOf(v1, "sha256:old"), imgOld, running)
	api.Tag = "shared:dev"
	worker := api
	worker.Service = "worker"
	web := Input{Service: "web", Tag: "shared:dev", Image: imgOld,
		Containers: []docker.Container{{ID: "c3", Service: "web", ImageID: "sha256:old"}}}
	other := apiInput(v1, recordOf(v1, "sha256:old"), imgOld, running)
	other.Service = "other"
	got, err := Plan([]Input{api, other, web, worker})
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

func TestChangeReasonNamesFirstFewDepsFirst(t *testing.T) {
	old := map[string]fingerprint.FileSum{"a.js": {Sum: "1", Impact: "source"}, "gone.js": {Sum: "1", Impact: "source"}}
	cur := map[string]fingerprint.FileSum{
		"a.js":   {Sum: "2", Impact: "source", Why: "source layer"},
		"b.js":   {Sum: "1", Impact: "source", Why: "source layer"},
		"c.js":   {Sum: "1", Impact: "source", Why: "source layer"},
		"go.sum": {Sum: "1", Impact: "deps", Why: "deps layer, RUN go mod download"},
	}
	p := printOf(t0, cur)
	in := Input{Print: p, Record: &fingerprint.Record{Parts: p.Parts},
		Files: func() (map[string]fingerprint.FileSum, error) { return old, nil }}
	reason, impacts, err := changeReason(in)
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
