package docker

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/errdefs"
)

// Live is what live update needs from the engine (docs/design.md, "Live
// update"): what a container runs and where its mounts are, what is at a
// path in it, writing files into it with the owners and modes the image
// would give them, removing paths, and what a new image holds where syncs
// removed files. Everything goes through the Engine API: no tool is needed
// in the container but rm, for removals.
type Live interface {
	// Inspect reads what a sync needs to know about a container.
	Inspect(ctx context.Context, id string) (LiveContainer, error)
	// Stat says whether something is at p in the container, and whether it
	// is a directory (following symbolic links).
	Stat(ctx context.Context, id, p string) (exists, dir bool, err error)
	// ReadFile returns the content of the regular file at p (following
	// symbolic links), at most max bytes; nil, nil when there is none.
	ReadFile(ctx context.Context, id, p string, max int64) ([]byte, error)
	// Put extracts a tar stream at the container's root: entries are
	// absolute paths without the leading slash, and keep their owners and
	// modes (the engine's archive upload, as `docker cp` uses it).
	Put(ctx context.Context, id string, archive io.Reader) error
	// Remove runs `rm -rf -- paths` in the container. ErrNoRm: the
	// container has no rm (a distroless image); the change then rebuilds.
	Remove(ctx context.Context, id string, paths []string) error
	// ImageHas tells, for each path, whether the image has anything there.
	ImageHas(ctx context.Context, project, image string, paths []string) (map[string]bool, error)
}

// LiveContainer is what Inspect reads.
type LiveContainer struct {
	// The process, as the container runs it (compose's overrides applied):
	// what reload.Decide reads.
	Entrypoint, Cmd, Env []string
	WorkingDir           string
	// ImageWorkdir is the WorkingDir of the container's image config,
	// which a COPY with a relative destination is relative to when the
	// Dockerfile sets none (compose's working_dir does not change it).
	ImageWorkdir string
	// Mounts are the container paths of its volumes, bind mounts and
	// tmpfs mounts, sorted: the image is not what the container sees
	// there, so nothing is synced below them.
	Mounts []string
	// ReadOnly: the container's root file system is read-only (compose's
	// read_only): the engine refuses to copy into it.
	ReadOnly bool
}

// Under reports whether p is at or below one of the container's mounts.
func (c LiveContainer) Under(p string) (string, bool) {
	for _, m := range c.Mounts {
		if p == m || m == "/" || strings.HasPrefix(p, m+"/") {
			return m, true
		}
	}
	return "", false
}

// ErrNoRm is Remove's error for a container without rm.
var ErrNoRm = errors.New("the container has no rm")

// Inspect implements Live.
func (e *DockerEngine) Inspect(ctx context.Context, id string) (LiveContainer, error) {
	c, err := e.cli.ContainerInspect(ctx, id)
	if err != nil {
		return LiveContainer{}, e.unreachable(fmt.Errorf("inspect container %s: %w", ShortID(id), err))
	}
	var out LiveContainer
	if c.Config != nil {
		out.Entrypoint, out.Cmd, out.Env, out.WorkingDir = c.Config.Entrypoint, c.Config.Cmd, c.Config.Env, c.Config.WorkingDir
	}
	for _, m := range c.Mounts {
		out.Mounts = append(out.Mounts, path.Clean(m.Destination))
	}
	if c.HostConfig != nil {
		out.ReadOnly = c.HostConfig.ReadonlyRootfs
		for dst := range c.HostConfig.Tmpfs {
			out.Mounts = append(out.Mounts, path.Clean(dst))
		}
	}
	sort.Strings(out.Mounts)
	img, err := e.cli.ImageInspect(ctx, c.Image)
	if err != nil {
		return LiveContainer{}, e.unreachable(fmt.Errorf("inspect image %s of container %s: %w", ShortID(c.Image), ShortID(id), err))
	}
	if img.Config != nil {
		out.ImageWorkdir = img.Config.WorkingDir
	}
	return out, nil
}

// maxLinks bounds following symbolic links in Stat: the kernel's own
// limit (40) is far beyond anything an image sets up on purpose.
const maxLinks = 40

// Stat implements Live. The engine resolves every link but the last
// component and names where that one points.
func (e *DockerEngine) Stat(ctx context.Context, id, p string) (bool, bool, error) {
	for range maxLinks {
		st, err := e.cli.ContainerStatPath(ctx, id, p)
		if errdefs.IsNotFound(err) {
			return false, false, nil
		}
		if err != nil {
			return false, false, e.unreachable(fmt.Errorf("stat %q in container %s: %w", p, ShortID(id), err))
		}
		if st.Mode&fs.ModeSymlink == 0 || st.LinkTarget == "" {
			return true, st.Mode.IsDir(), nil
		}
		p = st.LinkTarget
	}
	return false, false, fmt.Errorf("stat %q in container %s: too many levels of symbolic links", p, ShortID(id))
}

// ReadFile implements Live.
func (e *DockerEngine) ReadFile(ctx context.Context, id, p string, max int64) ([]byte, error) {
	exists, dir, err := e.Stat(ctx, id, p)
	if err != nil || !exists || dir {
		return nil, err
	}
	rc, _, err := e.cli.CopyFromContainer(ctx, id, p)
	if errdefs.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, e.unreachable(fmt.Errorf("read %q in container %s: %w", p, ShortID(id), err))
	}
	defer rc.Close()
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read %q in container %s: %w", p, ShortID(id), err)
		}
		if h.Typeflag == tar.TypeReg {
			return io.ReadAll(io.LimitReader(tr, max))
		}
	}
}

