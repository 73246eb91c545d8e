package rebuild

import (
	"errors"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/rebuildd/rebuildd/config"
	"github.com/rebuildd/rebuildd/docker"
	"github.com/rebuildd/rebuildd/dockerfile"
	"github.com/rebuildd/rebuildd/internal/testfs"
)

// anonName is a volume name the engine generates (64 hex digits).
func anonName(c byte) string { return strings.Repeat(string(c), 64) }

// TestClassifyVolumes: which volumes hide the new image's files and are
// refreshed, and why every other one is kept.
func TestClassifyVolumes(t *testing.T) {
	c := docker.Container{ID: "c1", Name: "proj-api-1"}
	anon := []string{"/app/node_modules", "/var/lib/data", "/seeded"}
	declared := []string{"/data", "/seeded", "/named-over-volume"}
	populated := map[string]bool{"/app/node_modules": true, "/seeded": true, "/named-over-volume": true}
	tests := []struct {
		mount   docker.Mount
		refresh bool
		anon    bool
		warn    bool
		why     string
	}{
		{docker.Mount{Volume: anonName('a'), Path: "/app/node_modules"}, true, true, false,
			"it hides the files the new image has at /app/node_modules"},
		{docker.Mount{Volume: anonName('b'), Path: "/var/lib/data"}, false, true, false,
			"the new image has no files at /var/lib/data: what the volume holds is the container's own"},
		{docker.Mount{Volume: anonName('c'), Path: "/data"}, false, true, false,
			"the image declares /data with VOLUME: its content is data"},
		{docker.Mount{Volume: anonName('d'), Path: "/seeded"}, false, true, true,
			"the image declares /seeded with VOLUME: its content is data; the files the new image has there are not copied in"},
		{docker.Mount{Volume: "proj_db", Path: "/named-over-volume"}, false, false, false, "a named volume"},
		{docker.Mount{Volume: "proj_cache", Path: "/cache"}, false, false, false, "a named volume"},
		{docker.Mount{Volume: anonName('e'), Path: "/old-volume"}, false, true, false,
			"an anonymous volume neither in the compose file nor declared by the new image"},
	}
	for _, tt := range tests {
		t.Run(tt.mount.Path, func(t *testing.T) {
			got := classifyVolumes(c, []docker.Mount{tt.mount}, anon, declared, populated)
			want := []volumeFate{{container: c, mount: tt.mount, anonymous: tt.anon, refresh: tt.refresh, warn: tt.warn, why: tt.why}}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got  %+v\nwant %+v", got, want)
			}
		})
	}
}

// TestRenewAll: compose's --renew-anon-volumes only when it renews
// nothing but volumes to refresh.
func TestRenewAll(t *testing.T) {
	refresh := volumeFate{anonymous: true, refresh: true}
	data := volumeFate{anonymous: true}
	named := volumeFate{}
	tests := []struct {
		name             string
		fates            []volumeFate
		renew, refreshes bool
	}{
		{"only node_modules", []volumeFate{refresh}, true, false},
		{"node_modules and a named volume", []volumeFate{refresh, named}, true, false},
		{"node_modules and an anonymous data volume", []volumeFate{refresh, data}, false, true},
		{"only data", []volumeFate{data, named}, false, false},
		{"none", nil, false, false},
	}
	for _, tt := range tests {
		p := &volumePlan{fates: tt.fates}
		if p.renewAll() != tt.renew || p.refreshes() != tt.refreshes {
			t.Errorf("%s: renewAll %v, refreshes %v; want %v, %v", tt.name, p.renewAll(), p.refreshes(), tt.renew, tt.refreshes)
		}
	}
}

// volumeRig is the run rig after a first --once, with the volumes the
// api container mounts and what the api image has, plus a log observer.
func volumeRig(t *testing.T, vols ...docker.FakeVolume) (*rig, *observer.ObservedLogs) {
	t.Helper()
	r := newRig(t)
	core, logs := observer.New(zapcore.InfoLevel)
	r.rec.Log = zap.New(core)
	r.rec.Project.Services[0].AnonVolumes = []string{"/app/node_modules", "/var/lib/data"}
	r.engine.Declared["proj-api"] = []string{"/data"}
	r.engine.Filled["proj-api"] = []string{"/app/node_modules", "/data"}
	r.once(t)
	r.calls(t, "build api", "up api")
	r.engine.Vols["api"] = vols
	return r, logs
}

