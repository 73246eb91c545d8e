package statedir

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"syscall"
)

// Every file of the state directory is opened with O_NOFOLLOW, and written
// through a temp file created with O_EXCL and renamed into place relative
// to the directory's descriptor: none of them follows a symbolic link, so a
// link planted in the directory is an error, never a write elsewhere (the
// directory itself is checked by Open).

// ReadFile reads a state file without following a symbolic link.
func ReadFile(path string) ([]byte, error) {
	f, err := openFile(path, syscall.O_RDONLY, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}

// openFile opens path with O_NOFOLLOW and O_CLOEXEC. A symbolic link is
// ELOOP, reported as such.
func openFile(path string, flag int, perm uint32) (*os.File, error) {
	fd, err := syscall.Open(path, flag|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, perm)
	if err != nil {
		if errors.Is(err, syscall.ELOOP) {
			return nil, &os.PathError{Op: "open", Path: path, Err: errors.New("is a symbolic link; the state dir holds none: remove it")}
		}
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	return os.NewFile(uintptr(fd), path), nil
}

// openDir opens dir, creating it (0700) when missing, without following a
// symbolic link in its last component.
func openDir(dir string) (*os.File, error) {
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
		return nil, err
	}
	return openFile(dir, syscall.O_RDONLY|syscall.O_DIRECTORY, 0)
}

// WriteAtomic writes a file through a temp file in the same directory and a
// rename, so a crash or a concurrent reader never sees half a file. The
// temp file is new (O_EXCL), and the rename replaces whatever entry has the
// name, a link included, without following it.
func WriteAtomic(path string, write func(io.Writer) error) error {
	dir, name := filepath.Split(path)
	d, err := openDir(filepath.Clean(dir))
	if err != nil {
		return err
	}
	defer d.Close()
	dfd := int(d.Fd())
	var rnd [6]byte
	rand.Read(rnd[:])
	tmp := "." + name + ".tmp" + hex.EncodeToString(rnd[:])
	fd, err := syscall.Openat(dfd, tmp, syscall.O_WRONLY|syscall.O_CREAT|syscall.O_EXCL|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, 0o600)
	if err != nil {
		return &os.PathError{Op: "create", Path: filepath.Join(dir, tmp), Err: err}
	}
	f := os.NewFile(uintptr(fd), filepath.Join(dir, tmp))
	err = write(f)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		if rerr := syscall.Renameat(dfd, tmp, dfd, name); rerr != nil {
			err = &os.LinkError{Op: "rename", Old: filepath.Join(dir, tmp), New: path, Err: rerr}
		}
	}
	if err != nil {
		syscall.Unlinkat(dfd, tmp)
	}
	return err
}
