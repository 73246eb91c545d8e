package rebuild

import (
	"fmt"
	"maps"
	"slices"
	"testing"

	"github.com/rebuildd/rebuildd/dockerfile"
	"github.com/rebuildd/rebuildd/fingerprint"
)

// BenchmarkDiffFiles50k is a live update's diff for one saved file in a
// 50,000-file context (bench row 7): planning's part that grows with the
// context.
func BenchmarkDiffFiles50k(b *testing.B) {
	old := map[string]fingerprint.FileSum{}
	for i := range 50000 {
		old[fmt.Sprintf("src/d%03d/f%06d.txt", i/100, i)] = fingerprint.FileSum{Sum: fmt.Sprintf("%016x", i), Impact: dockerfile.ImpactSource}
	}
	cur := maps.Clone(old)
	cur["src/d007/f000700.txt"] = fingerprint.FileSum{Sum: "changed", Impact: dockerfile.ImpactSource}
	b.ReportAllocs()
	for b.Loop() {
		if d, why := diffFiles(old, cur); why != "" || len(d.Put) != 1 {
			b.Fatal(d, why)
		}
	}
}

func TestDiffFiles(t *testing.T) {
	src := func(sum string) fingerprint.FileSum {
		return fingerprint.FileSum{Sum: sum, Impact: dockerfile.ImpactSource}
	}
	live := fingerprint.FileSum{Sum: "l", Impact: dockerfile.ImpactSource, Live: true}
	deps := fingerprint.FileSum{Sum: "d", Impact: dockerfile.ImpactDeps}
	base := map[string]fingerprint.FileSum{"a/x": src("1"), "a/y": src("2"), "b/z": src("3"), "package.json": deps}
	with := func(edits map[string]*fingerprint.FileSum) map[string]fingerprint.FileSum {
		m := maps.Clone(base)
		for k, v := range edits {
			if v == nil {
				delete(m, k)
			} else {
				m[k] = *v
			}
		}
		return m
	}
	p := func(f fingerprint.FileSum) *fingerprint.FileSum { return &f }
	tests := []struct {
		name         string
		cur          map[string]fingerprint.FileSum
		put, removed []string
		newDirs      []string
		why          string
	}{
		{name: "no change", cur: with(nil)},
		{name: "an edit", cur: with(map[string]*fingerprint.FileSum{"a/x": p(src("9"))}), put: []string{"a/x"}},
		{name: "a file added beside others", cur: with(map[string]*fingerprint.FileSum{"a/new": p(src("9"))}), put: []string{"a/new"}},
		{name: "a file in new directories", cur: with(map[string]*fingerprint.FileSum{"c/d/new": p(src("9"))}),
			put: []string{"c/d/new"}, newDirs: []string{"c", "c/d"}},
		{name: "a removal", cur: with(map[string]*fingerprint.FileSum{"b/z": nil}), removed: []string{"b/z"}},
		{name: "a rename: as many files, one removed", cur: with(map[string]*fingerprint.FileSum{"b/z": nil, "b/w": p(src("3"))}),
			put: []string{"b/w"}, removed: []string{"b/z"}},
		{name: "a rename into a new directory", cur: with(map[string]*fingerprint.FileSum{"b/z": nil, "e/z": p(src("3"))}),
			put: []string{"e/z"}, removed: []string{"b/z"}, newDirs: []string{"e"}},
		{name: "a live file added", cur: with(map[string]*fingerprint.FileSum{"f/live": p(live)})},
		{name: "a deps file edited", cur: with(map[string]*fingerprint.FileSum{"package.json": p(fingerprint.FileSum{Sum: "e", Impact: dockerfile.ImpactDeps})}),
			why: "package.json is a deps file"},
		{name: "a deps file removed", cur: with(map[string]*fingerprint.FileSum{"package.json": nil}), why: "package.json is a deps file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, why := diffFiles(base, tt.cur)
			if why != tt.why {
				t.Fatalf("why = %q, want %q", why, tt.why)
			}
			if !slices.Equal(d.Put, tt.put) || !slices.Equal(d.Removed, tt.removed) || !slices.Equal(d.NewDirs, tt.newDirs) {
				t.Errorf("diff = put %q removed %q new dirs %q, want %q %q %q", d.Put, d.Removed, d.NewDirs, tt.put, tt.removed, tt.newDirs)
			}
		})
	}
}