// Put implements Live. The engine keeps each entry's uid, gid and mode
// (its archive upload without CopyUIDGID) and creates missing parent
// directories as root with mode 0755.
func (e *DockerEngine) Put(ctx context.Context, id string, archive io.Reader) error {
	err := e.cli.CopyToContainer(ctx, id, "/", archive, container.CopyToContainerOptions{AllowOverwriteDirWithFile: true})
	if err != nil {
		return e.unreachable(fmt.Errorf("copy into container %s: %w", ShortID(id), err))
	}
	return nil
}

// Remove implements Live.
func (e *DockerEngine) Remove(ctx context.Context, id string, paths []string) error {
	err := e.exec(ctx, id, append([]string{"rm", "-rf", "--"}, paths...))
	if err != nil && noProgram(err) {
		return fmt.Errorf("remove in container %s: %w", ShortID(id), ErrNoRm)
	}
	if err != nil {
		return e.unreachable(fmt.Errorf("remove %q in container %s: %w", paths, ShortID(id), err))
	}
	return nil
}

// noProgram: the exec failed because the program does not exist (the
// runtime's message on exec create or start, or the shell's 126/127).
func noProgram(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "executable file not found") || strings.Contains(msg, "no such file or directory") ||
		strings.HasPrefix(msg, "exit code 126") || strings.HasPrefix(msg, "exit code 127")
}

// ImageHas implements Live: a container of the image, created and never
// started, is asked for each path, as `docker cp` does.
func (e *DockerEngine) ImageHas(ctx context.Context, project, image string, paths []string) (map[string]bool, error) {
	id, err := e.throwaway(ctx, throwawaySpec{project: project, purpose: "compare", image: image})
	if err != nil {
		return nil, err
	}
	defer e.discard(ctx, id)
	out := map[string]bool{}
	for _, p := range paths {
		_, err := e.cli.ContainerStatPath(ctx, id, p)
		switch {
		case errdefs.IsNotFound(err):
			out[p] = false
		case err != nil && e.belowFile(ctx, id, p):
			// A file where the path has a directory (a directory a sync
			// removed is a file in the new image): the engine answers 500
			// (ENOTDIR), and nothing is there.
			out[p] = false
		case err != nil:
			return nil, e.unreachable(fmt.Errorf("look at %q in image %s: %w", p, ShortID(image), err))
		default:
			out[p] = true
		}
	}
	return out, nil
}

// belowFile reports whether some parent of p is missing or is neither a
// directory nor a symbolic link in the container: then nothing is at p.
func (e *DockerEngine) belowFile(ctx context.Context, id, p string) bool {
	var parents []string
	for d := path.Dir(path.Clean(p)); d != "/" && d != "."; d = path.Dir(d) {
		parents = append(parents, d)
	}
	for i := len(parents) - 1; i >= 0; i-- {
		st, err := e.cli.ContainerStatPath(ctx, id, parents[i])
		switch {
		case errdefs.IsNotFound(err):
			return true
		case err != nil, st.Mode&fs.ModeSymlink != 0:
			return false
		case !st.Mode.IsDir():
			return true
		}
	}
	return false
}

// TarEntry is one file, directory or symbolic link a sync writes.
type TarEntry struct {
	Path     string      // absolute container path
	Mode     fs.FileMode // type and permission bits (setuid, setgid, sticky kept)
	UID, GID int
	Link     string // a symbolic link's target
	Host     string // a regular file's host path: its content is read as the stream is written
	// ModTime is the host file's: BuildKit's COPY keeps it, and a server
	// answering If-Modified-Since must see the synced file as new.
	ModTime time.Time
	// Data, when not nil, is a regular file's content, read beforehand
	// (a live update checks it against the print first); Host is then
	// only for messages.
	Data []byte
}

// WriteTar writes entries as a tar stream for Put: paths without the
// leading slash, owners and modes as given. A regular file that vanished
// since it was planned is left out (its removal is the next batch's); one
// whose size changed while it was read is an error, so the sync fails
// rather than write half a file.
func WriteTar(w io.Writer, entries []TarEntry) error {
	tw := tar.NewWriter(w)
	for _, en := range entries {
		if err := writeEntry(tw, en); err != nil {
			return err
		}
	}
	return tw.Close()
}

func writeEntry(tw *tar.Writer, en TarEntry) error {
	h := &tar.Header{Name: strings.TrimPrefix(path.Clean(en.Path), "/"), Mode: tarMode(en.Mode),
		Uid: en.UID, Gid: en.GID, ModTime: en.ModTime, Format: tar.FormatPAX}
	switch {
	case en.Mode.IsDir():
		h.Typeflag, h.Name = tar.TypeDir, h.Name+"/"
		return tw.WriteHeader(h)
	case en.Mode&fs.ModeSymlink != 0:
		h.Typeflag, h.Linkname = tar.TypeSymlink, en.Link
		return tw.WriteHeader(h)
	case en.Data != nil:
		h.Typeflag, h.Size = tar.TypeReg, int64(len(en.Data))
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		_, err := tw.Write(en.Data)
		return err
	}
	f, err := os.Open(en.Host)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	h.Typeflag, h.Size = tar.TypeReg, fi.Size()
	if err := tw.WriteHeader(h); err != nil {
		return err
	}
	if _, err := io.CopyN(tw, f, fi.Size()); err != nil {
		return fmt.Errorf("read %q: %w (it changed while it was copied)", en.Host, err)
	}
	return nil
}

// tarMode is the tar header's mode of m: permission bits and the setuid,
// setgid and sticky bits in their Unix places.
func tarMode(m fs.FileMode) int64 {
	out := int64(m.Perm())
	if m&fs.ModeSetuid != 0 {
		out |= 0o4000
	}
	if m&fs.ModeSetgid != 0 {
		out |= 0o2000
	}
	if m&fs.ModeSticky != 0 {
		out |= 0o1000
	}
	return out
}
