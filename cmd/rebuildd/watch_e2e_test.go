package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rebuildd/rebuildd/internal/e2e"
)

// Watch-mode end-to-end tests: the real rebuildd daemon, a real engine and
// each Compose CLI. Builds, recreations and restarts are counted from the
// engine (events, new images: see e2e.Project.Builds for what BuildKit on
// Engine 20.10 lets us see); rebuildd's JSON log lines are only used to know
// when it has finished handling a change (a sentinel), never as evidence.

// logWait bounds waiting for one of rebuildd's log lines: builds of test
// images take seconds on an idle machine, but over a minute were seen on a
// loaded 2-core CI machine (a 5,000-file context); three minutes means
// rebuildd is stuck.
const logWait = 3 * time.Minute

// watchRig is a project plus a running `rebuildd` (watch mode).
type watchRig struct {
	t       *testing.T
	c       e2e.Compose
	p       *e2e.Project
	cmd     *exec.Cmd
	lines   chan map[string]any // every JSON log line, in order; closed at exit
	done    chan struct{}       // closed when the process has exited; err is then set
	started time.Time           // e2e.Project.Mark taken just before rebuildd started
	bin     string
	state   string   // --state-dir, kept across relaunch
	env     []string // added to rebuildd's environment
	err     error
	mu      sync.Mutex
	seen    []string // raw lines, for failure messages
}

// composeCommandYAML pins the rig's Compose CLI, so a v1 run really uses v1
// even where the v2 plugin is installed.
func composeCommandYAML(c e2e.Compose) string {
	q := make([]string, len(c.Command))
	for i, a := range c.Command {
		q[i] = fmt.Sprintf("%q", a)
	}
	return "compose_command: [" + strings.Join(q, ", ") + "]\n"
}

func newWatchRig(t *testing.T, bin string, c e2e.Compose, files map[string]string, settings string) *watchRig {
	t.Helper()
	return startWatchRig(t, bin, c, files, settings, nil)
}

// startWatchRig is newWatchRig with a prepare step that runs in the
// project directory before rebuildd starts.
func startWatchRig(t *testing.T, bin string, c e2e.Compose, files map[string]string, settings string, prepare func(*e2e.Project), env ...string) *watchRig {
	t.Helper()
	files["rebuild.yaml"] = composeCommandYAML(c) + settings
	r := &watchRig{t: t, c: c, p: e2e.NewProject(t, c, files), bin: bin, state: t.TempDir(), env: env}
	if prepare != nil {
		prepare(r.p)
	}
	r.launch()
	t.Cleanup(func() { r.stop() })
	return r
}

// launch starts rebuildd on the rig's project and state dir (again, after
// it has exited) and waits for its ready line. It is the leader of a
// process group, as a terminal's foreground job is, so a test can signal
// the group as a Ctrl-C does.
func (r *watchRig) launch() {
	t := r.t
	t.Helper()
	r.lines, r.done, r.err = make(chan map[string]any, 1<<16), make(chan struct{}), nil
	r.started = r.p.Mark()
	r.cmd = exec.Command(r.bin, "-p", r.p.Name, "--state-dir", r.state, "--log-format", "json")
	r.cmd.Dir = r.p.Dir
	r.cmd.Env = append(append(append(os.Environ(), r.p.Env()...), "REBUILDD_DEBUG=1"), r.env...)
	r.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stderr, err := r.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	r.cmd.Stdout = io.Discard
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go r.read(r.cmd, r.lines, r.done, stderr)
	r.wait("ready", nil)
}

// read parses rebuildd's stderr: JSON log lines as they are, build output
// as {"msg": "", "raw": line}.
func (r *watchRig) read(cmd *exec.Cmd, lines chan map[string]any, done chan struct{}, rd io.Reader) {
	sc := bufio.NewScanner(rd)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		r.mu.Lock()
		r.seen = append(r.seen, line)
		r.mu.Unlock()
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) != nil {
			m = map[string]any{"msg": "", "raw": line} // build output
		}
		lines <- m
	}
	close(lines)
	r.err = cmd.Wait()
	close(done)
}

func (r *watchRig) stop() {
	select {
	case <-r.done:
	default:
		_ = r.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-r.done:
		case <-time.After(logWait):
			_ = r.cmd.Process.Kill()
		}
	}
	if r.t.Failed() {
		r.mu.Lock()
		out := strings.Join(r.seen, "\n")
		r.mu.Unlock()
		r.t.Logf("rebuildd output:\n%s", out)
		if msg := e2e.Explain(out); msg != "" {
			r.t.Log(msg)
		}
	}
}

