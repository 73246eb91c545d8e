package docker

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"

	"github.com/docker/docker/errdefs"
)

// Volumes is what rebuildd needs from the engine to keep a service's
// anonymous volumes in step after a rebuild without losing a byte of data
// (docs/design.md, "Volumes after a rebuild"): which volume is mounted
// where, what the new image declares and holds at those paths, and the
// exact refresh of one volume. Compose cannot renew one volume alone:
// `--renew-anon-volumes` renews all of a service's.
type Volumes interface {
	// Mounts lists the volumes mounted in a container (not binds or
	// tmpfs), by container path.
	Mounts(ctx context.Context, container string) ([]Mount, error)
	// ImageVolumes lists the paths the image declares with VOLUME.
	ImageVolumes(ctx context.Context, image string) ([]string, error)
	// Populated tells, for each path, whether the image has files there:
	// a directory with at least one entry, or anything that is not a
	// directory. A path the image lacks, or an empty directory, is not.
	Populated(ctx context.Context, project, image string, paths []string) (map[string]bool, error)
	// StopContainer stops a container the way `docker stop` does (its
	// stop signal, its grace period).
	StopContainer(ctx context.Context, id string) error
	// RefreshVolume makes volume hold exactly what image has at path, as
	// the engine fills a new volume: the volume is emptied, then filled by
	// the engine's own copy when a container of the image is created with
	// the volume at path. It needs a shell in the image to empty the
	// volume; an error leaves the volume's content as it was, or empty
	// (which the engine fills from the image when compose next creates the
	// container).
	RefreshVolume(ctx context.Context, project, image, volume, path string) error
}

// Mount is one volume mounted in a container.
type Mount struct {
	Volume string // the volume's name
	Path   string // where it is mounted in the container
}

// Anonymous reports whether a volume's name is one the engine generated
// (64 hex digits): the volumes of image VOLUMEs and of compose's
// anonymous volumes.
func Anonymous(name string) bool {
	return len(name) == 64 && strings.Trim(name, "0123456789abcdef") == ""
}

// Mounts implements Volumes.
func (e *DockerEngine) Mounts(ctx context.Context, id string) ([]Mount, error) {
	c, err := e.cli.ContainerInspect(ctx, id)
	if err != nil {
		return nil, e.unreachable(fmt.Errorf("inspect container %q: %w", id, err))
	}
	var out []Mount
	for _, m := range c.Mounts {
		if m.Type == "volume" {
			out = append(out, Mount{Volume: m.Name, Path: path.Clean(m.Destination)})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

// ImageVolumes implements Volumes.
func (e *DockerEngine) ImageVolumes(ctx context.Context, image string) ([]string, error) {
	img, err := e.cli.ImageInspect(ctx, image)
	if err != nil {
		return nil, e.unreachable(fmt.Errorf("inspect image %q: %w", image, err))
	}
	var out []string
	if img.Config != nil {
		for p := range img.Config.Volumes {
			out = append(out, path.Clean(p))
		}
	}
	sort.Strings(out)
	return out, nil
}

// Populated implements Volumes. It asks a container of the image that is
// created and never started (so nothing of the image runs), as `docker
// cp` does: the engine answers for the image's files, and for its VOLUME
// paths with what it copied into the container's new volumes, which is
// the image's files there too.
func (e *DockerEngine) Populated(ctx context.Context, project, image string, paths []string) (map[string]bool, error) {
	id, err := e.throwaway(ctx, throwawaySpec{project: project, purpose: "probe", image: image})
	if err != nil {
		return nil, err
	}
	defer e.discard(ctx, id)
	out := map[string]bool{}
	for _, p := range paths {
		has, err := e.hasFiles(ctx, id, p)
		if err != nil {
			return nil, fmt.Errorf("look at %q in image %s: %w", p, ShortID(image), err)
		}
		out[p] = has
	}
	return out, nil
}

// hasFiles reads at most two entries of the archive the engine makes of
// p: the first is p itself, a second is something inside it.
func (e *DockerEngine) hasFiles(ctx context.Context, id, p string) (bool, error) {
	rc, _, err := e.cli.CopyFromContainer(ctx, id, p)
	if errdefs.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, e.unreachable(err)
	}
	defer rc.Close()
	tr := tar.NewReader(rc)
	first, err := tr.Next()
	if err != nil {
		return false, notEOF(err)
	}
	if first.Typeflag != tar.TypeDir {
		return true, nil
	}
	if _, err := tr.Next(); err != nil {
		return false, notEOF(err)
	}
	return true, nil
}

func notEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return nil
	}
	return err
}

// StopContainer implements Volumes.
func (e *DockerEngine) StopContainer(ctx context.Context, id string) error {
	if err := e.cli.ContainerStop(ctx, id, stopDefaults); err != nil {
		return e.unreachable(fmt.Errorf("stop container %s: %w", ShortID(id), err))
	}
	return nil
}

// RefreshVolume implements Volumes.
func (e *DockerEngine) RefreshVolume(ctx context.Context, project, image, volume, p string) error {
	if err := e.emptyVolume(ctx, project, image, volume); err != nil {
		return fmt.Errorf("empty volume %s: %w", ShortID(volume), err)
	}
	if err := e.fillVolume(ctx, project, image, volume, p); err != nil {
		return fmt.Errorf("fill volume %s from %s of image %s: %w", ShortID(volume), p, ShortID(image), err)
	}
	return nil
}

// emptyDir is where the emptying container mounts the volume: a path no
// image uses, so nothing of the image is copied in or hidden.
const emptyDir = "/.rebuildd-volume"

// emptyScript removes every entry of the volume, hidden ones too (the
// three globs cover every name but . and ..; one that matches nothing
// stays literal and rm -f ignores it), and fails when anything is left:
// the engine fills only an empty volume.
const emptyScript = `cd ` + emptyDir + ` || exit 1
rm -rf -- * .[!.]* ..?*
for f in * .[!.]* ..?*; do
  if [ -e "$f" ] || [ -L "$f" ]; then echo "left behind: $f" >&2; exit 1; fi
done`

// emptyVolume runs the image's sh, as root and without a network, in a
// container that mounts only the volume (without the engine's copy).
func (e *DockerEngine) emptyVolume(ctx context.Context, project, image, volume string) error {
	id, err := e.throwaway(ctx, throwawaySpec{project: project, purpose: "empty", image: image,
		entrypoint: []string{"sh", "-c", emptyScript}, volume: volume, at: emptyDir, noCopy: true})
	if err != nil {
		return err
	}
	defer e.discard(ctx, id)
	return e.runToEnd(ctx, id)
}

// fillVolume creates (never starts) a container of the image with the
// empty volume at p: creating it makes the engine copy the image's files
// at p into the volume, exactly as for the volume compose first created.
// It checks that the volume then holds files, as the image does at p.
func (e *DockerEngine) fillVolume(ctx context.Context, project, image, volume, p string) error {
	id, err := e.throwaway(ctx, throwawaySpec{project: project, purpose: "fill", image: image, volume: volume, at: p})
	if err != nil {
		return err
	}
	defer e.discard(ctx, id)
	has, err := e.hasFiles(ctx, id, p)
	if err != nil {
		return err
	}
	if !has {
		return fmt.Errorf("the volume is still empty after the engine's copy")
	}
	return nil
}
