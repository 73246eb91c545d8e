package rebuild

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rebuildd/rebuildd/config"
	"github.com/rebuildd/rebuildd/dockerfile"
)

// composedProcess merges compose's overrides into the image's process as
// the engine merges a container's config with its image's, and never
// guesses what only the base image holds.
func TestComposedProcess(t *testing.T) {
	node := dockerfile.ImageProcess{Base: "node:20", Cmd: []string{"node", "--watch", "s.js"}, CmdSet: true,
		Env: []string{"A=1"}, Workdir: "/app", WorkdirSet: true}
	full := dockerfile.ImageProcess{Base: "alpine", Entrypoint: []string{"tini", "--"}, EntrypointSet: true,
		Cmd: []string{"x"}, CmdSet: true}
	bare := dockerfile.ImageProcess{Base: "nginx"}
	for _, c := range []struct {
		name string
		img  dockerfile.ImageProcess
		run  config.Run
		want string
	}{
		{"image only", node, config.Run{}, "ep=[] cmd=[node --watch s.js] env=[A=1] wd=/app fromBase=true"},
		{"compose command", node, config.Run{Command: []string{"nodemon"}, Environment: []string{"A=2"}}, "ep=[] cmd=[nodemon] env=[A=1 A=2] wd=/app fromBase=true"},
		{"compose entrypoint drops the image's command", full, config.Run{Entrypoint: []string{"sh", "-c", "y"}}, "ep=[sh -c y] cmd=[] env=[] wd=/<WORKDIR> fromBase=false"},
		{"empty entrypoint keeps the image's command", full, config.Run{Entrypoint: []string{}}, "ep=[] cmd=[x] env=[] wd=/<WORKDIR> fromBase=false"},
		{"empty command keeps the image's", full, config.Run{Command: []string{}, WorkingDir: "/srv"}, "ep=[tini --] cmd=[x] env=[] wd=/srv fromBase=false"},
		{"command of the base image", bare, config.Run{}, "unknown: its command is the CMD of nginx, not known without the engine"},
		{"compose settles it", bare, config.Run{Command: []string{"nginx", "-g", "daemon off;"}}, "ep=[] cmd=[nginx -g daemon off;] env=[] wd=/<WORKDIR> fromBase=true"},
	} {
		p, unknown, fromBase := composedProcess(c.img, c.run)
		got := fmt.Sprintf("ep=%v cmd=%v env=%v wd=%s fromBase=%v", p.Entrypoint, p.Cmd, p.Env, p.WorkingDir, fromBase)
		if unknown != "" {
			got = "unknown: " + unknown
		}
		if got != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.name, got, c.want)
		}
	}
}

// explainRestart: on_source decides first; under auto the process does.
func TestExplainRestart(t *testing.T) {
	watch := dockerfile.ImageProcess{Base: "node:20", Entrypoint: []string{"docker-entrypoint.sh"}, EntrypointSet: true,
		Cmd: []string{"nodemon", "--watch", "src"}, CmdSet: true, Workdir: "/app", WorkdirSet: true}
	for _, c := range []struct {
		policy string
		img    dockerfile.ImageProcess
		paths  []string
		want   string
	}{
		{"auto", watch, []string{"/app/src/a.js"}, "nodemon reloads"},
		{"auto", watch, []string{"/app/lib/a.js"}, "restart: nodemon does not reload /app/lib/a.js (it watches /app/src, only .js .mjs .cjs .json)"},
		{"sync", watch, []string{"/app/lib/a.js"}, "no restart (on_source: sync)"},
		{"sync+restart", watch, []string{"/app/src/a.js"}, "restart (on_source: sync+restart)"},
		{"restart", watch, []string{"/app/src/a.js"}, "restart (on_source: restart)"},
		{"auto", dockerfile.ImageProcess{Base: "php:8-apache"}, []string{"/var/www/html/i.php"},
			"restart unless its process reloads (its command is the CMD of php:8-apache, not known without the engine)"},
	} {
		if got := explainRestart(c.policy, c.img, config.Run{}, c.paths); got != c.want {
			t.Errorf("%s %v:\n got %s\nwant %s", c.policy, c.paths, got, c.want)
		}
	}
}