// wait returns the next log line with msg for which match (nil: any) holds.
func (r *watchRig) wait(msg string, match func(map[string]any) bool) map[string]any {
	r.t.Helper()
	deadline := time.After(logWait)
	for {
		select {
		case m, ok := <-r.lines:
			if !ok {
				r.t.Fatalf("rebuildd exited while waiting for %q", msg)
			}
			if m["msg"] == msg && (match == nil || match(m)) {
				return m
			}
		case <-deadline:
			r.t.Fatalf("no %q log line within %s", msg, logWait)
		}
	}
}

// result waits for the outcome of the next request for service.
func (r *watchRig) result(service string) string {
	r.t.Helper()
	m := r.wait("result", func(m map[string]any) bool { return m["service"] == service })
	s, _ := m["result"].(string)
	if e, ok := m["error"].(string); ok {
		s += " error: " + e
	}
	return s
}

// expect runs fn and checks the engine's build/create/restart counts
// since. builds -1: any number (cancelled builds that may or may not have
// made an image).
func (r *watchRig) expect(what string, fn func(), builds, creates, restarts int) {
	r.t.Helper()
	since := r.p.Mark()
	fn()
	ev, nb := r.p.Events(since), r.p.Builds(since)
	if (builds >= 0 && nb != builds) || ev.Creates("") != creates || ev.Restarts("") != restarts {
		r.t.Fatalf("%s: %d builds, %d creates, %d restarts; want %d, %d, %d\nevents:\n%s",
			what, nb, ev.Creates(""), ev.Restarts(""), builds, creates, restarts, ev)
	}
}

func (r *watchRig) touch(rel string) {
	r.t.Helper()
	future := time.Now().Add(time.Minute)
	if err := os.Chtimes(r.p.Path(rel), future, future); err != nil {
		r.t.Fatal(err)
	}
}

// scenario is one e2e scenario, run under one Compose CLI with a base
// image of its CLI's test.
type scenario func(t *testing.T, bin string, c e2e.Compose, base string)

// scenarios returns the runners of a suite under Compose CLI c. Every
// scenario runs under v2. Under v1 the ones where the Compose CLI matters
// run (build, -V, restart, up of a new service, a failing build): both;
// the others exercise rebuildd's own logic, the same whichever CLI it
// calls, and would only double CI's Docker time: v2.
func scenarios(t *testing.T, bin string, c e2e.Compose) (both, v2 func(string, scenario)) {
	base := e2e.BaseImage(t)
	both = func(name string, f scenario) {
		t.Run(name, func(t *testing.T) { f(t, bin, c, base) })
	}
	v2 = func(name string, f scenario) {
		t.Run(name, func(t *testing.T) {
			if c.V1() {
				t.Skip("rebuildd's own logic, covered under Compose v2")
			}
			f(t, bin, c, base)
		})
	}
	return both, v2
}

func TestWatchE2E(t *testing.T) {
	t.Parallel() // beside TestOnceE2E: own projects, own base images
	e2e.Require(t)
	composes := e2e.Composes(t)
	bin := buildBinary(t)
	for _, c := range composes {
		t.Run(c.Name, func(t *testing.T) {
			t.Parallel() // the two Compose CLIs side by side
			both, v2 := scenarios(t, bin, c)
			both("source-edits", testWatchSourceEdits)
			both("deps-renews-anon-volume", testWatchDeps)
			both("deps-keeps-data-volumes", testWatchDataVolumes)
			v2("bind-mounted-source", testWatchBindMount)
			both("broken-compose-holds-edit", testWatchBrokenCompose)
			both("on-source-restart", testWatchRestart)
			v2("edits-during-build", testWatchDuringBuild)
			both("broken-dockerfile", testWatchBroken)
			both("compose-edit-adds-service", testWatchNewService)
			v2("checkout-storm", testWatchCheckout)
			v2("sigterm-during-build", testWatchSigterm)
			v2("develop-watch-sync", testWatchDevelopSync)
			v2("engine-goes-away", testWatchEngineAway)
			v2("second-instance-refused", testWatchSecondInstance)
			both("ctrl-c-twice-during-recreate", testWatchCtrlCTwiceDuringRecreate)
			v2("kill-9-during-recreate", testWatchKill9DuringRecreate)
		})
	}
}

