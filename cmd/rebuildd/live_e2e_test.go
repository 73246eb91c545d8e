package main

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rebuildd/rebuildd/internal/e2e"
)

// Live update end to end (docs/design.md, "Live update"; issue 16): the
// real rebuildd in watch mode, the real engine and each Compose CLI, with
// busybox httpd serving COPYed files. What happened is read from the
// engine: build and create counts (e2e.Project), archive uploads and execs
// into the container (its "extract-to-dir" and "exec_*" events), the
// container's ID, image and start time, what the image holds (a new
// container of it) and what is served. rebuildd's log lines only say when
// it has finished handling a change.

// onSourceRebuild keeps a scenario about the rebuild path on it: source
// edits of service web build and recreate instead of being synced.
const onSourceRebuild = "services:\n  web:\n    on_source: rebuild\n"

// convergedResult is the result of the build that follows a sync.
const convergedResult = "image built from the synced files; nothing recreated"

func TestLiveE2E(t *testing.T) {
	t.Parallel() // beside the other e2e tests: own projects, own base images
	e2e.Require(t)
	composes := e2e.Composes(t)
	bin := buildBinary(t)
	for _, c := range composes {
		t.Run(c.Name, func(t *testing.T) {
			t.Parallel() // the two Compose CLIs side by side
			both, v2 := scenarios(t, bin, c)
			both("edit-synced-then-converges", testLiveEdit)
			both("restart-when-not-reloading", testLiveRestart)
			v2("chown", testLiveChown)
			v2("delete-and-rename", testLiveDeleteRename)
			v2("new-nested-directory", testLiveNestedDir)
			v2("run-after-copy-rebuilds", testLiveRunAfter)
			v2("builder-stage-rebuilds", testLiveBuilderStage)
			v2("target-leaves-copy-out", testLiveTargetOut)
			v2("stopped-container", testLiveStopped)
			v2("browser-cache", testLiveBrowserCache)
			v2("shared-image", testLiveSharedImage)
			v2("daemon-stopped-after-sync", testLiveDaemonStopped)
			v2("edits-during-converge", testLiveEditsDuringConverge)
			v2("ignored-file", testLiveIgnored)
			v2("directory-removed", testLiveDirRemoved)
			v2("symlink-and-mode", testLiveSymlinkMode)
			v2("removal-shows-base-file", testLiveRemovalShowsBase)
			v2("workdir-copy-dot", testLiveCopyDot)
			v2("chown-by-name", testLiveChownByName)
			v2("chmod", testLiveChmod)
			v2("add", testLiveAdd)
		})
	}
}

// ctrState is what the engine says a container is: the same ID, image
// and start time before and after a change mean it was neither recreated
// nor restarted, and runs the image it ran.
type ctrState struct{ id, image, started string }

func (r *watchRig) ctr(service string) ctrState {
	r.t.Helper()
	out := e2e.Docker(r.t, "container", "inspect", "--format", "{{.Id}} {{.Image}} {{.State.StartedAt}}",
		r.p.ContainerName(service, 1))
	f := strings.Fields(out)
	if len(f) != 3 {
		r.t.Fatalf("inspect %s: %q", r.p.ContainerName(service, 1), out)
	}
	return ctrState{id: f[0], image: f[1], started: f[2]}
}

// synced waits for the result of service's next request and fails unless
// it was a live update. The end of a build behind an earlier sync (done,
// or cancelled by this change) may come first, and is skipped.
func (r *watchRig) synced(service string) map[string]any {
	r.t.Helper()
	m := r.wait("result", func(m map[string]any) bool {
		return m["service"] == service && m["result"] != convergedResult && m["status"] != "cancelled"
	})
	if m["action"] != "sync" {
		r.t.Fatalf("want a sync of %s, got %v", service, m)
	}
	return m
}

// converged waits for the build that follows a sync.
func (r *watchRig) converged(service string) {
	r.t.Helper()
	if got := r.result(service); got != convergedResult {
		r.t.Fatalf("after the sync: %s; want %q", got, convergedResult)
	}
}

// liveEdit runs edit, waits for rebuildd's sync of service and checks from
// the engine that url serves want at once, from the container that ran
// before, on the image it ran (so no build delivered it), not restarted,
// and that the engine copied into it or ran a command in it.
func (r *watchRig) liveEdit(service, url, want string, edit func()) {
	r.t.Helper()
	before := r.ctr(service)
	since := time.Now()
	edit()
	r.synced(service)
	if got, err := e2e.TryGet(url); err != nil || got != want {
		r.t.Fatalf("right after the sync %s serves %q (%v), want %q", url, got, err, want)
	}
	if after := r.ctr(service); after != before {
		r.t.Fatalf("container changed by the sync: %+v, was %+v", after, before)
	}
	if n := len(syncEvents(r.p.Events(since), before.id)); n == 0 {
		r.t.Fatalf("the engine saw no copy into or exec in %s\nevents:\n%s", service, r.p.Events(since))
	}
}

// syncEvents are the engine's archive uploads into container id and the
// execs in it: what a sync does to a container.
func syncEvents(es e2e.Events, id string) e2e.Events {
	return es.Filter(func(e e2e.Event) bool {
		return e.Type == "container" && e.ID == id && (e.Action == "extract-to-dir" || strings.HasPrefix(e.Action, "exec_"))
	})
}

