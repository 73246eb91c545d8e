package rebuild

import (
	"strings"
	"testing"

	"github.com/rebuildd/rebuildd/docker"
	"github.com/rebuildd/rebuildd/fingerprint"
)

// A service built FROM another service's image: when the base is rebuilt,
// so is the dependent, and the base builds first (although "api" sorts
// before "base").
func TestPlanFollowsBaseImages(t *testing.T) {
	v1 := printOf(filesV1)
	baseChanged := printOf(filesDeps)
	api := apiInput(v1, recordOf(v1, "sha256:old"), imgOld, running)
	api.Bases = []string{"base:dev"}
	base := Input{Service: "base", Tag: "base:dev", Build: true, Print: baseChanged,
		Record: &fingerprint.Record{Service: "base", Fingerprint: v1.Sum, ImageID: "sha256:b", Parts: v1.Parts},
		Image:  &docker.Image{ID: "sha256:b"},
		Files:  func() (map[string]fingerprint.FileSum, error) { return filesV1, nil }}
	inputs := []Input{api, base}
	ds, err := Plan(inputs, Policy{})
	if err != nil {
		t.Fatal(err)
	}
	if !ds[0].Builder || !strings.Contains(ds[0].Reason, "base image base:dev is rebuilt") {
		t.Errorf("api: %+v, want a build because its base is rebuilt", ds[0])
	}
	order := BuildOrder(inputs, ds)
	if len(order) != 2 || order[0].Service != "base" || order[1].Service != "api" {
		t.Errorf("build order %v, want base then api", order)
	}

	// Base up to date: the dependent is left alone.
	base.Print = v1
	ds, err = Plan([]Input{api, base}, Policy{})
	if err != nil {
		t.Fatal(err)
	}
	if ds[0].Build || ds[1].Build {
		t.Errorf("nothing changed, got %+v", ds)
	}
}

func TestNormalTag(t *testing.T) {
	for in, want := range map[string]string{
		"base": "base:latest", "docker.io/library/base:1": "base:1", "reg:5000/x": "reg:5000/x:latest", "a/b:dev": "a/b:dev",
	} {
		if got := normalTag(in); got != want {
			t.Errorf("normalTag(%q) = %q, want %q", in, got, want)
		}
	}
}

// The image ID of a base that is a project image is part of the print:
// a new base image makes the dependent stale.
func TestPrintWithBases(t *testing.T) {
	p := printOf(filesV1)
	a := p.WithBases(map[string]string{"base:dev": "sha256:1"})
	b := p.WithBases(map[string]string{"base:dev": "sha256:2"})
	if a.Sum == p.Sum || a.Sum == b.Sum || p.WithBases(nil).Sum != p.Sum {
		t.Errorf("sums: plain %s, base 1 %s, base 2 %s", p.Sum, a.Sum, b.Sum)
	}
	if got := partChanges(a.Parts, b.Parts); len(got) != 1 || !strings.Contains(got[0].text, "base image") {
		t.Errorf("reason: %+v", got)
	}
}
