package e2e

import (
	"strings"
	"testing"
	"time"
)

// serveTimeout is how long a freshly started container may take to serve.
// It starts in well under a second here; 30s covers a loaded CI machine.
const serveTimeout = 30 * time.Second

// TestRig builds a project with a RUN step and a busybox httpd container
// with each Compose, checks what it serves, counts the build and the
// creation from the engine's events, rebuilds after an edit, and tears down.
func TestRig(t *testing.T) {
	Require(t)
	base := BaseImage(t)
	for _, c := range Composes(t) {
		t.Run(c.Name, func(t *testing.T) {
			port := FreePort(t)
			p := NewProject(t, c, map[string]string{
				"compose.yaml":    HTTPService("web", ".", port),
				"Dockerfile":      "FROM " + base + "\nRUN echo built > /www/run.txt\nCOPY site /www\n" + HTTPDCmd,
				"site/index.html": "v1",
				".dockerignore":   "compose.yaml\n",
			})
			since := p.Mark()
			p.MustCompose("up", "-d", "--build")
			WaitServing(t, URL(port, "/index.html"), "v1", serveTimeout)
			if got := Get(t, URL(port, "/run.txt")); strings.TrimSpace(got) != "built" {
				t.Errorf("RUN output served as %q, want %q", got, "built")
			}
			first := p.Events(since)
			if n := p.Builds(since); n != 1 {
				t.Errorf("builds = %d, want 1; events:\n%s", n, first)
			}
			if n := first.Creates("web"); n != 1 {
				t.Errorf("creates of web = %d, want 1; events:\n%s", n, first)
			}
			oldImage := p.ContainerImage("web", 1)
			if oldImage == "" || oldImage != p.ImageID(p.ImageName("web")) {
				t.Errorf("container %s runs %q, want the image %s built", p.ContainerName("web", 1), oldImage, p.ImageName("web"))
			}

			p.Write("site/index.html", "v2")
			since = p.Mark()
			p.MustCompose("up", "-d", "--build")
			WaitServing(t, URL(port, "/index.html"), "v2", serveTimeout)
			second := p.Events(since)
			if n, m := p.Builds(since), second.Creates("web"); n != 1 || m != 1 {
				t.Errorf("after an edit: builds = %d, creates = %d, want 1 and 1; events:\n%s", n, m, second)
			}
			if p.ContainerImage("web", 1) == oldImage {
				t.Errorf("container still runs the old image %s after a source edit", oldImage)
			}

			// A build with nothing changed: the classic builder (v1) still
			// tags, so it counts; BuildKit (v2) makes no new image and no
			// event, so it does not (Project.Builds).
			since = p.Mark()
			p.MustCompose("build")
			want := 0
			if c.V1() {
				want = 1
			}
			if n := p.Builds(since); n != want {
				t.Errorf("cached build counted as %d builds, want %d under %s; events:\n%s", n, want, c.Name, p.Events(since))
			}
		})
	}
}

// TestCleanupRemovesEverything checks the teardown: a project brought up and
// rebuilt in a subtest leaves no container, network, volume or image behind
// once the subtest has ended, not even the image the rebuild untagged.
func TestCleanupRemovesEverything(t *testing.T) {
	Require(t)
	base := BaseImage(t)
	for _, c := range Composes(t) {
		t.Run(c.Name, func(t *testing.T) {
			var name string
			var images []string
			t.Run("up", func(t *testing.T) {
				p := NewProject(t, c, map[string]string{
					"compose.yaml": "services:\n  app:\n    build: .\n    command: [\"sleep\", \"600\"]\n    volumes: [\"/data\"]\n",
					"Dockerfile":   "FROM " + base + "\nCOPY a /a\n",
					"a":            "1",
				})
				name = p.Name
				p.MustCompose("up", "-d", "--build")
				images = append(images, p.ImageID(p.ImageName("app")))
				p.Write("a", "2")
				p.MustCompose("up", "-d", "--build")
				images = append(images, p.ImageID(p.ImageName("app")))
				if images[0] == "" || images[0] == images[1] {
					t.Fatalf("rebuild after an edit: image IDs %q, want two different ones", images)
				}
			})
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
		})
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
