package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// serveTimeout is how long a freshly started container may take to serve.
// It starts in well under a second on a quiet machine; over 20s was seen
// here with the engine's fuse-overlayfs storage under a load average of 30,
// so the bound is generous.
const serveTimeout = 90 * time.Second

// TestRig runs one project per Compose through the rig's whole life, in one
// project because every engine operation is slow on a loaded machine: a
// build with a RUN step, what busybox httpd serves, the build and creation
// counted from the engine, a rebuild after an edit, a cached build, and then
// the teardown, checked to leave nothing behind.
func TestRig(t *testing.T) {
	Require(t)
	base := BaseImage(t)
	for _, c := range Composes(t) {
		t.Run(c.Name, func(t *testing.T) {
			t.Parallel() // the two CLIs share nothing but the engine
			var name string
			var images, volumes []string
			port := FreePort(t)
			t.Run("life", func(t *testing.T) {
				p := NewProject(t, c, map[string]string{
					// The anonymous volume is there for the teardown to remove.
					"compose.yaml": fmt.Sprintf("services:\n  web:\n    build: .\n"+
						"    ports: [\"127.0.0.1:%d:80\"]\n    volumes: [\"/data\"]\n", port),
					"Dockerfile":      "FROM " + base + "\nRUN echo built > /www/run.txt\nCOPY site /www\n" + HTTPDCmd,
					"site/index.html": "v1",
					".dockerignore":   "compose.yaml\n",
				})
				name = p.Name
				images = life(t, p, URL(port, ""))
				volumes = strings.Fields(Docker(t, "container", "inspect", "--format",
					"{{range .Mounts}}{{.Name}} {{end}}", p.ContainerName("web", 1)))
				if len(volumes) != 1 {
					t.Errorf("web has volumes %q, want the one anonymous volume", volumes)
				}
			})
			checkGone(t, name, images, volumes)
		})
	}
}

// life brings p up, edits it, rebuilds, and returns the image IDs it built.
func life(t *testing.T, p *Project, url string) []string {
	since := p.Mark()
	p.MustCompose("up", "-d", "--build")
	WaitServing(t, url+"/index.html", "v1", serveTimeout)
	if got := Get(t, url+"/run.txt"); strings.TrimSpace(got) != "built" {
		t.Errorf("RUN output served as %q, want %q", got, "built")
	}
	first := p.Events(since)
	if n, m := p.Builds(since), first.Creates("web"); n != 1 || m != 1 {
		t.Errorf("first up: builds = %d, creates = %d, want 1 and 1; events:\n%s", n, m, first)
	}
	old := p.ContainerImage("web", 1)
	if old == "" || old != p.ImageID(p.ImageName("web")) {
		t.Errorf("container %s runs %q, want the image %s built", p.ContainerName("web", 1), old, p.ImageName("web"))
	}

	p.Write("site/index.html", "v2")
	since = p.Mark()
	p.MustCompose("up", "-d", "--build")
	WaitServing(t, url+"/index.html", "v2", serveTimeout)
	second := p.Events(since)
	if n, m := p.Builds(since), second.Creates("web"); n != 1 || m != 1 {
		t.Errorf("after an edit: builds = %d, creates = %d, want 1 and 1; events:\n%s", n, m, second)
	}
	if p.ContainerImage("web", 1) == old {
		t.Errorf("container still runs the old image %s after a source edit", old)
	}

	// A build with nothing changed: the classic builder (v1) still tags, so
	// it counts; BuildKit (v2) makes no new image and no event, so it does
	// not (Project.Builds).
	since = p.Mark()
	p.MustCompose("build")
	want := 0
	if p.CLI.V1() {
		want = 1
	}
	if n := p.Builds(since); n != want {
		t.Errorf("cached build counted as %d builds, want %d under %s; events:\n%s", n, want, p.CLI.Name, p.Events(since))
	}
	return []string{old, p.ContainerImage("web", 1)}
}