// testWatchSourceEdits: the start-up reconcile builds and starts; a touch,
// an unused README edit and an edit reverted inside the quiet window run
// nothing; a real source edit, only COPYed with no RUN after, is synced
// into the running container (served with no build and no create), and
// the image then converges behind it: one build, nothing recreated.
func testWatchSourceEdits(t *testing.T, bin string, c e2e.Compose, base string) {
	port := e2e.FreePort(t)
	url := e2e.URL(port, "/index.html")
	r := newWatchRig(t, bin, c, webFiles(base, port), "debounce: 300ms\n")
	e2e.WaitServing(t, url, "v1", serveTimeout)
	since := r.started
	if ev, nb := r.p.Events(since), r.p.Builds(since); nb != 1 || ev.Creates("") != 1 {
		t.Fatalf("start-up reconcile: %d builds, %d creates; want 1, 1\n%s", nb, ev.Creates(""), ev)
	}
	r.expect("touch", func() {
		r.touch("site/index.html")
		if got := r.result("web"); got != "nothing to do" {
			t.Fatalf("touch: %s", got)
		}
	}, 0, 0, 0)
	r.expect("README edit then a touch as sentinel", func() {
		r.p.Write("README.md", "# edited")
		r.wait("decision", func(m map[string]any) bool { return m["action"] == "none" })
		r.touch("site/index.html")
		if got := r.result("web"); got != "nothing to do" {
			t.Fatalf("sentinel: %s", got)
		}
	}, 0, 0, 0)
	r.expect("edit and revert", func() {
		r.p.Write("site/index.html", "v-temp")
		r.p.Write("site/index.html", "v1")
		if got := r.result("web"); got != "nothing to do" {
			t.Fatalf("edit+revert: %s", got)
		}
	}, 0, 0, 0)
	r.expect("source edit: synced, then the image converges", func() {
		r.liveEdit("web", url, "v2", func() { r.p.Write("site/index.html", "v2") })
		r.converged("web")
	}, 1, 0, 0)
	if got := e2e.Get(t, url); got != "v2" {
		t.Fatalf("served %q after the image converged, want v2", got)
	}
}

// testWatchDeps: a deps edit rebuilds and renews the anonymous volume.
func testWatchDeps(t *testing.T, bin string, c e2e.Compose, base string) {
	port := e2e.FreePort(t)
	files := map[string]string{
		"compose.yaml": fmt.Sprintf("services:\n  web:\n    build: .\n    volumes:\n      - /deps\n    ports:\n      - \"127.0.0.1:%d:80\"\n", port),
		"Dockerfile": "FROM " + base + "\nCOPY deps.txt /src/\nRUN mkdir -p /deps && cp /src/deps.txt /deps/installed.txt\n" +
			"COPY site /www\n" + `CMD ["httpd", "-f", "-p", "80", "-h", "/"]` + "\n",
		"deps.txt":        "deps-v1",
		"site/index.html": "v1",
	}
	r := newWatchRig(t, bin, c, files, "")
	url := e2e.URL(port, "/deps/installed.txt")
	e2e.WaitServing(t, url, "deps-v1", serveTimeout)
	r.expect("deps edit", func() {
		r.p.Write("deps.txt", "deps-v2")
		d := r.wait("decision", func(m map[string]any) bool { return m["service"] == "web" })
		if d["impact"] != "deps" || d["action"] != "rebuild" {
			t.Fatalf("decision: %v", d)
		}
		if got := r.result("web"); !strings.Contains(got, "rebuilt") {
			t.Fatalf("deps edit: %s", got)
		}
	}, 1, 1, 0)
	// Without --renew-anon-volumes the old volume would still say deps-v1.
	e2e.WaitServing(t, url, "deps-v2", serveTimeout)
}

// testWatchBindMount: source that a bind mount carries into the container,
// with no RUN after its COPY, needs neither a build nor a restart.
func testWatchBindMount(t *testing.T, bin string, c e2e.Compose, base string) {
	port := e2e.FreePort(t)
	files := webFiles(base, port)
	files["compose.yaml"] = fmt.Sprintf("services:\n  web:\n    build: .\n    volumes:\n      - ./site:/www\n    ports:\n      - \"127.0.0.1:%d:80\"\n", port)
	r := newWatchRig(t, bin, c, files, "")
	url := e2e.URL(port, "/index.html")
	e2e.WaitServing(t, url, "v1", serveTimeout)
	r.expect("bind-mounted edit", func() {
		r.p.Write("site/index.html", "v2")
		d := r.wait("decision", func(m map[string]any) bool { return m["service"] == "web" })
		if d["action"] != "none" || d["impact"] != "source" {
			t.Fatalf("decision: %v", d)
		}
		e2e.WaitServing(t, url, "v2", serveTimeout) // through the bind mount
	}, 0, 0, 0)
}

