package main

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/rebuildd/rebuildd/internal/e2e"
)

// Volumes after a rebuild (docs/design.md): a deps edit refreshes the
// anonymous volume that hides the image's installed deps, and keeps every
// other volume byte for byte. What the container holds is read through
// its own web server, never from rebuildd's output; the log lines are
// checked only for what they must say.

// dataVolumeFiles: web installs deps.txt into /deps (a compose anonymous
// volume, the node_modules stand-in) and has two data volumes: /data,
// which its image declares with VOLUME and seeds, and /var/lib/data, a
// compose anonymous volume over a directory the image leaves empty. httpd
// serves the whole file system, so every volume can be read over HTTP.
func dataVolumeFiles(base string, port int) map[string]string {
	return map[string]string{
		"compose.yaml": fmt.Sprintf("services:\n  web:\n    build: .\n    volumes:\n      - /deps\n      - /var/lib/data\n"+
			"    ports:\n      - \"127.0.0.1:%d:80\"\n", port),
		"Dockerfile": "FROM " + base + "\n" +
			"RUN mkdir -p /data && echo seed > /data/seed.txt\nVOLUME /data\n" +
			"COPY deps.txt /src/\nRUN mkdir -p /deps /var/lib/data && cp /src/deps.txt /deps/installed.txt\n" +
			"COPY site /www\n" + `CMD ["httpd", "-f", "-p", "80", "-h", "/"]` + "\n",
		"deps.txt":        "deps-v1",
		"site/index.html": "v1",
	}
}

// writeVolumeData writes into each volume of the running web container:
// data into both data volumes, and a stray file into /deps that a refresh
// must remove (the volume then holds exactly the image's files).
func writeVolumeData(t *testing.T, p *e2e.Project) {
	t.Helper()
	p.MustCompose("exec", "-T", "web", "sh", "-c",
		"echo user-1 > /data/db.txt && echo user-2 > /var/lib/data/db.txt && echo stray > /deps/stray.txt")
}

// checkVolumes reads every volume through the container after the deps
// edit: the deps volume holds the new image's files and nothing else, the
// data volumes what they held.
func checkVolumes(t *testing.T, p *e2e.Project, port int) {
	t.Helper()
	e2e.WaitServing(t, e2e.URL(port, "/deps/installed.txt"), "deps-v2", serveTimeout)
	for path, want := range map[string]string{"/data/db.txt": "user-1", "/var/lib/data/db.txt": "user-2", "/data/seed.txt": "seed"} {
		if got := strings.TrimSpace(e2e.Get(t, e2e.URL(port, path))); got != want {
			t.Errorf("%s = %q, want %q: a data volume lost its content", path, got, want)
		}
	}
	if body, err := e2e.TryGet(e2e.URL(port, "/deps/stray.txt")); err == nil {
		t.Errorf("/deps/stray.txt still served (%q): the deps volume was not refreshed exactly", body)
	}
	if left := e2e.Docker(t, "ps", "-aq", "--filter", "label=io.rebuildd.throwaway="+p.Name); strings.TrimSpace(left) != "" {
		t.Errorf("throwaway containers left behind: %s", left)
	}
}

// volumeActions are rebuildd's "volume" log lines as "path action".
func volumeActions(lines []map[string]any) []string {
	var out []string
	for _, m := range lines {
		if m["msg"] == "volume" {
			out = append(out, fmt.Sprint(m["path"], " ", m["action"]))
		}
	}
	slices.Sort(out)
	return out
}

var wantVolumeActions = []string{"/data kept", "/deps refreshed", "/var/lib/data kept"}

// testOnceDataVolumes: --once after a deps edit.
func testOnceDataVolumes(t *testing.T, bin string, c e2e.Compose, base string) {
	port := e2e.FreePort(t)
	r := newOnceRig(t, bin, c, dataVolumeFiles(base, port))
	r.mustRun(0, "--once")
	e2e.WaitServing(t, e2e.URL(port, "/deps/installed.txt"), "deps-v1", serveTimeout)
	writeVolumeData(t, r.p)
	r.p.Write("deps.txt", "deps-v2")
	var res result
	r.expect("--once after a deps edit", func() { res = r.mustRun(0, "--once") }, 1, 1)
	checkVolumes(t, r.p, port)
	if got := volumeActions(jsonLines(res.stderr)); !slices.Equal(got, wantVolumeActions) {
		t.Errorf("volume log lines %q, want %q\n%s", got, wantVolumeActions, res.stderr)
	}
}

