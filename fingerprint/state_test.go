package fingerprint

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/rebuildd/rebuildd/statedir"
)

var t0 = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)

func TestStoreRoundTrip(t *testing.T) {
	s, err := OpenStore(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if rec, err := s.Load("api"); rec != nil || err != nil {
		t.Fatalf("empty store: %v, %v", rec, err)
	}
	files := map[string]FileSum{"package.json": {Sum: "abc", Impact: "deps"}}
	rec := Record{Service: "api", Fingerprint: "f1", ImageID: "sha256:1", Time: t0, Impacts: []string{"deps"}}
	if err := s.Save(rec, files); err != nil {
		t.Fatal(err)
	}
	got, err := s.Load("api")
	if err != nil || !reflect.DeepEqual(*got, rec) {
		t.Errorf("Load = %+v, %v; want %+v", got, err, rec)
	}
	gotFiles, err := s.Files("api")
	if err != nil || !reflect.DeepEqual(gotFiles, files) {
		t.Errorf("Files = %v, %v", gotFiles, err)
	}
	leftovers, _ := filepath.Glob(filepath.Join(s.Dir(), statedir.Version, ".*tmp*"))
	if len(leftovers) > 0 {
		t.Errorf("temp files left behind: %v", leftovers)
	}
}

func TestStoreDamagedRecordIsNoRecord(t *testing.T) {
	s, _ := OpenStore(t.TempDir(), nil)
	os.WriteFile(s.recordPath("api"), []byte("{not json"), 0o600)
	if rec, err := s.Load("api"); rec != nil || err != nil {
		t.Errorf("damaged record: %v, %v", rec, err)
	}
}

func TestOpenStoreRefusesBuildContext(t *testing.T) {
	ctx := t.TempDir()
	tests := []struct {
		dir  string
		fail bool
	}{
		{filepath.Join(ctx, ".rebuildd"), true},
		{ctx, true},
		{ctx + "-state", false},
		{filepath.Join(t.TempDir(), "state"), false},
	}
	for _, tt := range tests {
		_, err := OpenStore(tt.dir, []string{ctx})
		if (err != nil) != tt.fail {
			t.Errorf("OpenStore(%s): err = %v, want failure %v", tt.dir, err, tt.fail)
		}
		if err != nil && !strings.Contains(err.Error(), "--state-dir") {
			t.Errorf("message does not say what to do: %v", err)
		}
	}
}
