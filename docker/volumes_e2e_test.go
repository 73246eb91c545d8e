package docker

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/rebuildd/rebuildd/internal/e2e"
)

// The Volumes methods against the real engine: what an image holds where,
// and a refresh that leaves exactly the image's files in the volume and
// no throwaway container behind.
func TestVolumesOnTheEngine(t *testing.T) {
	e2e.Require(t)
	base := e2e.BaseImage(t)
	project := "rbdvol" + randomSuffix()
	img := buildImage(t, project+"-img", map[string]string{
		"Dockerfile": "FROM " + base + "\n" +
			"RUN mkdir -p /deps/pkg /empty /data && echo new > /deps/pkg/a && echo h > /deps/.hidden && echo seed > /data/seed\n" +
			"VOLUME /data\n" +
			// Compose v2 labels the images it builds like this.
			"LABEL com.docker.compose.project=" + project + " com.docker.compose.service=web\n",
	})
	bare := buildImage(t, project+"-bare", map[string]string{"Dockerfile": "FROM scratch\nCOPY f /deps/f\n", "f": "x"})
	ctx := context.Background()
	eng, err := NewDockerEngine(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()

	vols, err := eng.ImageVolumes(ctx, img)
	if err != nil || !slices.Equal(vols, []string{"/data"}) {
		t.Errorf("ImageVolumes = %q, %v; want [/data]", vols, err)
	}
	has, err := eng.Populated(ctx, project, img, []string{"/deps", "/empty", "/missing", "/data"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{"/deps": true, "/empty": false, "/missing": false, "/data": true}
	for p, w := range want {
		if has[p] != w {
			t.Errorf("Populated[%s] = %v, want %v", p, has[p], w)
		}
	}

	// A throwaway is never one of the project's containers, whatever
	// labels its image carries.
	id, err := eng.throwaway(ctx, throwawaySpec{project: project, purpose: "probe", image: img})
	if err != nil {
		t.Fatal(err)
	}
	if cs, err := eng.Containers(ctx, project); err != nil || len(cs) != 0 {
		t.Errorf("the project's containers while a throwaway exists: %+v, %v", cs, err)
	}
	eng.discard(ctx, id)

	vol := newVolume(t, base, "echo old > /v/old; mkdir -p /v/pkg /v/.cache; echo stale > /v/pkg/a; echo c > /v/.cache/c; echo x > '/v/..odd'")
	if err := eng.RefreshVolume(ctx, project, img, vol, "/deps"); err != nil {
		t.Fatal(err)
	}
	if got := volumeListing(t, base, vol); got != ".hidden=h\npkg/a=new" {
		t.Errorf("refreshed volume holds\n%s\nwant exactly the image's /deps", got)
	}

	kept := newVolume(t, base, "echo data > /v/db")
	if err := eng.RefreshVolume(ctx, project, bare, kept, "/deps"); err == nil || !strings.Contains(err.Error(), "no sh") {
		t.Errorf("refresh from an image without sh: %v, want an error naming the missing sh", err)
	}
	if got := volumeListing(t, base, kept); got != "db=data" {
		t.Errorf("a failed refresh changed the volume: %s", got)
	}
	if left := e2e.Docker(t, "ps", "-aq", "--filter", "label="+LabelThrowaway+"="+project); strings.TrimSpace(left) != "" {
		t.Errorf("throwaway containers left behind: %s", left)
	}
}

// TestMountsOnTheEngine: Mounts lists volumes, named and anonymous, by
// container path.
func TestMountsOnTheEngine(t *testing.T) {
	e2e.Require(t)
	base := e2e.BaseImage(t)
	vol := newVolume(t, base, "true")
	id := strings.TrimSpace(e2e.Docker(t, "create", "-v", vol+":/named", "-v", "/anon", base, "true"))
	t.Cleanup(func() { e2e.TryDocker("rm", "-f", "-v", id) })
	eng, err := NewDockerEngine(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	ms, err := eng.Mounts(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 2 || ms[0].Path != "/anon" || !Anonymous(ms[0].Volume) || ms[1] != (Mount{Volume: vol, Path: "/named"}) {
		t.Errorf("Mounts = %+v", ms)
	}
}

// buildImage builds files into a tagged image removed after the test.
func buildImage(t *testing.T, tag string, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	e2e.Docker(t, "build", "-q", "-t", tag, dir)
	t.Cleanup(func() { e2e.TryDocker("image", "rm", tag) })
	return strings.TrimSpace(e2e.Docker(t, "image", "inspect", "--format", "{{.ID}}", tag))
}

// newVolume creates a named volume filled by a shell script (over /v).
func newVolume(t *testing.T, base, script string) string {
	t.Helper()
	name := "rbdvol-" + randomSuffix()
	e2e.Docker(t, "volume", "create", name)
	t.Cleanup(func() { e2e.TryDocker("volume", "rm", "-f", name) })
	e2e.Docker(t, "run", "--rm", "-v", name+":/v", base, "sh", "-c", script)
	return name
}

// volumeListing is every file of a volume with its content, "path=body"
// per line in path order.
func volumeListing(t *testing.T, base, vol string) string {
	t.Helper()
	out := e2e.Docker(t, "run", "--rm", "-v", vol+":/v", base, "sh", "-c",
		`cd /v && find . -type f | sort | while read -r f; do echo "${f#./}=$(cat "$f")"; done`)
	return strings.TrimSpace(out)
}

// ImageHas says "nothing there" for a path below a file (a directory a
// sync removed that the new image has as a file), where the engine's stat
// answers 500, not 404.
func TestImageHasBelowAFile(t *testing.T) {
	e2e.Require(t)
	base := e2e.BaseImage(t)
	ctx := context.Background()
	eng, err := NewDockerEngine(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	has, err := eng.ImageHas(ctx, "rbdhas"+randomSuffix(), base, []string{"/etc/passwd", "/etc/passwd/x", "/etc/passwd/x/y", "/nope/x"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{"/etc/passwd": true, "/etc/passwd/x": false, "/etc/passwd/x/y": false, "/nope/x": false}
	for p, w := range want {
		if has[p] != w {
			t.Errorf("ImageHas[%s] = %v, want %v", p, has[p], w)
		}
	}
}
