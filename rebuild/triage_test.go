package rebuild

import (
	"reflect"
	"testing"

	"github.com/rebuildd/rebuildd/config"
	"github.com/rebuildd/rebuildd/dockerfile"
)

// tableModel classifies from a fixed table; unknown paths are outside.
type tableModel map[string]dockerfile.Result

func (m tableModel) Classify(abs string) dockerfile.Result {
	if r, ok := m[abs]; ok {
		return r
	}
	return dockerfile.Result{Impact: dockerfile.ImpactOutside, Action: dockerfile.ActionNone}
}

func res(i dockerfile.Impact, a dockerfile.Action) dockerfile.Result {
	return dockerfile.Result{Impact: i, Action: a}
}

func TestTriage(t *testing.T) {
	api := Watched{Service: config.Service{Name: "api", AnonVolumes: []string{"/app/node_modules"}}, Model: tableModel{
		"/p/api/package.json": res(dockerfile.ImpactDeps, dockerfile.ActionRebuild),
		"/p/api/src/a.js":     res(dockerfile.ImpactSource, dockerfile.ActionNone),
		"/p/api/README.md":    res(dockerfile.ImpactIgnored, dockerfile.ActionNone),
		"/p/api/src/b.js":     res(dockerfile.ImpactSource, dockerfile.ActionRestart),
	}}
	web := Watched{Service: config.Service{Name: "web"}, Model: tableModel{
		"/p/web/index.html": res(dockerfile.ImpactSource, dockerfile.ActionRebuild),
	}}
	cases := []struct {
		name  string
		paths []string
		want  []Verdict
	}{
		{"deps wins",
			[]string{"/p/api/src/a.js", "/p/api/package.json", "/p/api/README.md"},
			[]Verdict{{Service: "api", Action: dockerfile.ActionRebuild, Impact: dockerfile.ImpactDeps,
				Paths:   []string{"/p/api/package.json", "/p/api/src/a.js"}, // README.md is no build input
				Decider: "/p/api/package.json", Result: res(dockerfile.ImpactDeps, dockerfile.ActionRebuild)}}},
		{"restart beats none",
			[]string{"/p/api/src/a.js", "/p/api/src/b.js"},
			[]Verdict{{Service: "api", Action: dockerfile.ActionRestart, Impact: dockerfile.ImpactSource,
				Paths:   []string{"/p/api/src/a.js", "/p/api/src/b.js"},
				Decider: "/p/api/src/b.js", Result: res(dockerfile.ImpactSource, dockerfile.ActionRestart)}}},
		{"ignored only is a none verdict naming the impact",
			[]string{"/p/api/README.md"},
			[]Verdict{{Service: "api", Action: dockerfile.ActionNone, Impact: dockerfile.ImpactIgnored,
				Paths: []string{"/p/api/README.md"}, Decider: "/p/api/README.md", Result: res(dockerfile.ImpactIgnored, dockerfile.ActionNone)}}},
		{"fan-out to the service that owns the path only",
			[]string{"/p/web/index.html"},
			[]Verdict{{Service: "web", Action: dockerfile.ActionRebuild, Impact: dockerfile.ImpactSource,
				Paths: []string{"/p/web/index.html"}, Decider: "/p/web/index.html", Result: res(dockerfile.ImpactSource, dockerfile.ActionRebuild)}}},
		{"outside everything: no verdict", []string{"/elsewhere/x"}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := Triage([]Watched{api, web}, tc.paths)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}