// check runs `rebuildd --check` on the rig's project and state dir and
// returns its exit code and output.
func (r *watchRig) check() (int, string) {
	r.t.Helper()
	code, stdout, stderr := r.run("--check")
	return code, stdout + stderr
}

// run runs rebuildd with args (--check, --once) on the rig's project and
// state dir, and returns its exit code, stdout and stderr.
func (r *watchRig) run(args ...string) (int, string, string) {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), onceCommandTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, r.bin, append([]string{"-p", r.p.Name, "--state-dir", r.state}, args...)...)
	cmd.Dir, cmd.Env = r.p.Dir, append(os.Environ(), r.p.Env()...)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if cmd.ProcessState == nil {
		r.t.Fatalf("rebuildd %s: %v", strings.Join(args, " "), err)
	}
	return cmd.ProcessState.ExitCode(), stdout.String(), stderr.String()
}

// checkStatus is the status `rebuildd --check --json` gives service,
// failing unless it exits 0 (current, or synced).
func (r *watchRig) checkStatus(service string) string {
	r.t.Helper()
	code, out, errs := r.run("--check", "--json")
	var doc onceJSON
	if err := json.Unmarshal([]byte(out), &doc); err != nil || code != exitOK {
		r.t.Fatalf("rebuildd --check --json: exit %d (%v)\n%s\n%s", code, err, out, errs)
	}
	for _, s := range doc.Services {
		if s.Service == service {
			return s.Status
		}
	}
	r.t.Fatalf("rebuildd --check --json names no %s: %s", service, out)
	return ""
}

// upToDate checks that `rebuildd --check` says the project is current and
// that the image under service's tag is what a fresh `compose build` of
// the same files gives (a cached build: the same image ID); it returns
// that image's ID.
func (r *watchRig) upToDate(service string) string {
	r.t.Helper()
	if code, out := r.check(); code != exitOK {
		r.t.Fatalf("rebuildd --check: exit %d, want %d\n%s", code, exitOK, out)
	}
	tag := r.p.ImageName(service)
	img := r.p.ImageID(tag)
	r.p.MustCompose("build", service)
	if fresh := r.p.ImageID(tag); fresh != img {
		r.t.Fatalf("compose build gives %s, the converged image is %s", fresh, img)
	}
	return img
}

// inImage runs script with sh in a new container of image and returns its
// output.
func inImage(t *testing.T, image, script string) string {
	t.Helper()
	// Compose v2 labels the images it builds with the project, and a
	// container inherits them: blank them, so the project's event counts
	// do not take this container for one of its own.
	return e2e.Docker(t, "run", "--rm", "--network", "none", "--label", "com.docker.compose.project=",
		"--label", "com.docker.compose.service=", image, "sh", "-c", script)
}

// inContainer runs script with sh in the running container.
func inContainer(t *testing.T, name, script string) string {
	t.Helper()
	return e2e.Docker(t, "exec", name, "sh", "-c", script)
}