// testWatchRestart: on_source: restart restarts instead of doing nothing.
func testWatchRestart(t *testing.T, bin string, c e2e.Compose, base string) {
	port := e2e.FreePort(t)
	files := webFiles(base, port)
	files["compose.yaml"] = fmt.Sprintf("services:\n  web:\n    build: .\n    volumes:\n      - ./site:/www\n    ports:\n      - \"127.0.0.1:%d:80\"\n", port)
	r := newWatchRig(t, bin, c, files, "services:\n  web:\n    on_source: restart\n")
	e2e.WaitServing(t, e2e.URL(port, "/index.html"), "v1", serveTimeout)
	r.expect("bind-mounted edit with on_source: restart", func() {
		r.p.Write("site/index.html", "v2")
		if got := r.result("web"); got != "restarted" {
			t.Fatalf("result: %s", got)
		}
	}, 0, 0, 1)
}

// testWatchDuringBuild: edits that arrive while a build runs cause exactly
// one follow-up build, which serves the last edit.
func testWatchDuringBuild(t *testing.T, bin string, c e2e.Compose, base string) {
	port := e2e.FreePort(t)
	files := webFiles(base, port)
	// The RUN after the COPY makes each source build take a few seconds.
	files["Dockerfile"] = "FROM " + base + "\nCOPY site /www\nRUN sleep 4\n" + e2e.HTTPDCmd
	r := newWatchRig(t, bin, c, files, "debounce: 100ms\n"+onSourceRebuild)
	url := e2e.URL(port, "/index.html")
	e2e.WaitServing(t, url, "v1", serveTimeout)
	r.expect("three edits during one build", func() {
		r.p.Write("site/index.html", "v2")
		// The build has read its context once it runs the RUN after the COPY:
		// edits from now on need the follow-up build.
		r.wait("progress", func(m map[string]any) bool { return m["service"] == "web" && m["instruction"] == "RUN sleep 4" })
		for _, v := range []string{"v3", "v4", "v5"} {
			r.p.Write("site/index.html", v)
			r.wait("queued", func(m map[string]any) bool { return m["service"] == "web" })
		}
		for i := 0; i < 2; i++ {
			if got := r.result("web"); !strings.Contains(got, "rebuilt") {
				t.Fatalf("build %d: %s", i+1, got)
			}
		}
		r.touch("site/index.html") // sentinel: nothing else was queued
		if got := r.result("web"); got != "nothing to do" {
			t.Fatalf("a third build ran: %s", got)
		}
	}, 2, 2, 0)
	e2e.WaitServing(t, url, "v5", serveTimeout)
}

// testWatchBroken: a broken Dockerfile keeps the old container serving;
// fixing it recovers.
func testWatchBroken(t *testing.T, bin string, c e2e.Compose, base string) {
	port := e2e.FreePort(t)
	// The fix restores the Dockerfile the running image was built from, so
	// the edit alone would be synced: on_source: rebuild keeps this about
	// recovering through a build.
	r := newWatchRig(t, bin, c, webFiles(base, port), onSourceRebuild)
	url := e2e.URL(port, "/index.html")
	e2e.WaitServing(t, url, "v1", serveTimeout)
	r.expect("syntax error, then a failing RUN", func() {
		r.p.Write("Dockerfile", "FROM "+base+"\nCOPY\n")
		l := r.wait("not built until this is fixed; changes wait, the running container stays as it is", nil)
		if !strings.Contains(fmt.Sprint(l["error"]), "Dockerfile:2") {
			t.Errorf("error does not name Dockerfile:2: %v", l)
		}
		r.p.Write("Dockerfile", "FROM "+base+"\nCOPY site /www\nRUN exit 3\n"+e2e.HTTPDCmd)
		if got := r.result("web"); !strings.Contains(got, "failed") {
			t.Fatalf("failing build: %s", got)
		}
	}, 0, 0, 0)
	if got := e2e.Get(t, url); got != "v1" {
		t.Fatalf("old container serves %q", got)
	}
	r.expect("the fix", func() {
		r.p.Write("site/index.html", "v2")
		r.p.Write("Dockerfile", "FROM "+base+"\nCOPY site /www\n"+e2e.HTTPDCmd)
		if got := r.result("web"); !strings.Contains(got, "rebuilt") {
			t.Fatalf("after the fix: %s", got)
		}
	}, 1, 1, 0)
	e2e.WaitServing(t, url, "v2", serveTimeout)
}