var (
	nodeModules = docker.FakeVolume{Name: anonName('a'), Path: "/app/node_modules", Anon: true, Data: "old packages"}
	varLibData  = docker.FakeVolume{Name: anonName('b'), Path: "/var/lib/data", Anon: true, Data: "db.txt"}
	imageData   = docker.FakeVolume{Name: anonName('c'), Path: "/data", Anon: true, Data: "seed and db.txt"}
	namedCache  = docker.FakeVolume{Name: "proj_cache", Path: "/cache", Data: "cache"}
)

// volumeLines are the "volume" log lines as "path action".
func volumeLines(logs *observer.ObservedLogs) []string {
	var out []string
	for _, e := range logs.FilterMessage("volume").All() {
		m := e.ContextMap()
		out = append(out, m["path"].(string)+" "+m["action"].(string))
	}
	return out
}

// A deps edit with data volumes beside node_modules: compose ups without
// --renew-anon-volumes, rebuildd refreshes node_modules alone, the data
// volumes keep every byte.
func TestRunDepsEditRefreshesOnlyTheHidingVolume(t *testing.T) {
	r, logs := volumeRig(t, nodeModules, varLibData, imageData, namedCache)
	old, _ := r.engine.Containers(t.Context(), "proj")
	testfs.Write(t, r.dir, "api/package.json", `{"dependencies":{}}`)
	r.once(t)
	r.calls(t, "build api", "up api")
	img, _ := r.engine.Image(t.Context(), "proj-api")
	if !slices.Equal(r.engine.Stopped, []string{old[0].ID}) {
		t.Errorf("stopped %q, want the old container %s before the refresh", r.engine.Stopped, old[0].ID)
	}
	if want := []string{nodeModules.Name + " /app/node_modules"}; !slices.Equal(r.engine.Refreshed, want) {
		t.Errorf("refreshed %q, want %q", r.engine.Refreshed, want)
	}
	if v, _ := r.engine.Volume(nodeModules.Name); v.Data != "image "+img.ID {
		t.Errorf("node_modules holds %q, want the new image's files", v.Data)
	}
	for _, keep := range []docker.FakeVolume{varLibData, imageData, namedCache} {
		if v, ok := r.engine.Volume(keep.Name); !ok || v != keep {
			t.Errorf("%s: %+v, want it untouched: %+v", keep.Path, v, keep)
		}
	}
	want := []string{"/app/node_modules refreshed", "/var/lib/data kept", "/data kept", "/cache kept"}
	if got := volumeLines(logs); !slices.Equal(got, want) {
		t.Errorf("volume lines %q, want %q", got, want)
	}
}

// When node_modules is the only anonymous volume, compose's own
// --renew-anon-volumes refreshes it; a named volume stays.
func TestRunDepsEditRenewsWhenEveryAnonymousVolumeHides(t *testing.T) {
	r, logs := volumeRig(t, nodeModules, namedCache)
	testfs.Write(t, r.dir, "api/package.json", `{"dependencies":{}}`)
	got := r.once(t)
	r.calls(t, "build api", "up -V api")
	if want := "package.json changed (deps layer, RUN npm ci)"; got["api"].Reason != want {
		t.Errorf("reason = %q, want %q", got["api"].Reason, want)
	}
	if len(r.engine.Stopped)+len(r.engine.Refreshed) != 0 {
		t.Errorf("stopped %q, refreshed %q: compose does it", r.engine.Stopped, r.engine.Refreshed)
	}
	if v, _ := r.engine.Volume(namedCache.Name); v != namedCache {
		t.Errorf("named volume: %+v", v)
	}
	if got, want := volumeLines(logs), []string{"/app/node_modules refreshed", "/cache kept"}; !slices.Equal(got, want) {
		t.Errorf("volume lines %q, want %q", got, want)
	}
}

// A source edit refreshes nothing and says nothing about volumes.
func TestRunSourceEditLeavesVolumes(t *testing.T) {
	r, logs := volumeRig(t, nodeModules, varLibData)
	testfs.Write(t, r.dir, "api/src/app.js", "2")
	r.once(t)
	r.calls(t, "build api", "up api")
	if len(r.engine.Stopped)+len(r.engine.Refreshed)+logs.FilterMessage("volume").Len() != 0 {
		t.Errorf("stopped %q, refreshed %q, logged %q", r.engine.Stopped, r.engine.Refreshed, volumeLines(logs))
	}
}

