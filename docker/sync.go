package docker

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"

	"github.com/docker/docker/api/types/container"
)

// SyncOp copies one changed host path into a service's containers (or
// removes it there when it no longer exists on the host).
type SyncOp struct {
	Host      string // absolute host path
	Container string // absolute path in the container
}

// Sync copies develop.watch sync paths into every running container of
// service and then runs the exec commands in them, through the Engine API
// (as compose watch does): a host path that no longer exists is removed in
// the container.
func (e *DockerEngine) Sync(ctx context.Context, project, service string, ops []SyncOp, exec [][]string) error {
	all, err := e.Containers(ctx, project)
	if err != nil {
		return err
	}
	for _, c := range all {
		if c.Service != service || c.State != "running" {
			continue
		}
		for _, op := range ops {
			if err := e.syncOne(ctx, c.ID, op); err != nil {
				return fmt.Errorf("sync %q into %s:%s: %w", op.Host, c.Name, op.Container, err)
			}
		}
		for _, cmd := range exec {
			if err := e.exec(ctx, c.ID, cmd); err != nil {
				return fmt.Errorf("exec %q in %s: %w", cmd, c.Name, err)
			}
		}
	}
	return nil
}

func (e *DockerEngine) syncOne(ctx context.Context, id string, op SyncOp) error {
	if _, err := os.Lstat(op.Host); errors.Is(err, fs.ErrNotExist) {
		return e.exec(ctx, id, []string{"rm", "-rf", op.Container})
	}
	var buf bytes.Buffer
	if err := tarPath(&buf, op.Host, path.Base(op.Container)); err != nil {
		return err
	}
	return e.cli.CopyToContainer(ctx, id, path.Dir(op.Container), &buf, container.CopyToContainerOptions{AllowOverwriteDirWithFile: true})
}

// tarPath writes host (a file, symlink or directory tree) into a tar
// stream under name.
func tarPath(w io.Writer, host, name string) error {
	tw := tar.NewWriter(w)
	err := filepath.WalkDir(host, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		link := ""
		if fi.Mode()&fs.ModeSymlink != 0 {
			if link, err = os.Readlink(p); err != nil {
				return err
			}
		}
		h, err := tar.FileInfoHeader(fi, link)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(host, p)
		h.Name = path.Join(name, filepath.ToSlash(rel))
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if !fi.Mode().IsRegular() {
			return nil
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = io.Copy(tw, f)
		return err
	})
	if err != nil {
		return err
	}
	return tw.Close()
}

// exec runs cmd in the container and fails when it exits non-zero.
func (e *DockerEngine) exec(ctx context.Context, id string, cmd []string) error {
	created, err := e.cli.ContainerExecCreate(ctx, id, container.ExecOptions{Cmd: cmd, AttachStdout: true, AttachStderr: true})
	if err != nil {
		return err
	}
	att, err := e.cli.ContainerExecAttach(ctx, created.ID, container.ExecAttachOptions{})
	if err != nil {
		return err
	}
	out, _ := io.ReadAll(att.Reader) // returns when the command ends
	att.Close()
	insp, err := e.cli.ContainerExecInspect(ctx, created.ID)
	if err != nil {
		return err
	}
	if insp.ExitCode != 0 {
		return fmt.Errorf("exit code %d: %s", insp.ExitCode, bytes.TrimSpace(out))
	}
	return nil
}