// checkGone fails when anything of the project named name is left once its
// subtest has ended: containers, network, volumes, images by name, or any
// of the images it built (the one a rebuild left dangling included), or its
// anonymous volume.
func checkGone(t *testing.T, name string, images, volumes []string) {
	label := "label=com.docker.compose.project=" + name
	for _, list := range [][]string{
		{"ps", "-aq", "--filter", label},
		{"network", "ls", "-q", "--filter", "name=" + name},
		{"volume", "ls", "-q", "--filter", label},
		{"image", "ls", "-q", "--filter", "reference=" + name + "*"},
	} {
		if out := strings.TrimSpace(Docker(t, list...)); out != "" {
			t.Errorf("after cleanup, docker %s still lists %q", strings.Join(list, " "), out)
		}
	}
	for _, id := range images {
		if _, err := TryDocker("image", "inspect", id); err == nil {
			t.Errorf("after cleanup, image %s built by the project still exists", id)
		}
	}
	for _, v := range volumes {
		if _, err := TryDocker("volume", "inspect", v); err == nil {
			t.Errorf("after cleanup, volume %s of the project still exists", v)
		}
	}
}

// TestBaseImageSurvivesOthers removes a test's base image the ways others
// do (a cleanup's rmi, prune -a, rmi -f) and checks the rig refuses or
// restores each before the next use.
func TestBaseImageSurvivesOthers(t *testing.T) {
	Require(t)
	tag := BaseImage(t)
	id := imageIDOf(tag)
	if _, err := TryDocker("image", "rm", tag); err == nil {
		t.Errorf("docker image rm %s succeeded: the anchor should refuse it", tag)
	}
	Docker(t, "image", "prune", "-a", "-f", "--filter", "label="+labelBase+"="+t.Name())
	if got := imageIDOf(tag); got != id {
		t.Errorf("after prune -a, %s is %q, want %s kept", tag, got, id)
	}
	// -f removes an image only stopped containers use, anchor or not.
	Docker(t, "image", "rm", "-f", tag)
	restored, err := ensureBases()
	if err != nil || len(restored) != 1 || imageIDOf(tag) == "" {
		ls, _ := TryDocker("image", "ls", "-a", BaseRepository)
		ps, _ := TryDocker("ps", "-a", "--filter", "label="+labelAnchor)
		t.Fatalf("after rmi -f: ensureBases restored %q (%v); %s is %q, want it back\n%s\n%s", restored, err, tag, imageIDOf(tag), ls, ps)
	}
	if got := strings.TrimSpace(Docker(t, "image", "inspect", "--format", "{{.Config.StopSignal}}", tag)); got != "SIGKILL" {
		t.Errorf("restored %s stop signal = %q, want SIGKILL", tag, got)
	}
	if _, err := TryDocker("image", "rm", tag); err == nil {
		t.Errorf("the restored image has no anchor: docker image rm %s succeeded", tag)
	}
	if problems := machineProblems(); !strings.Contains(strings.Join(problems, "\n"), tag) {
		t.Errorf("machineProblems() = %q, want it to name the restored %s", problems, tag)
	}
}

// TestBaseImageStopsAtOnce checks the SIGKILL stop signal the base image
// carries: without it every stop of an httpd container waits 10s.
func TestBaseImageStopsAtOnce(t *testing.T) {
	Require(t)
	base := BaseImage(t)
	got := strings.TrimSpace(Docker(t, "image", "inspect", "--format", "{{.Config.StopSignal}}", base))
	if got != "SIGKILL" {
		t.Errorf("%s stop signal = %q, want SIGKILL", base, got)
	}
}

// BenchmarkEvents measures what one Project.Events call costs a test: the
// barrier (a volume created and removed, and its event awaited) plus the
// copy of the recorded events.
func BenchmarkEvents(b *testing.B) {
	Require(b)
	c := Composes(b)[0]
	p := NewProject(b, c, map[string]string{"compose.yaml": "services: {}\n"})
	since := p.Mark()
	for b.Loop() {
		p.Events(since)
	}
}

// TestEventsSurviveALostStream ends the project's docker events process, as
// an engine restart does, and checks Events reconnects and still sees what
// happens next.
func TestEventsSurviveALostStream(t *testing.T) {
	Require(t)
	p := NewProject(t, Composes(t)[0], map[string]string{"compose.yaml": "services: {}\n"})
	old := p.events.proc
	old.cancel()
	<-old.done
	since := p.Mark() // reconnects: Mark reads the events
	if p.events.proc == old {
		t.Fatal("Events kept the ended stream")
	}
	net := p.Name + "_probe"
	Docker(t, "network", "create", net)
	defer Docker(t, "network", "rm", net)
	if n := p.Events(since).Count("network", "create", ""); n != 1 {
		t.Errorf("network creates after the reconnect = %d, want 1; events:\n%s", n, p.Events(since))
	}
}