// testWatchDataVolumes: the same in watch mode.
func testWatchDataVolumes(t *testing.T, bin string, c e2e.Compose, base string) {
	port := e2e.FreePort(t)
	r := newWatchRig(t, bin, c, dataVolumeFiles(base, port), "")
	e2e.WaitServing(t, e2e.URL(port, "/deps/installed.txt"), "deps-v1", serveTimeout)
	writeVolumeData(t, r.p)
	var seen []map[string]any
	r.expect("deps edit", func() {
		r.p.Write("deps.txt", "deps-v2")
		for len(seen) < len(wantVolumeActions) {
			seen = append(seen, r.wait("volume", nil))
		}
		if got := r.result("web"); !strings.Contains(got, "rebuilt") {
			t.Fatalf("deps edit: %s", got)
		}
	}, 1, 1, 0)
	checkVolumes(t, r.p, port)
	if got := volumeActions(seen); !slices.Equal(got, wantVolumeActions) {
		t.Errorf("volume log lines %q, want %q", got, wantVolumeActions)
	}
}

// testOnceSourceRun: deps.txt is copied before the RUN that installs it
// and no context input follows that RUN, so the layer model calls it
// source; its change still re-runs the RUN, and the volume over /deps is
// refreshed all the same.
func testOnceSourceRun(t *testing.T, bin string, c e2e.Compose, base string) {
	if c.V1() {
		t.Skip("rebuildd's own logic, covered under Compose v2")
	}
	port := e2e.FreePort(t)
	r := newOnceRig(t, bin, c, map[string]string{
		"compose.yaml": fmt.Sprintf("services:\n  web:\n    build: .\n    volumes:\n      - /deps\n"+
			"    ports:\n      - \"127.0.0.1:%d:80\"\n", port),
		"Dockerfile": "FROM " + base + "\nCOPY deps.txt /src/\nRUN mkdir -p /deps && cp /src/deps.txt /deps/installed.txt\n" +
			`CMD ["httpd", "-f", "-p", "80", "-h", "/"]` + "\n",
		"deps.txt": "deps-v1",
	})
	r.p.Write("deps.txt", "deps-v1 "+r.p.Name) // BuildKit's shared cache: see newOnceRig
	url := e2e.URL(port, "/deps/installed.txt")
	r.mustRun(0, "--once")
	e2e.WaitServing(t, url, "deps-v1", serveTimeout)
	r.p.Write("deps.txt", "deps-v2")
	out := r.mustRun(0, "--once", "--json").stdout
	if !strings.Contains(out, "deps.txt changed (source layer") {
		t.Errorf("deps.txt is not the source change here: %s", out)
	}
	e2e.WaitServing(t, url, "deps-v2", serveTimeout)
}

// testOnceNextDeps: the Next.js form, a deps stage whose node_modules the
// dev stage copies in before COPY . ., with an anonymous node_modules
// volume: after a lock edit the container sees the new packages.
func testOnceNextDeps(t *testing.T, bin string, c e2e.Compose, base string) {
	port := e2e.FreePort(t)
	r := newOnceRig(t, bin, c, map[string]string{
		"compose.yaml": fmt.Sprintf("services:\n  web:\n    build: .\n    volumes:\n      - /app/node_modules\n"+
			"    ports:\n      - \"127.0.0.1:%d:80\"\n", port),
		"Dockerfile": "FROM " + base + " AS deps\nWORKDIR /app\nCOPY package.json package-lock.json ./\n" +
			"RUN mkdir -p node_modules && cp package-lock.json node_modules/lock.txt\n" +
			"FROM " + base + " AS dev\nWORKDIR /app\nCOPY --from=deps /app/node_modules ./node_modules\nCOPY . .\n" +
			`CMD ["httpd", "-f", "-p", "80", "-h", "/app"]` + "\n",
		"package-lock.json": "lock-v1",
	})
	// Unique per project, so BuildKit's shared cache cannot hand one
	// project's deps stage to another.
	r.p.Write("package.json", `{"name":"`+r.p.Name+`"}`)
	url := e2e.URL(port, "/node_modules/lock.txt")
	r.mustRun(0, "--once")
	e2e.WaitServing(t, url, "lock-v1", serveTimeout)
	r.p.Write("package-lock.json", "lock-v2")
	out := r.mustRun(0, "--once", "--json").stdout
	if !strings.Contains(out, "package-lock.json changed (deps layer") {
		t.Errorf("the lock file is not named as a deps change: %s", out)
	}
	e2e.WaitServing(t, url, "lock-v2", serveTimeout)
}

// jsonLines parses rebuildd's JSON log (other lines are skipped).
func jsonLines(s string) []map[string]any {
	var out []map[string]any
	for _, line := range strings.Split(s, "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) == nil {
			out = append(out, m)
		}
	}
	return out
}
