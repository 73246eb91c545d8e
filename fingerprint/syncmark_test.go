package fingerprint

import (
	"os"
	"reflect"
	"sync"
	"testing"
)

func TestSyncMarksRoundTrip(t *testing.T) {
	s, err := OpenStore(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if m, err := s.SyncMarks(); m != nil || err != nil {
		t.Fatalf("no marks yet: %v, %v", m, err)
	}
	mark := SyncMark{Service: "api", Sum: "s1", Parts: Parts{Dockerfile: "df"}, Removed: []string{"/app/a.js"}, At: t0}
	if err := s.UpdateSyncMarks(func(m map[string]SyncMark) { m["c1"] = mark }); err != nil {
		t.Fatal(err)
	}
	if err := s.UpdateSyncMarks(func(m map[string]SyncMark) { m["c2"] = SyncMark{Sum: "s2"}; delete(m, "gone") }); err != nil {
		t.Fatal(err)
	}
	got, err := s.SyncMarks()
	if err != nil || !reflect.DeepEqual(got, map[string]SyncMark{"c1": mark, "c2": {Sum: "s2"}}) {
		t.Errorf("SyncMarks = %+v, %v", got, err)
	}
	os.WriteFile(s.marksPath(), []byte("{damaged"), 0o600)
	if m, err := s.SyncMarks(); m != nil || err != nil {
		t.Errorf("damaged marks are no marks: %v, %v", m, err)
	}
}

// Concurrent syncs of two services update the one file without losing
// either's mark.
func TestSyncMarksConcurrentUpdates(t *testing.T) {
	s, _ := OpenStore(t.TempDir(), nil)
	var wg sync.WaitGroup
	for _, id := range []string{"a", "b", "c", "d"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.UpdateSyncMarks(func(m map[string]SyncMark) { m[id] = SyncMark{Sum: id} }); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if got, _ := s.SyncMarks(); len(got) != 4 {
		t.Errorf("marks = %v, want 4", got)
	}
}

func TestOverlayKeepsMarksInMemory(t *testing.T) {
	s, _ := OpenStore(t.TempDir(), nil)
	s.UpdateSyncMarks(func(m map[string]SyncMark) { m["c1"] = SyncMark{Sum: "base"} })
	o := NewOverlay(s)
	o.UpdateSyncMarks(func(m map[string]SyncMark) { m["c2"] = SyncMark{Sum: "dry"} })
	if got, _ := o.SyncMarks(); len(got) != 2 || got["c1"].Sum != "base" || got["c2"].Sum != "dry" {
		t.Errorf("overlay marks = %v", got)
	}
	if got, _ := s.SyncMarks(); len(got) != 1 {
		t.Errorf("the state dir changed under a dry run: %v", got)
	}
}

func TestSyncMarkHolds(t *testing.T) {
	m := SyncMark{Sum: "s1", Removed: []string{"/app/old.js", "/app/x"}}
	if m.Holds("s1") {
		t.Error("a mark with removals not yet compared with an image vouches for it")
	}
	if m = m.Without([]string{"/app/old.js"}); !reflect.DeepEqual(m.Removed, []string{"/app/x"}) {
		t.Errorf("Without = %v", m.Removed)
	}
	if m = m.Without([]string{"/app/x"}); !m.Holds("s1") || m.Holds("s2") || (SyncMark{}).Holds("") {
		t.Errorf("Holds wrong for %+v", m)
	}
}