// httpStatus is the HTTP status url answers with.
func httpStatus(t *testing.T, url string) int {
	t.Helper()
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("get %s: %v", url, err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// testLiveEdit: an edit of a file only COPYed, with no RUN after, is
// served with no build and no create; then the image converges (one
// build, nothing recreated), --check says current, and the image is what
// a fresh compose build gives, holding the edit.
func testLiveEdit(t *testing.T, bin string, c e2e.Compose, base string) {
	port := e2e.FreePort(t)
	url := e2e.URL(port, "/index.html")
	r := newWatchRig(t, bin, c, webFiles(base, port), "")
	e2e.WaitServing(t, url, "v1", serveTimeout)
	old := r.ctr("web").image
	// The build behind the sync may finish at any time after it, so
	// builds are counted over both; that the edit was served without one
	// is shown by the container still running its old image, which holds
	// v1 (below).
	r.expect("the sync, then the image converges", func() {
		r.liveEdit("web", url, "v2", func() { r.p.Write("site/index.html", "v2") })
		r.converged("web")
	}, 1, 0, 0)
	img := r.upToDate("web")
	if img == old {
		t.Fatalf("the tag still names the image the container was created from")
	}
	if got := inImage(t, img, "cat /www/index.html"); got != "v2" {
		t.Fatalf("the converged image holds %q, want v2", got)
	}
	if got := inImage(t, old, "cat /www/index.html"); got != "v1" {
		t.Fatalf("the container's own image holds %q, want v1 (so v2 came from the sync)", got)
	}
	if got := e2e.Get(t, url); got != "v2" {
		t.Fatalf("served %q after the image converged, want v2", got)
	}
}

// testLiveRestart: a process that makes its own copy of the files at
// start (so a sync alone would not reach what it serves) is restarted
// through compose after the sync, and serves the edit; nothing is built
// before it, nothing recreated.
func testLiveRestart(t *testing.T, bin string, c e2e.Compose, base string) {
	port := e2e.FreePort(t)
	url := e2e.URL(port, "/index.html")
	files := webFiles(base, port)
	files["Dockerfile"] = "FROM " + base + "\nCOPY site /src\n" +
		`CMD ["sh", "-c", "cp -r /src/. /www/ && exec httpd -f -p 80 -h /www"]` + "\n"
	r := newWatchRig(t, bin, c, files, "")
	e2e.WaitServing(t, url, "v1", serveTimeout)
	before := r.ctr("web")
	r.expect("sync and restart, then the image converges", func() {
		r.p.Write("site/index.html", "v2")
		line := r.synced("web")
		if fmt.Sprint(line["restarted"]) != "[web]" {
			t.Errorf("sync result does not say web was restarted: %v", line)
		}
		after := r.ctr("web")
		if after.id != before.id || after.image != before.image || after.started == before.started {
			t.Fatalf("want the same container on the same image, restarted: %+v, was %+v", after, before)
		}
		// The container's command copies /src at start: the restart
		// is what serves the edit.
		e2e.WaitServing(t, url, "v2", serveTimeout)
		r.converged("web")
	}, 1, 0, 1)
	img := r.upToDate("web")
	if got := inImage(t, img, "cat /src/index.html"); got != "v2" {
		t.Fatalf("the converged image holds %q, want v2", got)
	}
}

// ownership lists owner, group and mode of paths (busybox stat).
const ownership = "stat -c '%n %u:%g %a' "

// testLiveChown: COPY --chown=1000:1000 gives the synced files (an edited
// one, a new one, one in a new directory) and the new directory uid and
// gid 1000 in the container, as in the image; modes are the host's, as
// in the image. (The engine's archive upload would make a missing parent
// directory root's.)
func testLiveChown(t *testing.T, bin string, c e2e.Compose, base string) {
	port := e2e.FreePort(t)
	url := e2e.URL(port, "/index.html")
	files := webFiles(base, port)
	files["Dockerfile"] = "FROM " + base + "\nCOPY --chown=1000:1000 site /www\n" + e2e.HTTPDCmd
	r := newWatchRig(t, bin, c, files, "")
	e2e.WaitServing(t, url, "v1", serveTimeout)
	r.expect("an edit, a new file and a new directory", func() {
		r.liveEdit("web", e2e.URL(port, "/sub/new.html"), "new", func() {
			r.p.Write("site/index.html", "v2")
			r.p.Write("site/sub/new.html", "new")
			for rel, mode := range map[string]os.FileMode{"site/sub": 0o750, "site/sub/new.html": 0o640} {
				if err := os.Chmod(r.p.Path(rel), mode); err != nil {
					t.Fatal(err)
				}
			}
		})
		r.converged("web")
	}, 1, 0, 0)
	stat := ownership + "/www/index.html /www/sub /www/sub/new.html"
	got := inContainer(t, r.p.ContainerName("web", 1), stat)
	want := "/www/index.html 1000:1000 644\n/www/sub 1000:1000 750\n/www/sub/new.html 1000:1000 640\n"
	if got != want {
		t.Fatalf("in the container:\n%s\nwant:\n%s", got, want)
	}
	if img := inImage(t, r.upToDate("web"), stat); img != got {
		t.Fatalf("in the container:\n%s\nin the image:\n%s", got, img)
	}
}

// testLiveDeleteRename: a deleted file is gone from the container (404),
// a renamed one is gone under its old name and served under its new one;
// each time the image converges with nothing recreated and holds the same
// files.
func testLiveDeleteRename(t *testing.T, bin string, c e2e.Compose, base string) {
	port := e2e.FreePort(t)
	files := webFiles(base, port)
	files["site/old.html"] = "old"
	files["site/a.html"] = "a"
	r := newWatchRig(t, bin, c, files, "")
	e2e.WaitServing(t, e2e.URL(port, "/old.html"), "old", serveTimeout)
	name := r.p.ContainerName("web", 1)
	r.expect("a deletion", func() {
		before := r.ctr("web")
		since := time.Now()
		r.p.Remove("site/old.html")
		r.synced("web")
		if got := httpStatus(t, e2e.URL(port, "/old.html")); got != http.StatusNotFound {
			t.Fatalf("deleted file: HTTP %d, want 404", got)
		}
		if after := r.ctr("web"); after != before {
			t.Fatalf("container changed by the sync: %+v, was %+v", after, before)
		}
		if len(syncEvents(r.p.Events(since), before.id)) == 0 {
			t.Fatalf("the engine saw no exec in the container")
		}
		r.converged("web")
	}, 1, 0, 0)
	r.expect("a rename", func() {
		r.liveEdit("web", e2e.URL(port, "/b.html"), "a", func() {
			if err := os.Rename(r.p.Path("site/a.html"), r.p.Path("site/b.html")); err != nil {
				t.Fatal(err)
			}
		})
		if got := httpStatus(t, e2e.URL(port, "/a.html")); got != http.StatusNotFound {
			t.Fatalf("renamed file under its old name: HTTP %d, want 404", got)
		}
		r.converged("web")
	}, 1, 0, 0)
	got := inContainer(t, name, "ls /www")
	if got != "b.html\nindex.html\n" {
		t.Fatalf("the container holds %q", got)
	}
	if img := inImage(t, r.upToDate("web"), "ls /www"); img != got {
		t.Fatalf("the container holds %q, the image %q", got, img)
	}
}

// testLiveNestedDir: a file in a new nested directory under a synced
// directory is served; the directories get the owner and mode the image
// gives them.
func testLiveNestedDir(t *testing.T, bin string, c e2e.Compose, base string) {
	port := e2e.FreePort(t)
	files := webFiles(base, port)
	r := newWatchRig(t, bin, c, files, "")
	e2e.WaitServing(t, e2e.URL(port, "/index.html"), "v1", serveTimeout)
	r.expect("a new nested directory", func() {
		r.liveEdit("web", e2e.URL(port, "/a/b/c.html"), "deep", func() { r.p.Write("site/a/b/c.html", "deep") })
		r.converged("web")
	}, 1, 0, 0)
	stat := ownership + "/www/a /www/a/b /www/a/b/c.html"
	got := inContainer(t, r.p.ContainerName("web", 1), stat)
	if img := inImage(t, r.upToDate("web"), stat); img != got {
		t.Fatalf("in the container:\n%s\nin the image:\n%s", got, img)
	}
}

// testLiveRunAfter: a RUN after the COPY processes the files: the edit
// rebuilds and recreates, and the RUN's output serves it.
func testLiveRunAfter(t *testing.T, bin string, c e2e.Compose, base string) {
	port := e2e.FreePort(t)
	url := e2e.URL(port, "/list.txt")
	files := webFiles(base, port)
	files["Dockerfile"] = "FROM " + base + "\nCOPY site /www\nRUN cat /www/index.html > /www/list.txt\n" + e2e.HTTPDCmd
	r := newWatchRig(t, bin, c, files, "")
	e2e.WaitServing(t, url, "v1", serveTimeout)
	r.expect("edit read by a RUN", func() {
		r.p.Write("site/index.html", "v2")
		if got := r.result("web"); !strings.HasPrefix(got, "rebuilt, recreated web") {
			t.Fatalf("result: %s", got)
		}
	}, 1, 1, 0)
	e2e.WaitServing(t, url, "v2", serveTimeout)
}

// testLiveBuilderStage: a source compiled in a builder stage, and one the
// final stage takes from it with COPY --from as it is, both rebuild.
func testLiveBuilderStage(t *testing.T, bin string, c e2e.Compose, base string) {
	port := e2e.FreePort(t)
	files := map[string]string{
		"compose.yaml": e2e.HTTPService("web", ".", port),
		"Dockerfile": "FROM " + base + " AS build\nCOPY src /src\n" +
			"RUN mkdir /out && sed 's/^/compiled /' /src/page.txt > /out/index.html\n" +
			"FROM " + base + "\nCOPY --from=build /out/ /www/\nCOPY --from=build /src/raw.html /www/raw.html\n" + e2e.HTTPDCmd,
		"src/page.txt": "v1",
		"src/raw.html": "raw-v1",
	}
	r := newWatchRig(t, bin, c, files, "")
	e2e.WaitServing(t, e2e.URL(port, "/index.html"), "compiled v1", serveTimeout)
	for _, step := range []struct{ file, body, url, want string }{
		{"src/page.txt", "v2", "/index.html", "compiled v2"},
		{"src/raw.html", "raw-v2", "/raw.html", "raw-v2"},
	} {
		r.expect(step.file+" edit", func() {
			r.p.Write(step.file, step.body)
			if got := r.result("web"); !strings.HasPrefix(got, "rebuilt, recreated web") {
				t.Fatalf("result: %s", got)
			}
		}, 1, 1, 0)
		e2e.WaitServing(t, e2e.URL(port, step.url), step.want, serveTimeout)
	}
}

// testLiveTargetOut: a file only a stage outside the compose target
// reads changes nothing: no build, no sync, no restart.
func testLiveTargetOut(t *testing.T, bin string, c e2e.Compose, base string) {
	port := e2e.FreePort(t)
	url := e2e.URL(port, "/index.html")
	files := map[string]string{
		"compose.yaml": fmt.Sprintf("services:\n  web:\n    build:\n      context: .\n      target: app\n    ports:\n      - \"127.0.0.1:%d:80\"\n", port),
		"Dockerfile": "FROM " + base + " AS app\nCOPY site /www\n" + e2e.HTTPDCmd +
			"FROM " + base + " AS docs\nCOPY docs /www\n" + e2e.HTTPDCmd,
		"site/index.html": "v1",
		"docs/index.html": "docs-v1",
	}
	r := newWatchRig(t, bin, c, files, "")
	e2e.WaitServing(t, url, "v1", serveTimeout)
	before := r.ctr("web")
	since := time.Now()
	r.expect("edit of a file the target does not read, then a touch as sentinel", func() {
		r.p.Write("docs/index.html", "docs-v2")
		r.wait("decision", func(m map[string]any) bool { return m["service"] == "web" && m["action"] == "none" })
		r.touch("site/index.html")
		if got := r.result("web"); got != "nothing to do" {
			t.Fatalf("sentinel: %s", got)
		}
	}, 0, 0, 0)
	if after := r.ctr("web"); after != before {
		t.Fatalf("container changed: %+v, was %+v", after, before)
	}
	if ev := syncEvents(r.p.Events(since), before.id); len(ev) > 0 {
		t.Fatalf("copied into or ran in the container:\n%s", ev)
	}
	if got := e2e.Get(t, url); got != "v1" {
		t.Fatalf("served %q, want v1", got)
	}
}

// testLiveStopped: a container stopped by hand is not synced into (no
// copy, no exec), and the edit is still built into the image. The build
// then goes as any build of the service: `compose up` recreates and
// starts the container (the base image stops with SIGKILL, busybox as PID
// 1 ignoring SIGTERM, so it exited 137, which the decision function calls
// failed; one that exited 0 is recreated and started by the build too).
func testLiveStopped(t *testing.T, bin string, c e2e.Compose, base string) {
	port := e2e.FreePort(t)
	url := e2e.URL(port, "/index.html")
	r := newWatchRig(t, bin, c, webFiles(base, port), "")
	e2e.WaitServing(t, url, "v1", serveTimeout)
	name := r.p.ContainerName("web", 1)
	stopped := r.ctr("web")
	e2e.Docker(t, "stop", name)
	since := r.p.Mark()
	r.p.Write("site/index.html", "v2")
	if got := r.result("web"); !strings.HasPrefix(got, "rebuilt, recreated web") {
		t.Fatalf("result %q, want a rebuild", got)
	}
	ev := r.p.Events(since)
	if sev := syncEvents(ev, stopped.id); len(sev) > 0 {
		t.Fatalf("copied into or ran in the stopped container:\n%s", sev)
	}
	if n := r.p.Builds(since); n != 1 || ev.Creates("") != 1 {
		t.Fatalf("%d builds, %d creates; want 1, 1\nevents:\n%s", n, ev.Creates(""), ev)
	}
	if held := inImage(t, r.p.ImageID(r.p.ImageName("web")), "cat /www/index.html"); held != "v2" {
		t.Fatalf("the image holds %q, want v2", held)
	}
	e2e.WaitServing(t, url, "v2", serveTimeout)
	if code, out := r.check(); code != exitOK {
		t.Fatalf("rebuildd --check: exit %d, want %d\n%s", code, exitOK, out)
	}
}

// testLiveBrowserCache: a browser that cached a page asks again with the
// ETag it got (busybox httpd makes it from the file's mtime and size): a
// synced edit of the same size must not be answered 304 Not Modified,
// and the synced file's mtime is the host file's, as COPY gives it.
func testLiveBrowserCache(t *testing.T, bin string, c e2e.Compose, base string) {
	port := e2e.FreePort(t)
	url := e2e.URL(port, "/index.html")
	r := newWatchRig(t, bin, c, webFiles(base, port), "")
	e2e.WaitServing(t, url, "v1", serveTimeout)
	etag := ""
	saved := time.Now().Truncate(time.Second)
	for _, v := range []string{"v2", "v3"} {
		r.liveEdit("web", url, v, func() {
			r.p.Write("site/index.html", v)
			// Saves seconds apart, as a person's are, however fast the
			// test runs: the ETag's mtime has a resolution of a second.
			saved = saved.Add(time.Minute)
			at := saved
			if err := os.Chtimes(r.p.Path("site/index.html"), at, at); err != nil {
				t.Fatal(err)
			}
		})
		code, body, tag := conditionalGet(t, url, etag)
		if code != http.StatusOK || body != v {
			t.Fatalf("after the sync of %s, a GET with If-None-Match %s: HTTP %d %q", v, etag, code, body)
		}
		etag = tag
		fi, err := os.Stat(r.p.Path("site/index.html"))
		if err != nil {
			t.Fatal(err)
		}
		got := strings.TrimSpace(inContainer(t, r.p.ContainerName("web", 1), "stat -c %Y /www/index.html"))
		if want := fmt.Sprint(fi.ModTime().Unix()); got != want {
			t.Fatalf("synced file's mtime %s, want the host file's %s", got, want)
		}
		r.converged("web")
	}
}

// conditionalGet asks url with If-None-Match etag (none when "") and
// returns the status, the body and the ETag of the answer.
func conditionalGet(t *testing.T, url, etag string) (int, string, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if etag != "" {
		req.Header.Set("If-None-Match", etag)
	}
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("get %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("get %s: %v", url, err)
	}
	return resp.StatusCode, string(body), resp.Header.Get("ETag")
}

// testLiveSharedImage: two services run one image: an edit is synced into
// both containers, and the image is built once, recreating neither.
func testLiveSharedImage(t *testing.T, bin string, c e2e.Compose, base string) {
	p1, p2 := e2e.FreePort(t), e2e.FreePort(t)
	r := startWatchRig(t, bin, c, webFiles(base, p1), "", func(p *e2e.Project) {
		p.Write("compose.yaml", fmt.Sprintf(`services:
  one:
    build: .
    image: %[1]s-shared
    ports: ["127.0.0.1:%[2]d:80"]
  two:
    build: .
    image: %[1]s-shared
    ports: ["127.0.0.1:%[3]d:80"]
`, p.Name, p1, p2))
	})
	urls := []string{e2e.URL(p1, "/index.html"), e2e.URL(p2, "/index.html")}
	for _, u := range urls {
		e2e.WaitServing(t, u, "v1", serveTimeout)
	}
	r.expect("an edit of the shared image's files", func() {
		before := []ctrState{r.ctr("one"), r.ctr("two")}
		since := time.Now()
		r.p.Write("site/index.html", "v2")
		if m := r.wait("result", nil); m["action"] != "sync" {
			t.Fatalf("want a sync, got %v", m)
		}
		for i, svc := range []string{"one", "two"} {
			if got, err := e2e.TryGet(urls[i]); err != nil || got != "v2" {
				t.Fatalf("%s serves %q (%v) right after the sync, want v2", svc, got, err)
			}
			if after := r.ctr(svc); after != before[i] {
				t.Fatalf("%s's container changed: %+v, was %+v", svc, after, before[i])
			}
			if len(syncEvents(r.p.Events(since), before[i].id)) == 0 {
				t.Fatalf("the engine saw no copy into %s", svc)
			}
		}
		if m := r.wait("result", nil); m["result"] != convergedResult {
			t.Fatalf("after the sync: %v", m)
		}
	}, 1, 0, 0)
	if code, out := r.check(); code != exitOK {
		t.Fatalf("rebuildd --check: exit %d\n%s", code, out)
	}
	if got := inImage(t, r.p.ImageID(r.p.Name+"-shared"), "cat /www/index.html"); got != "v2" {
		t.Fatalf("the image holds %q, want v2", got)
	}
}

// testLiveDaemonStopped: rebuildd stops right after a sync, before the
// image has (surely) caught up. --check says the stack is current
// (synced: the containers hold the current files, or up-to-date when
// the build behind the sync got there first), --once builds what is
// left and recreates nothing, and the next start finds nothing to do.
func testLiveDaemonStopped(t *testing.T, bin string, c e2e.Compose, base string) {
	port := e2e.FreePort(t)
	url := e2e.URL(port, "/index.html")
	r := newWatchRig(t, bin, c, webFiles(base, port), "")
	e2e.WaitServing(t, url, "v1", serveTimeout)
	before := r.ctr("web")
	since := r.p.Mark()
	r.liveEdit("web", url, "v2", func() { r.p.Write("site/index.html", "v2") })
	if err := r.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := r.waitExit(time.Minute); code != exitOK {
		t.Fatalf("rebuildd exit %d after SIGTERM", code)
	}
	builds := map[string]int{"synced": 1, "up-to-date": 0}
	st := r.checkStatus("web")
	want, ok := builds[st]
	if !ok {
		t.Fatalf("--check says %s after the sync", st)
	}
	t.Logf("after the sync and SIGTERM, --check says %s", st)
	if n := r.p.Builds(since); n != 1-want {
		t.Fatalf("%d builds before --once, yet --check says %s", n, st)
	}
	r.expect("--once", func() {
		if code, out, errs := r.run("--once"); code != exitOK {
			t.Fatalf("rebuildd --once: exit %d\n%s\n%s", code, out, errs)
		}
	}, want, 0, 0)
	if st := r.checkStatus("web"); st != "up-to-date" {
		t.Fatalf("--check says %s after --once", st)
	}
	r.expect("the next start", func() { r.launch() }, 0, 0, 0)
	if after := r.ctr("web"); after.id != before.id {
		t.Fatalf("container recreated: %+v, was %+v", after, before)
	}
	if got := inImage(t, r.p.ImageID(r.p.ImageName("web")), "cat /www/index.html"); got != "v2" {
		t.Fatalf("the image holds %q, want v2", got)
	}
	if got := e2e.Get(t, url); got != "v2" {
		t.Fatalf("served %q, want v2", got)
	}
}

// testLiveEditsDuringConverge: edits that come while the image catches
// up with an earlier sync are synced too (a change cancels a running
// converge build); in the end the container serves the last edit, was
// never recreated, and the image holds the last edit.
func testLiveEditsDuringConverge(t *testing.T, bin string, c e2e.Compose, base string) {
	port := e2e.FreePort(t)
	url := e2e.URL(port, "/index.html")
	r := newWatchRig(t, bin, c, webFiles(base, port), "")
	e2e.WaitServing(t, url, "v1", serveTimeout)
	r.expect("three edits, each right after the last one's sync", func() {
		for _, v := range []string{"v2", "v3", "v4"} {
			r.liveEdit("web", url, v, func() { r.p.Write("site/index.html", v) })
		}
		r.converged("web")
	}, -1, 0, 0)
	if st := r.checkStatus("web"); st != "up-to-date" {
		t.Fatalf("--check says %s", st)
	}
	if got := inImage(t, r.p.ImageID(r.p.ImageName("web")), "cat /www/index.html"); got != "v4" {
		t.Fatalf("the image holds %q, want v4", got)
	}
}

// testLiveIgnored: a file .dockerignore leaves out of the image is not
// copied into the container beside the synced ones: an edit of a synced
// file in the same batch goes in, the ignored one does not.
func testLiveIgnored(t *testing.T, bin string, c e2e.Compose, base string) {
	port := e2e.FreePort(t)
	files := webFiles(base, port)
	files[".dockerignore"] = "site/*.tmp\n"
	r := newWatchRig(t, bin, c, files, "")
	e2e.WaitServing(t, e2e.URL(port, "/index.html"), "v1", serveTimeout)
	r.expect("an edit and an ignored file", func() {
		r.liveEdit("web", e2e.URL(port, "/index.html"), "v2", func() {
			r.p.Write("site/scratch.tmp", "ignored")
			r.p.Write("site/index.html", "v2")
		})
		if got := httpStatus(t, e2e.URL(port, "/scratch.tmp")); got != http.StatusNotFound {
			t.Fatalf("ignored file: HTTP %d, want 404", got)
		}
		r.converged("web")
	}, 1, 0, 0)
	got := inContainer(t, r.p.ContainerName("web", 1), "ls /www")
	if img := inImage(t, r.upToDate("web"), "ls /www"); img != got || got != "index.html\n" {
		t.Fatalf("the container holds %q, the image %q; want only index.html", got, img)
	}
}

// testLiveDirRemoved: a directory removed with its files, and one renamed,
// is gone from the container as from the image: no empty directory is
// left behind where the image has none.
func testLiveDirRemoved(t *testing.T, bin string, c e2e.Compose, base string) {
	port := e2e.FreePort(t)
	files := webFiles(base, port)
	files["site/gone/a.html"] = "a"
	files["site/gone/deeper/b.html"] = "b"
	files["site/old/c.html"] = "c"
	r := newWatchRig(t, bin, c, files, "")
	e2e.WaitServing(t, e2e.URL(port, "/old/c.html"), "c", serveTimeout)
	r.expect("a directory removed, another renamed", func() {
		r.liveEdit("web", e2e.URL(port, "/new/c.html"), "c", func() {
			r.p.Remove("site/gone")
			if err := os.Rename(r.p.Path("site/old"), r.p.Path("site/new")); err != nil {
				t.Fatal(err)
			}
		})
		r.converged("web")
	}, 1, 0, 0)
	list := "find /www | sort"
	got := inContainer(t, r.p.ContainerName("web", 1), list)
	if img := inImage(t, r.upToDate("web"), list); img != got {
		t.Fatalf("the container holds:\n%s\nthe image:\n%s", got, img)
	}
}

// testLiveSymlinkMode: a new symbolic link is synced as a link (COPY of a
// directory copies links as they are) and served through; a mode change
// alone is synced; container and converged image agree on both.
func testLiveSymlinkMode(t *testing.T, bin string, c e2e.Compose, base string) {
	port := e2e.FreePort(t)
	files := webFiles(base, port)
	files["site/run.sh"] = "echo hi\n"
	r := newWatchRig(t, bin, c, files, "")
	e2e.WaitServing(t, e2e.URL(port, "/index.html"), "v1", serveTimeout)
	r.expect("a new link and a chmod", func() {
		r.liveEdit("web", e2e.URL(port, "/link.html"), "v1", func() {
			if err := os.Symlink("index.html", r.p.Path("site/link.html")); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(r.p.Path("site/run.sh"), 0o755); err != nil {
				t.Fatal(err)
			}
		})
		r.converged("web")
	}, 1, 0, 0)
	look := "readlink /www/link.html; stat -c '%n %a' /www/run.sh"
	got := inContainer(t, r.p.ContainerName("web", 1), look)
	if want := "index.html\n/www/run.sh 755\n"; got != want {
		t.Fatalf("in the container:\n%s\nwant:\n%s", got, want)
	}
	if img := inImage(t, r.upToDate("web"), look); img != got {
		t.Fatalf("in the container:\n%s\nin the image:\n%s", got, img)
	}
}

// testLiveRemovalShowsBase: a COPYed file that hides one of the base
// image's is removed: the sync removes it in the container, but the
// rebuilt image shows the base image's file there, so the converge
// recreates the container (it asks a container of the new image), which
// then holds what the image holds.
func testLiveRemovalShowsBase(t *testing.T, bin string, c e2e.Compose, base string) {
	port := e2e.FreePort(t)
	files := webFiles(base, port)
	files["Dockerfile"] = "FROM " + base + "\nCOPY site /www\nCOPY etc /etc/\n" + e2e.HTTPDCmd
	files["etc/group"] = "root:x:0:\nours:x:1234:\n"
	files["etc/extra"] = "extra"
	r := newWatchRig(t, bin, c, files, "")
	e2e.WaitServing(t, e2e.URL(port, "/index.html"), "v1", serveTimeout)
	name := r.p.ContainerName("web", 1)
	if got := inContainer(t, name, "cat /etc/group"); !strings.Contains(got, "ours") {
		t.Fatalf("/etc/group in the container: %q", got)
	}
	// The removal is synced (rm; httpd does not serve /etc, so the
	// container restarts), then the converge build finds the new image
	// has a file there and recreates the container.
	r.expect("removal of a file the base image also has", func() {
		r.p.Remove("etc/group")
		r.synced("web")
		if got := r.result("web"); !strings.HasPrefix(got, "rebuilt, recreated web") {
			t.Fatalf("after the sync: %s", got)
		}
	}, 1, 1, 1)
	got := inContainer(t, name, "cat /etc/group")
	if img := inImage(t, r.upToDate("web"), "cat /etc/group"); img != got || strings.Contains(got, "ours") {
		t.Fatalf("/etc/group in the container %q, in the image %q", got, img)
	}
}

// testLiveCopyDot: the common WORKDIR + COPY . . of a whole context: an
// edit and a new file under what httpd serves are synced to their places
// under WORKDIR and served with no restart; container and converged image
// hold the same files.
func testLiveCopyDot(t *testing.T, bin string, c e2e.Compose, base string) {
	port := e2e.FreePort(t)
	files := map[string]string{
		"compose.yaml":      e2e.HTTPService("web", ".", port),
		"Dockerfile":        "FROM " + base + "\nWORKDIR /app\nCOPY . .\n" + `CMD ["httpd", "-f", "-p", "80", "-h", "/app/public"]` + "\n",
		".dockerignore":     "rebuild.yaml\n",
		"public/index.html": "v1",
		"lib/code.txt":      "code",
	}
	r := newWatchRig(t, bin, c, files, "")
	url := e2e.URL(port, "/index.html")
	e2e.WaitServing(t, url, "v1", serveTimeout)
	r.expect("an edit and a new file", func() {
		r.liveEdit("web", url, "v2", func() {
			r.p.Write("public/index.html", "v2")
			r.p.Write("public/more/more.txt", "more")
		})
		r.converged("web")
	}, 1, 0, 0)
	look := "cd /app && find . -type f | sort | xargs md5sum"
	got := inContainer(t, r.p.ContainerName("web", 1), look)
	if !strings.Contains(got, "./public/more/more.txt") {
		t.Fatalf("the new file is not in the container:\n%s", got)
	}
	if img := inImage(t, r.upToDate("web"), look); img != got {
		t.Fatalf("in the container:\n%s\nin the image:\n%s", got, img)
	}
}

// testLiveChownByName: a --chown by user and group name is resolved in the
// container's /etc/passwd and /etc/group, as the build resolves it in the
// image's: nobody:nogroup is 65534:65534 in the base image.
func testLiveChownByName(t *testing.T, bin string, c e2e.Compose, base string) {
	port := e2e.FreePort(t)
	files := webFiles(base, port)
	files["Dockerfile"] = "FROM " + base + "\nCOPY --chown=nobody:nogroup site /www\n" + e2e.HTTPDCmd
	r := newWatchRig(t, bin, c, files, "")
	e2e.WaitServing(t, e2e.URL(port, "/index.html"), "v1", serveTimeout)
	r.expect("an edit", func() {
		r.liveEdit("web", e2e.URL(port, "/index.html"), "v2", func() { r.p.Write("site/index.html", "v2") })
		r.converged("web")
	}, 1, 0, 0)
	stat := ownership + "/www/index.html"
	got := inContainer(t, r.p.ContainerName("web", 1), stat)
	if want := "/www/index.html 65534:65534 644\n"; got != want {
		t.Fatalf("in the container %q, want %q", got, want)
	}
	if img := inImage(t, r.upToDate("web"), stat); img != got {
		t.Fatalf("in the container %q, in the image %q", got, img)
	}
}

// testLiveChmod: COPY --chmod gives a synced file, edited or new, the mode
// the build gives it, whatever the host file's.
func testLiveChmod(t *testing.T, bin string, c e2e.Compose, base string) {
	port := e2e.FreePort(t)
	files := webFiles(base, port)
	files["Dockerfile"] = "FROM " + base + "\nCOPY --chmod=640 site /www\n" + e2e.HTTPDCmd
	r := newWatchRig(t, bin, c, files, "")
	e2e.WaitServing(t, e2e.URL(port, "/index.html"), "v1", serveTimeout)
	r.expect("an edit and a new file", func() {
		r.liveEdit("web", e2e.URL(port, "/new.html"), "new", func() {
			r.p.Write("site/index.html", "v2")
			r.p.Write("site/new.html", "new")
		})
		r.converged("web")
	}, 1, 0, 0)
	stat := ownership + "/www/index.html /www/new.html"
	got := inContainer(t, r.p.ContainerName("web", 1), stat)
	if want := "/www/index.html 0:0 640\n/www/new.html 0:0 640\n"; got != want {
		t.Fatalf("in the container:\n%s\nwant:\n%s", got, want)
	}
	if img := inImage(t, r.upToDate("web"), stat); img != got {
		t.Fatalf("in the container:\n%s\nin the image:\n%s", got, img)
	}
}

// testLiveAdd: ADD of a directory copies it as COPY does, and an edit in
// it is synced; ADD of a local tar archive extracts it, so an edit of the
// archive rebuilds and recreates, and the extracted content is served.
func testLiveAdd(t *testing.T, bin string, c e2e.Compose, base string) {
	port := e2e.FreePort(t)
	files := webFiles(base, port)
	files["Dockerfile"] = "FROM " + base + "\nADD site /www\nADD pkg.tar /www/pkg/\n" + e2e.HTTPDCmd
	files["pkg.tar"] = tarOf(t, "p.html", "p1")
	r := newWatchRig(t, bin, c, files, "")
	e2e.WaitServing(t, e2e.URL(port, "/pkg/p.html"), "p1", serveTimeout)
	r.expect("an edit in an ADDed directory", func() {
		r.liveEdit("web", e2e.URL(port, "/index.html"), "v2", func() { r.p.Write("site/index.html", "v2") })
		r.converged("web")
	}, 1, 0, 0)
	r.expect("a new archive", func() {
		r.p.Write("pkg.tar", tarOf(t, "p.html", "p2"))
		if got := r.result("web"); !strings.HasPrefix(got, "rebuilt, recreated web") {
			t.Fatalf("result: %s", got)
		}
	}, 1, 1, 0)
	e2e.WaitServing(t, e2e.URL(port, "/pkg/p.html"), "p2", serveTimeout)
	e2e.WaitServing(t, e2e.URL(port, "/index.html"), "v2", serveTimeout)
}

// tarOf is a tar archive holding one file.
func tarOf(t *testing.T, name, body string) string {
	t.Helper()
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg}); err != nil {
		t.Fatal(err)
	}
	if _, err := tw.Write([]byte(body)); err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}
