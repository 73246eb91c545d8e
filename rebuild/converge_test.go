package rebuild

import (
	"context"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/rebuildd/rebuildd/fingerprint"
	"github.com/rebuildd/rebuildd/internal/testfs"
)

// syncedRig is a rig whose api container was synced to the current
// sources after an edit of src/app.js: its mark holds the current print.
func syncedRig(t *testing.T, removed ...string) (*rig, string) {
	t.Helper()
	r := newRig(t)
	r.rec.Live = r.engine
	r.once(t)
	r.calls(t, "build api", "up api")
	testfs.Write(t, r.dir, "api/src/app.js", "2")
	dec, err := r.rec.Decide(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	p := dec.Inputs[0].Print
	id := r.engine.List[0].ID
	err = r.rec.Store.UpdateSyncMarks(func(m map[string]fingerprint.SyncMark) {
		m[id] = fingerprint.SyncMark{Service: "api", Sum: p.Sum, Parts: p.Parts, Removed: removed, At: r.clock}
	})
	if err != nil {
		t.Fatal(err)
	}
	return r, id
}

func check(t *testing.T, r *rig) Outcome {
	t.Helper()
	out, err := r.rec.Check(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return out[0]
}

// --check, --once and the next start agree: synced is current for the
// running stack, --once builds the image and recreates nothing, and then
// everything is up to date.
func TestOnceConvergesASyncedImageWithoutRecreating(t *testing.T) {
	r, id := syncedRig(t)
	if o := check(t, r); o.Status != StatusSynced {
		t.Fatalf("--check: %s (%s), want synced", o.Status, o.Reason)
	}
	r.rec.Policy.Images = true
	if o := check(t, r); o.Status != StatusStale {
		t.Errorf("--check --images: %s, want stale", o.Status)
	}
	r.rec.Policy.Images = false
	got := r.once(t)
	r.calls(t, "build api")
	status(t, got, "api", StatusRebuilt)
	if got["api"].Reason != "built from the sources the containers hold (synced into them); none recreated" {
		t.Errorf("reason = %q", got["api"].Reason)
	}
	if r.engine.List[0].ID != id {
		t.Errorf("container recreated")
	}
	got = r.once(t)
	r.calls(t)
	status(t, got, "api", StatusUpToDate)
	if o := check(t, r); o.Status != StatusUpToDate {
		t.Errorf("--check after: %s (%s)", o.Status, o.Reason)
	}
}

// A file a sync removed may still be in the rebuilt image (its base
// image's, an earlier RUN's): only that image tells.
func TestConvergeComparesRemovedPathsWithTheNewImage(t *testing.T) {
	t.Run("the image has one: recreate", func(t *testing.T) {
		r, _ := syncedRig(t, "/app/gone.js")
		r.engine.Holds["proj-api"] = []string{"/app/gone.js"}
		r.once(t)
		r.calls(t, "build api", "up api")
		if o := check(t, r); o.Status != StatusUpToDate {
			t.Errorf("--check after: %s (%s)", o.Status, o.Reason)
		}
	})
	t.Run("it has none: spared, and the mark says so", func(t *testing.T) {
		r, id := syncedRig(t, "/app/gone.js")
		r.once(t)
		r.calls(t, "build api")
		if !reflect.DeepEqual(r.engine.Compared, []string{r.engine.Images["proj-api"].ID + " /app/gone.js"}) {
			t.Errorf("compared %v", r.engine.Compared)
		}
		marks, _ := r.rec.Store.SyncMarks()
		if len(marks[id].Removed) != 0 {
			t.Errorf("removals still pending: %v", marks[id].Removed)
		}
		if o := check(t, r); o.Status != StatusUpToDate {
			t.Errorf("--check after: %s (%s)", o.Status, o.Reason)
		}
	})
	t.Run("no engine to ask: recreate", func(t *testing.T) {
		r, _ := syncedRig(t, "/app/gone.js")
		r.rec.Live = nil
		r.once(t)
		r.calls(t, "build api", "up api")
	})
}

// A sync that lands while a build runs asks for the next build itself:
// this one must not recreate the container back to older sources.
func TestConvergeSparesAContainerSyncedDuringTheBuild(t *testing.T) {
	r, id := syncedRig(t)
	testfs.Write(t, r.dir, "api/src/app.js", "3") // a non-syncable change: stale, not synced
	r.rec.Store.UpdateSyncMarks(func(m map[string]fingerprint.SyncMark) {
		mk := m[id]
		mk.Sum, mk.At = "newer", r.clock.Add(2*time.Minute) // during the run once starts one tick later
		m[id] = mk
	})
	r.once(t)
	r.calls(t, "build api")
}

// A container whose mark is not the built print runs older sources.
func TestConvergeRecreatesAContainerSyncedToOtherSources(t *testing.T) {
	r, _ := syncedRig(t)
	testfs.Write(t, r.dir, filepath.Join("api", "src", "app.js"), "3")
	r.once(t)
	r.calls(t, "build api", "up api")
}
