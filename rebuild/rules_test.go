package rebuild

import (
	"reflect"
	"testing"

	"github.com/rebuildd/rebuildd/config"
	"github.com/rebuildd/rebuildd/docker"
	"github.com/rebuildd/rebuildd/dockerfile"
)

func TestDevelopWatchRulesTakePrecedence(t *testing.T) {
	svc := config.Service{Name: "web", Watch: []config.WatchRule{
		{Path: "/p/web/src", Action: "sync", Target: "/app/src", Ignore: []string{"*.tmp"}},
		{Path: "/p/web/conf", Action: "sync+restart", Target: "/etc/app"},
		{Path: "/p/web/hooks", Action: "sync+exec", Target: "/hooks", Exec: []string{"kill", "-HUP", "1"}},
		{Path: "/p/web/package.json", Action: "rebuild"},
		{Path: "/p/web/assets", Action: "sync", Target: "/www", Include: []string{"*.css"}},
	}}
	// The layer model would rebuild everything; the rules say otherwise.
	w := Watched{Service: svc, Model: tableModel{
		"/p/web/src/a.js":      res(dockerfile.ImpactSource, dockerfile.ActionRebuild),
		"/p/web/src/x.tmp":     res(dockerfile.ImpactSource, dockerfile.ActionRebuild),
		"/p/web/assets/a.png":  res(dockerfile.ImpactSource, dockerfile.ActionRebuild),
		"/p/web/package.json":  res(dockerfile.ImpactDeps, dockerfile.ActionRebuild),
		"/p/web/conf/app.conf": res(dockerfile.ImpactSource, dockerfile.ActionRebuild),
	}}
	cases := []struct {
		name   string
		paths  []string
		action dockerfile.Action
		syncs  []docker.SyncOp
		exec   [][]string
	}{
		{"sync only", []string{"/p/web/src/a.js"}, dockerfile.ActionNone,
			[]docker.SyncOp{{Host: "/p/web/src/a.js", Container: "/app/src/a.js"}}, nil},
		{"rule ignore falls back to inference", []string{"/p/web/src/x.tmp"}, dockerfile.ActionRebuild, nil, nil},
		{"include filters", []string{"/p/web/assets/a.png", "/p/web/assets/b.css"}, dockerfile.ActionRebuild,
			[]docker.SyncOp{{Host: "/p/web/assets/b.css", Container: "/www/b.css"}}, nil},
		{"sync+restart", []string{"/p/web/conf/app.conf"}, dockerfile.ActionRestart,
			[]docker.SyncOp{{Host: "/p/web/conf/app.conf", Container: "/etc/app/app.conf"}}, nil},
		{"sync+exec", []string{"/p/web/hooks/h.sh"}, dockerfile.ActionNone,
			[]docker.SyncOp{{Host: "/p/web/hooks/h.sh", Container: "/hooks/h.sh"}}, [][]string{{"kill", "-HUP", "1"}}},
		{"rebuild rule on a file", []string{"/p/web/package.json"}, dockerfile.ActionRebuild, nil, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := Triage([]Watched{w}, tc.paths)
			if len(got) != 1 {
				t.Fatalf("verdicts: %+v", got)
			}
			v := got[0]
			if v.Action != tc.action || !reflect.DeepEqual(v.Syncs, tc.syncs) || !reflect.DeepEqual(v.Exec, tc.exec) {
				t.Errorf("got action %s syncs %v exec %v; want %s %v %v", v.Action, v.Syncs, v.Exec, tc.action, tc.syncs, tc.exec)
			}
		})
	}
}