// testWatchBrokenCompose: an edit made while compose.yaml is broken is
// held, not acted on against a project that does not load and not lost:
// the fix syncs it, and the image converges, exactly once.
func testWatchBrokenCompose(t *testing.T, bin string, c e2e.Compose, base string) {
	port := e2e.FreePort(t)
	files := webFiles(base, port)
	r := newWatchRig(t, bin, c, files, "")
	url := e2e.URL(port, "/index.html")
	e2e.WaitServing(t, url, "v1", serveTimeout)
	r.expect("edit while compose.yaml is broken, then the fix", func() {
		r.p.Write("compose.yaml", files["compose.yaml"]+"  oops: [\n")
		r.wait("configuration not reloaded; the last good one keeps running, and changes wait until the file is fixed", nil)
		r.p.Write("site/index.html", "v2")
		r.wait("held until the configuration loads again; nothing is lost: the fix re-checks it", nil)
		r.liveEdit("web", url, "v2", func() { r.p.Write("compose.yaml", files["compose.yaml"]) })
		r.converged("web")
		r.touch("site/index.html") // sentinel: no second build queued
		if got := r.result("web"); got != "nothing to do" {
			t.Fatalf("a second build ran: %s", got)
		}
	}, 1, 0, 0)
	e2e.WaitServing(t, url, "v2", serveTimeout)
}

// testWatchNewService: a service added to compose.yaml is built, started
// and watched without restarting rebuildd.
func testWatchNewService(t *testing.T, bin string, c e2e.Compose, base string) {
	p1, p2 := e2e.FreePort(t), e2e.FreePort(t)
	files := webFiles(base, p1)
	files["two/Dockerfile"] = "FROM " + base + "\nCOPY . /www\n" + e2e.HTTPDCmd
	files["two/index.html"] = "two-v1"
	r := newWatchRig(t, bin, c, files, "")
	e2e.WaitServing(t, e2e.URL(p1, "/index.html"), "v1", serveTimeout)
	r.p.Write("compose.yaml", e2e.HTTPService("web", ".", p1)+
		fmt.Sprintf("  two:\n    build: ./two\n    ports:\n      - \"127.0.0.1:%d:80\"\n", p2))
	r.wait("configuration reloaded", nil)
	if got := r.result("two"); !strings.Contains(got, "two") {
		t.Fatalf("new service: %s", got)
	}
	e2e.WaitServing(t, e2e.URL(p2, "/index.html"), "two-v1", serveTimeout)
	r.expect("edit in the new service: synced, then the image converges", func() {
		r.liveEdit("two", e2e.URL(p2, "/index.html"), "two-v2", func() { r.p.Write("two/index.html", "two-v2") })
		r.converged("two")
	}, 1, 0, 0)
}

// testWatchCheckout: a git checkout of 5,000 files is one build.
func testWatchCheckout(t *testing.T, bin string, c e2e.Compose, base string) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	port := e2e.FreePort(t)
	files := webFiles(base, port)
	files[".dockerignore"] = ".git\n"
	git := func(p *e2e.Project, args ...string) {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-c", "user.name=t", "-c", "user.email=t@t"}, args...)...)
		cmd.Dir = p.Dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	// Both branches exist before rebuildd starts, so only the final
	// checkout is the storm.
	// The cap is raised so that the checkout is one batch even on a loaded
	// machine where writing 5,000 files takes longer than the default 2 s
	// (the index.lock hold lasts up to the cap).
	r := startWatchRig(t, bin, c, files, "max_wait: 60s\n"+onSourceRebuild, func(p *e2e.Project) {
		git(p, "init", "-q", "-b", "main")
		git(p, "add", "-A")
		git(p, "commit", "-qm", "base")
		git(p, "checkout", "-q", "-b", "storm")
		for i := 0; i < 5000; i++ {
			p.Write(fmt.Sprintf("site/gen/d%02d/f%04d.txt", i%50, i), fmt.Sprint(i))
		}
		p.Write("site/index.html", "stormed")
		git(p, "add", "-A")
		git(p, "commit", "-qm", "storm")
		git(p, "checkout", "-q", "main")
	})
	e2e.WaitServing(t, e2e.URL(port, "/index.html"), "v1", serveTimeout)
	r.expect("checkout of 5,000 files", func() {
		git(r.p, "checkout", "-q", "storm")
		if got := r.result("web"); !strings.Contains(got, "rebuilt") {
			t.Fatalf("checkout: %s", got)
		}
		r.touch("site/index.html") // sentinel: no second build queued
		if got := r.result("web"); got != "nothing to do" {
			t.Fatalf("a second build ran: %s", got)
		}
	}, 1, 1, 0)
	e2e.WaitServing(t, e2e.URL(port, "/index.html"), "stormed", serveTimeout)
}

