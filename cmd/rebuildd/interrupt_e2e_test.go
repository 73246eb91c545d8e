package main

import (
	"bufio"
	"context"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/rebuildd/rebuildd/internal/e2e"
)

// Interrupting rebuildd while `compose up` recreates a service must not
// leave the service down for good (issue 17, item 1). The recreate is
// caught in the act through the engine: the first "kill" event of the
// service's old container is Compose stopping it, and busybox httpd as
// PID 1 ignores SIGTERM, so the stop takes Docker's 10 s grace: a window
// in which rebuildd is certainly recreating.

// recreating starts watching the engine for Compose stopping service's
// container and returns a channel closed when it does.
func recreating(t *testing.T, p *e2e.Project, service string) <-chan struct{} {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), logWait)
	cmd := exec.CommandContext(ctx, "docker", "events", "--format", "{{.Action}}",
		"--filter", "label=com.docker.compose.project="+p.Name, "--filter", "label=com.docker.compose.service="+service,
		"--filter", "type=container", "--filter", "event=kill")
	out, err := cmd.StdoutPipe()
	if err == nil {
		err = cmd.Start()
	}
	if err != nil {
		cancel()
		t.Fatalf("docker events: %v", err)
	}
	seen := make(chan struct{})
	go func() {
		defer cancel()
		if bufio.NewScanner(out).Scan() {
			close(seen)
		}
		cmd.Process.Kill()
		cmd.Wait()
	}()
	return seen
}

// waitExit waits for rebuildd to exit and returns its exit code.
func (r *watchRig) waitExit(within time.Duration) int {
	r.t.Helper()
	go func() {
		for range r.lines { // keep the reader going until exit
		}
	}()
	select {
	case <-r.done:
		return r.cmd.ProcessState.ExitCode()
	case <-time.After(within):
		r.t.Fatalf("rebuildd did not exit within %s", within)
		return -1
	}
}

// testWatchCtrlCTwiceDuringRecreate: Ctrl-C twice while compose up
// replaces the container (SIGINT to rebuildd's process group, as a
// terminal sends it), then `rebuildd --once`: the service runs and serves
// the edit.
func testWatchCtrlCTwiceDuringRecreate(t *testing.T, bin string, c e2e.Compose, base string) {
	port := e2e.FreePort(t)
	r := newWatchRig(t, bin, c, webFiles(base, port), onSourceRebuild)
	url := e2e.URL(port, "/index.html")
	e2e.WaitServing(t, url, "v1", serveTimeout)
	inUp := recreating(t, r.p, "web")
	r.p.Write("site/index.html", "v2")
	select {
	case <-inUp:
	case <-time.After(logWait):
		t.Fatal("compose up never stopped the old container")
	}
	pgid := r.cmd.Process.Pid // rebuildd leads its group, as a terminal's job does
	if err := syscall.Kill(-pgid, syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	r.wait("stopping: no new work starts; a running build is cancelled, a running recreate finishes", nil)
	// A person's second Ctrl-C: later than the 100 ms in which rebuildd
	// counts repeats as one signal. The pause is the stimulus, not a wait
	// for rebuildd.
	time.Sleep(3 * sameSignal)
	if err := syscall.Kill(-pgid, syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if code := r.waitExit(stopGrace + time.Minute); code != exitInterrupted {
		t.Errorf("exit %d after the second Ctrl-C, want %d", code, exitInterrupted)
	}
	r.once(t)
	e2e.WaitServing(t, url, "v2", serveTimeout)
}

// testWatchKill9DuringRecreate: kill -9 of rebuildd while compose up
// replaces the container (its Compose child then dies writing to the pipe
// rebuildd held), then rebuildd again: its start-up reconcile brings the
// service up serving the edit.
func testWatchKill9DuringRecreate(t *testing.T, bin string, c e2e.Compose, base string) {
	port := e2e.FreePort(t)
	r := newWatchRig(t, bin, c, webFiles(base, port), onSourceRebuild)
	url := e2e.URL(port, "/index.html")
	e2e.WaitServing(t, url, "v1", serveTimeout)
	inUp := recreating(t, r.p, "web")
	r.p.Write("site/index.html", "v2")
	select {
	case <-inUp:
	case <-time.After(logWait):
		t.Fatal("compose up never stopped the old container")
	}
	if err := r.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	r.waitExit(time.Minute)
	r.launch()
	e2e.WaitServing(t, url, "v2", serveTimeout)
}

// once runs `rebuildd --once` on the rig's project and state dir.
func (r *watchRig) once(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), onceCommandTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, r.bin, "-p", r.p.Name, "--state-dir", r.state, "--once")
	cmd.Dir, cmd.Env = r.p.Dir, append(cmd.Environ(), r.p.Env()...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("rebuildd --once after the interrupted recreate: %v\n%s", err, out)
	}
}
