package main

import (
	"regexp"
	"strings"
	"testing"
)

// Live update in explain (issue 16): a syncable source path shows the
// action sync, where it lands in the containers and whether they restart,
// under the Dockerfile, the compose overrides, develop.watch and
// rebuild.yaml's on_source; a path that cannot sync says why.
func TestExplainSync(t *testing.T) {
	t.Chdir("../../testdata/projects/livesync")
	paths := []string{"web/src/server.js", "web/lib/util.js", "web/package.json", "static/site/index.html", "static/conf/default.conf", "py/app.py"}
	args := []string{"explain", "--json"}
	for _, p := range paths {
		args = append(args, "--path", p)
	}
	doc := explainJSON(t, args...)
	got := map[string]explainPath{}
	for _, s := range doc.Services {
		for _, p := range s.Paths {
			got[s.Service+" "+p.Path] = p
		}
	}
	for _, c := range []struct {
		key, action, where string
		why                []string // substrings of the reason
	}{
		{"web web/src/server.js", "sync", "/app/src/server.js",
			[]string{"COPY src/ ./src/ at Dockerfile:6; node --watch reloads, if the ENTRYPOINT of node:20-alpine runs the command"}},
		{"web web/package.json", "rebuild", "", []string{"deps layer"}},
		{"web-restart web/src/server.js", "sync", "/app/src/server.js", []string{"; restart (on_source: sync+restart)"}},
		{"web-rebuild web/src/server.js", "rebuild", "", []string{"on_source: rebuild never syncs"}},
		{"web-watch web/src/server.js", "sync", "/srv/src/server.js", []string{"develop.watch rule (sync+restart ", "; restart"}},
		{"web-watch web/lib/util.js", "rebuild", "", []string{"no sync: the service's develop.watch rules decide its live updates"}},
		{"web web/lib/util.js", "sync", "/app/lib/util.js", []string{"COPY lib/ ./lib/ at Dockerfile:7"}},
		{"web-volume web/lib/util.js", "rebuild", "", []string{"no sync: /app/lib/util.js lies under the mount at /app/lib, where the container does not see the image"}},
		{"web-volume web/src/server.js", "sync", "/app/src/server.js", nil},
		{"static static/site/index.html", "sync", "/usr/share/nginx/html/index.html",
			[]string{"restart unless its process reloads (its command is the CMD of nginx:1.27-alpine, not known without the engine)"}},
		{"static static/conf/default.conf", "sync", "/etc/nginx/conf.d or /etc/nginx/conf.d/default.conf (the container decides)", nil},
		{"static-cmd static/site/index.html", "sync", "/usr/share/nginx/html/index.html", []string{"; nginx serves /usr/share/nginx/html"}},
		{"static-cmd static/conf/default.conf", "sync", "", []string{"restart: nginx does not serve"}},
		{"static-gzip static/site/index.html", "rebuild", "",
			[]string{"no sync: RUN gzip -k /usr/share/nginx/html/index.html at Dockerfile.build:3 runs after COPY at Dockerfile.build:2"}},
		{"py py/app.py", "sync", "<WORKDIR>/app.py", []string{"flask run (debug reloader) reloads"}},
		{"py web/src/server.js", "none", "", []string{"outside"}},
	} {
		p, ok := got[c.key]
		if !ok {
			t.Errorf("%s: no such path in the output", c.key)
			continue
		}
		if p.Action != c.action {
			t.Errorf("%s: action %q (%s), want %q", c.key, p.Action, p.Reason, c.action)
		}
		if c.action != "sync" && len(p.ContainerPath) > 0 {
			t.Errorf("%s: container_path %q on action %s", c.key, p.ContainerPath, p.Action)
		}
		if c.where != "" && strings.Join(p.ContainerPath, "|") != c.where {
			t.Errorf("%s: container_path %q, want [%s]", c.key, p.ContainerPath, c.where)
		}
		for _, w := range c.why {
			if !strings.Contains(p.Reason, w) {
				t.Errorf("%s: reason %q lacks %q", c.key, p.Reason, w)
			}
		}
	}

	// The table says it in one row: the action, an arrow to the place,
	// the reason in parentheses.
	code, out, errOut := runArgs(t, "explain", "web", "--path", "web/src/server.js")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	row := regexp.MustCompile(`web/src/server.js +source +sync +-> /app/src/server.js \(COPY src/ ./src/ at Dockerfile:6; node --watch reloads`)
	if !row.MatchString(out) {
		t.Errorf("table lacks a row matching %s:\n%s", row, out)
	}
}