// testWatchSigterm: SIGTERM during a build exits cleanly and leaves the old
// container serving.
func testWatchSigterm(t *testing.T, bin string, c e2e.Compose, base string) {
	port := e2e.FreePort(t)
	r := newWatchRig(t, bin, c, webFiles(base, port), onSourceRebuild)
	url := e2e.URL(port, "/index.html")
	e2e.WaitServing(t, url, "v1", serveTimeout)
	before := r.p.ContainerImage("web", 1)
	// A long RUN keeps the build going while the signal arrives.
	r.p.Write("Dockerfile", "FROM "+base+"\nCOPY site /www\nRUN sleep 30\n"+e2e.HTTPDCmd)
	r.wait("build", func(m map[string]any) bool { return m["service"] == "web" })
	if err := r.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	go func() {
		for range r.lines { // keep the reader going until exit
		}
	}()
	select {
	case <-r.done:
		if r.err != nil {
			t.Fatalf("rebuildd exit after SIGTERM: %v", r.err)
		}
	case <-ctx.Done():
		t.Fatal("rebuildd did not exit within 30s of SIGTERM")
	}
	if got := e2e.Get(t, url); got != "v1" {
		t.Errorf("served %q after the cancelled build, want v1", got)
	}
	if after := r.p.ContainerImage("web", 1); after != before {
		t.Errorf("container changed from %s to %s: half-recreated", before, after)
	}
}

// testWatchDevelopSync: a project written for `docker compose watch` keeps
// its develop.watch rules: a sync rule copies the edit into the running
// container through the Engine API, with no build and no recreate.
func testWatchDevelopSync(t *testing.T, bin string, c e2e.Compose, base string) {
	if c.V1() {
		t.Skip("develop.watch is a Compose v2 key; v1 rejects the file")
	}
	port := e2e.FreePort(t)
	files := webFiles(base, port)
	files["compose.yaml"] = fmt.Sprintf(`services:
  web:
    build: .
    ports: ["127.0.0.1:%d:80"]
    develop:
      watch:
        - path: ./site
          action: sync
          target: /www
`, port)
	r := newWatchRig(t, bin, c, files, "")
	url := e2e.URL(port, "/index.html")
	e2e.WaitServing(t, url, "v1", serveTimeout)
	r.expect("edit under a sync rule", func() {
		r.p.Write("site/index.html", "synced")
		if got := r.result("web"); got != "synced 1 path(s)" {
			t.Fatalf("result: %s", got)
		}
		e2e.WaitServing(t, url, "synced", serveTimeout)
	}, 0, 0, 0)
}

// testWatchSecondInstance: while one rebuildd watches the project, a second
// with another --state-dir (--once, or watch mode) refuses at once and
// names the first by pid: two of them raced on compose up (issue 17).
func testWatchSecondInstance(t *testing.T, bin string, c e2e.Compose, base string) {
	port := e2e.FreePort(t)
	r := newWatchRig(t, bin, c, webFiles(base, port), "")
	e2e.WaitServing(t, e2e.URL(port, "/index.html"), "v1", serveTimeout)
	for _, mode := range [][]string{{"--once"}, {}} {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		args := append([]string{"-p", r.p.Name, "--state-dir", t.TempDir()}, mode...)
		cmd := exec.CommandContext(ctx, bin, args...)
		cmd.Dir, cmd.Env = r.p.Dir, append(os.Environ(), r.p.Env()...)
		out, err := cmd.CombinedOutput()
		cancel()
		want := fmt.Sprintf("another rebuildd (pid %d", r.cmd.Process.Pid)
		if code := cmd.ProcessState.ExitCode(); code != exitFailed || !strings.Contains(string(out), want) {
			t.Errorf("second rebuildd %q: exit %d (%v), output %q; want exit 1 naming %q", args, code, err, out, want)
		}
	}
	select {
	case <-r.done:
		t.Fatalf("the first rebuildd exited: %v", r.err)
	default:
	}
}
