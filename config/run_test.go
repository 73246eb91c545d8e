package config

import (
	"fmt"
	"testing"
)

// Compose's process overrides reach Service.Run as compose passes them to
// the engine: unset stays nil, `[]` stays set and empty, a string command
// is split into words, environment values are resolved.
func TestLoadRun(t *testing.T) {
	cleanEnv(t)
	t.Setenv("FROM_HOST", "yes")
	dir := tree(t, map[string]string{
		"compose.yaml": `services:
  plain:
    build: ./app
  dev:
    build: ./app
    command: npm run dev -- --port 3000
    entrypoint: []
    working_dir: /srv
    volumes: ["./app:/srv/app", "/srv/node_modules", "data:/srv/data/"]
    tmpfs: ["/tmp:size=1m"]
    environment:
      FLASK_DEBUG: "1"
      FROM_HOST:
      UNSET_HERE:
  list:
    build: ./app
    entrypoint: ["tini", "--"]
    environment: ["A=1"]
volumes:
  data:
`,
		"app/Dockerfile": dockerfile,
	})
	p := load(t, Options{WorkDir: dir})
	for _, c := range []struct{ svc, want string }{
		{"plain", "ep=[] true cmd=[] true env=[] wd="},
		{"dev", "ep=[] false cmd=[npm run dev -- --port 3000] false env=[FLASK_DEBUG=1 FROM_HOST=yes] wd=/srv mounts=[/srv/app /srv/data /srv/node_modules /tmp]"},
		{"list", "ep=[tini --] false cmd=[] true env=[A=1] wd="},
	} {
		r := service(t, p, c.svc).Run
		got := fmt.Sprintf("ep=%v %v cmd=%v %v env=%v wd=%s", r.Entrypoint, r.Entrypoint == nil, r.Command, r.Command == nil, r.Environment, r.WorkingDir)
		if len(r.Mounts) > 0 {
			got += fmt.Sprintf(" mounts=%v", r.Mounts)
		}
		if got != c.want {
			t.Errorf("%s: got  %s\nwant %s", c.svc, got, c.want)
		}
	}
}