// A refresh that fails (an image without a shell) keeps the volume as it
// was, still recreates, and warns with the commands that do it by hand.
func TestRunFailedRefreshKeepsAndWarns(t *testing.T) {
	r, logs := volumeRig(t, nodeModules, varLibData)
	r.engine.RefreshErr = errors.New("empty volume: the image has no sh to run it with")
	testfs.Write(t, r.dir, "api/package.json", `{"dependencies":{}}`)
	got := r.once(t)
	r.calls(t, "build api", "up api")
	status(t, got, "api", StatusRebuilt)
	if v, _ := r.engine.Volume(nodeModules.Name); v != nodeModules {
		t.Errorf("node_modules: %+v", v)
	}
	warns := logs.FilterMessage("volume").FilterLevelExact(zapcore.WarnLevel).All()
	if len(warns) != 1 {
		t.Fatalf("warnings %v, want one", warns)
	}
	m := warns[0].ContextMap()
	img, _ := r.engine.Image(t.Context(), "proj-api")
	fix, _ := m["fix"].(string)
	if m["action"] != "kept" || !strings.Contains(m["why"].(string), "no sh") ||
		!strings.Contains(fix, "docker create -v "+nodeModules.Name+":/app/node_modules "+docker.ShortID(img.ID)) {
		t.Errorf("warning %v", m)
	}
}

// Without a way to look into volumes, nothing is renewed: keeping data is
// never wrong.
func TestRunWithoutVolumesEngineNeverRenews(t *testing.T) {
	r, _ := volumeRig(t, nodeModules)
	r.rec.Volumes = nil
	testfs.Write(t, r.dir, "api/package.json", `{"dependencies":{}}`)
	r.once(t)
	r.calls(t, "build api", "up api")
}

// A failure to look into the image (not the engine going away) keeps every
// volume, recreates, and says what to run.
func TestRunVolumesNotCheckedKeepsAll(t *testing.T) {
	r, logs := volumeRig(t, nodeModules, varLibData)
	r.engine.LookErr = errors.New("create container: no command specified")
	testfs.Write(t, r.dir, "api/package.json", `{"dependencies":{}}`)
	got := r.once(t)
	r.calls(t, "build api", "up api")
	status(t, got, "api", StatusRebuilt)
	if v, _ := r.engine.Volume(nodeModules.Name); v != nodeModules || len(r.engine.Stopped) != 0 {
		t.Errorf("node_modules %+v, stopped %q: want both untouched", v, r.engine.Stopped)
	}
	warns := logs.FilterMessageSnippet("volumes not checked").All()
	if len(warns) != 1 || !strings.Contains(warns[0].ContextMap()["fix"].(string), "--renew-anon-volumes api") {
		t.Errorf("warnings %v", warns)
	}
}

// sourceRuns reads the Dockerfile: a lock file copied before `RUN npm ci`
// with no context input after it is source, and its change re-runs the
// RUN.
func TestSourceRuns(t *testing.T) {
	for _, tt := range []struct {
		dockerfile string
		want       bool
	}{
		{"FROM base\nCOPY package.json ./\nRUN npm ci\nCMD [\"node\"]\n", true},
		{"FROM base\nCOPY package.json ./\nRUN npm ci\nCOPY . .\n", false},
		{"FROM base\nCOPY . .\nRUN npm run build\n", true},
		{"FROM base\nCOPY . .\n", false},
	} {
		dir := t.TempDir()
		testfs.Write(t, dir, "Dockerfile", tt.dockerfile)
		testfs.Write(t, dir, "package.json", "{}")
		svc := config.Service{Name: "api", Build: &config.Build{Context: dir, Dockerfile: filepath.Join(dir, "Dockerfile")}}
		m, err := dockerfile.Load(svc, config.ServiceSettings{})
		if err != nil {
			t.Fatal(err)
		}
		if got := sourceRuns(m); got != tt.want {
			t.Errorf("%q: sourceRuns %v, want %v", tt.dockerfile, got, tt.want)
		}
	}
}