// containerPath shows what the Dockerfile settles and says what it leaves
// to the image or the container.
func TestContainerPath(t *testing.T) {
	for _, c := range []struct {
		t    dockerfile.Target
		want string
	}{
		{dockerfile.Target{Path: "/app/src/a.js"}, "/app/src/a.js"},
		{dockerfile.Target{Path: "src/a.js", Rel: true}, "<WORKDIR>/src/a.js"},
		{dockerfile.Target{Path: "/etc/app", Dir: "/etc/app", Base: "a.conf"}, "/etc/app or /etc/app/a.conf (the container decides)"},
		{dockerfile.Target{Dir: "conf", Base: "a.conf", Rel: true}, "<WORKDIR>/conf/a.conf (if <WORKDIR>/conf is a directory in the container)"},
	} {
		if got := containerPath(c.t); got != c.want {
			t.Errorf("%+v: got %q, want %q", c.t, got, c.want)
		}
	}
}

// A develop.watch rule decides the paths it names, as triage applies it:
// its sync target, and whether a restart or a command follows.
func TestExplainRuleAction(t *testing.T) {
	rules := []config.WatchRule{
		{Path: "/p/src", Action: "sync", Target: "/app/src"},
		{Path: "/p/conf", Action: "sync+exec", Target: "/etc/app", Exec: []string{"kill", "-HUP", "1"}},
		{Path: "/p/pkg.json", Action: "rebuild"},
	}
	for _, c := range []struct{ path, want string }{
		{"/p/src/a/b.js", "sync [/app/src/a/b.js] develop.watch rule (sync /p/src); no restart"},
		{"/p/conf/x.conf", "sync [/etc/app/x.conf] develop.watch rule (sync+exec /p/conf); then runs kill -HUP 1"},
		{"/p/pkg.json", "rebuild [] develop.watch rule (rebuild /p/pkg.json)"},
	} {
		rr, ok := matchRules(rules, c.path)
		if !ok {
			t.Fatalf("%s: no rule matched", c.path)
		}
		pa := ruleAction(dockerfile.ImpactSource, rr)
		if got := fmt.Sprintf("%s %v %s", pa.Action, pa.ContainerPaths, pa.Reason); got != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.path, got, c.want)
		}
	}
}

// Nothing syncs below a mount: the mount itself and what lies under it,
// not a sibling that shares its prefix.
func TestUnderMount(t *testing.T) {
	mounts := []string{"/app/node_modules", "/data"}
	for _, c := range []struct {
		p    string
		want bool
	}{{"/app/node_modules/x/index.js", true}, {"/data", true}, {"/app/node_modules2/x", false}, {"/app/src/a.js", false}} {
		if _, _, got := underMount([]string{c.p}, mounts); got != c.want {
			t.Errorf("%s: under a mount = %v, want %v", c.p, got, c.want)
		}
	}
}

// explain agrees with watch mode about a file that a followed symbolic
// link points to: no sync (syncer.followed); a file no followed link
// points to still syncs.
func TestExplainFollowedLink(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{
		"api/Dockerfile":    "FROM scratch\nCOPY web/ /w/\nCOPY web/link.htm /followed.htm\nCMD [\"httpd\", \"-f\", \"-h\", \"/w\"]\n",
		"api/web/index.htm": "v1",
		"api/web/other.htm": "o",
	} {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("index.htm", filepath.Join(dir, "api/web/link.htm")); err != nil {
		t.Fatal(err)
	}
	svc := apiService(dir)
	m, err := dockerfile.Load(svc, config.ServiceSettings{OnSource: "auto"})
	if err != nil {
		t.Fatal(err)
	}
	if pa := ExplainPath(svc, m, filepath.Join(dir, "api/web/index.htm")); pa.Action == ActionSync || !strings.Contains(pa.Reason, "web/link.htm") {
		t.Errorf("the link's target: %+v", pa)
	}
	if pa := ExplainPath(svc, m, filepath.Join(dir, "api/web/other.htm")); pa.Action != ActionSync {
		t.Errorf("another file: %+v", pa)
	}
}
