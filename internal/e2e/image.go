package e2e

import (
	"archive/tar"
	"bytes"
	"context"
	"debug/elf"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// BaseImageTag is the machine's shared base image: made here from Debian's
// busybox-static (there is no registry to pull from), built once per
// machine and kept. Tests never build FROM it directly: see BaseImage.
const BaseImageTag = "rebuildd-test/busybox:latest"

// BaseRepository is the repository of every base image the rig makes: the
// shared one (BaseImageTag) and each test's own (BaseImage).
const BaseRepository = "rebuildd-test/busybox"

// BusyboxPath is where Debian's busybox-static puts its static binary.
const BusyboxPath = "/bin/busybox"

// baseImageLabel marks the image as the rig's, so nobody mistakes it for a
// real busybox image.
const baseImageLabel = "org.rebuildd.test=busybox"

// ensureBaseImage builds the shared base image unless it exists. Test
// binaries of several packages run at once (go test -p), so the check and
// the build happen under a machine-wide file lock: one builds, the others
// find it.
func ensureBaseImage() error {
	if imageExists(BaseImageTag) {
		return nil
	}
	unlock, err := lockFile(filepath.Join(os.TempDir(), "rebuildd-test-base-image.lock"))
	if err != nil {
		return err
	}
	defer unlock()
	if imageExists(BaseImageTag) {
		return nil
	}
	return buildBaseImage(BusyboxPath, BaseImageTag)
}

func imageExists(ref string) bool {
	_, err := TryDocker("image", "inspect", "--format", "{{.Id}}", ref)
	return err == nil
}

func lockFile(path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o666)
	if err != nil {
		return nil, fmt.Errorf("lock %q: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %q: %w", path, err)
	}
	return func() { f.Close() }, nil
}

// buildBaseImage imports a rootfs holding only busybox and its applet links,
// then gives it STOPSIGNAL SIGKILL. busybox httpd and sh run as PID 1 ignore
// SIGTERM, so every `compose down`, `restart` or recreate would otherwise wait
// out Docker's 10s stop timeout. `docker import --change` refuses
// STOPSIGNAL, and a Dockerfile would need a builder, so the signal is set on
// a container and committed: commit keeps the container's config.
func buildBaseImage(busybox, tag string) error {
	rootfs, err := busyboxRootfs(busybox)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "docker", "import",
		"--change", `CMD ["sh"]`, "--change", "LABEL "+baseImageLabel, "-")
	cmd.Stdin = bytes.NewReader(rootfs)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("docker import: %w: %s", err, out)
	}
	imported := strings.TrimSpace(string(out))
	ctr, err := TryDocker("create", "--stop-signal", "SIGKILL", imported)
	if err != nil {
		return err
	}
	ctr = strings.TrimSpace(ctr)
	defer TryDocker("rm", "-f", ctr)
	_, err = TryDocker("commit", ctr, tag)
	return err
}

// busyboxRootfs returns a tar of a root file system with busybox at
// /bin/busybox, a symlink to it for every applet at the path busybox itself
// lists (bin/sh, usr/sbin/httpd, ...), a root user and a world-writable /tmp.
func busyboxRootfs(busybox string) ([]byte, error) {
	if err := checkStatic(busybox); err != nil {
		return nil, err
	}
	bin, err := os.ReadFile(busybox)
	if err != nil {
		return nil, fmt.Errorf("read %q: %w", busybox, err)
	}
	list, err := exec.Command(busybox, "--list-full").Output()
	if err != nil {
		return nil, fmt.Errorf("%q --list-full: %w", busybox, err)
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, d := range []string{"bin", "sbin", "usr", "usr/bin", "usr/sbin", "etc", "root", "proc", "sys", "dev", "var", "www"} {
		writeEntry(tw, &tar.Header{Typeflag: tar.TypeDir, Name: d + "/", Mode: 0o755}, nil)
	}
	writeEntry(tw, &tar.Header{Typeflag: tar.TypeDir, Name: "tmp/", Mode: 0o1777}, nil)
	writeEntry(tw, &tar.Header{Typeflag: tar.TypeReg, Name: "bin/busybox", Mode: 0o755, Size: int64(len(bin))}, bin)
	for _, f := range []struct{ name, body string }{
		{"etc/passwd", "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n"},
		{"etc/group", "root:x:0:\nnogroup:x:65534:\n"},
	} {
		writeEntry(tw, &tar.Header{Typeflag: tar.TypeReg, Name: f.name, Mode: 0o644, Size: int64(len(f.body))}, []byte(f.body))
	}
	for _, applet := range strings.Fields(string(list)) {
		if applet == "bin/busybox" {
			continue
		}
		writeEntry(tw, &tar.Header{Typeflag: tar.TypeSymlink, Name: applet, Linkname: "/bin/busybox", Mode: 0o777}, nil)
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("tar rootfs: %w", err)
	}
	return buf.Bytes(), nil
}

// writeEntry cannot fail on a bytes.Buffer except through a header/size
// mismatch, which would be a bug here: panic rather than thread the error.
func writeEntry(tw *tar.Writer, h *tar.Header, body []byte) {
	h.ModTime = time.Unix(0, 0)
	if err := tw.WriteHeader(h); err != nil {
		panic(err)
	}
	if _, err := io.Copy(tw, bytes.NewReader(body)); err != nil {
		panic(err)
	}
}

// checkStatic refuses a dynamically linked busybox (Debian's "busybox"
// package rather than "busybox-static"): it would not run in an image that
// has no libc.
func checkStatic(path string) error {
	f, err := elf.Open(path)
	if err != nil {
		return fmt.Errorf("open %q: %w (install it: apt-get install busybox-static)", path, err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return fmt.Errorf("%q is dynamically linked; install busybox-static (apt-get install busybox-static)", path)
		}
	}
	return nil
}
