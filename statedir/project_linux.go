package statedir

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// One rebuildd per Compose project, whatever its state dir, on the host or
// in a sidecar (issue 17: two of them raced on `compose up`). The state
// dir's lock cannot say it: two --state-dirs are two locks. What every
// rebuildd of a project shares is the project directory (a sidecar mounts
// it at the same absolute path), so the lock is an flock on the directory
// itself, opened read-only:
//
//   - nothing is written into the checkout (no lock file for git to see);
//   - the directory's inode outlives every edit inside it, rename-saves
//     included; only moving the directory itself ends the lock's meaning;
//   - a bind mount shows the same inode, and flock is the kernel's, so a
//     sidecar and the host conflict as two host processes do (on one
//     kernel: not across Docker Desktop's VM boundary);
//   - the kernel drops it when the holder dies, even by kill -9; the
//     descriptor is close-on-exec, so a Compose child that outlives
//     rebuildd does not keep it.
//
// The holder is found in /proc/locks, which lists each lock's pid and
// device:inode; a pid this process cannot see (a holder outside its
// container) shows as 0 there.

// ProjectLock holds the project directory's lock.
type ProjectLock struct {
	mu sync.Mutex
	f  *os.File
}

// ProjectLockedError says that another rebuildd watches or builds the
// project, and who, as far as this process can see.
type ProjectLockedError struct {
	Project string
	Dir     string
	PID     int    // 0: not visible from here (the holder is outside this container)
	Command string // the holder's command line, when visible
	// Container is the ID of the holder's container when it runs in one
	// (from its cgroup), for the caller to name through the Engine API.
	Container string
	// Name is what the caller found for Container (its name), or a
	// description of the holder when PID is 0.
	Name string
}

func (e *ProjectLockedError) Error() string {
	return fmt.Sprintf("%s already keeps project %s (%s) in step: stop it first; one rebuildd per project, whatever its --state-dir",
		e.Holder(), e.Project, e.Dir)
}

// Holder describes the first rebuildd.
func (e *ProjectLockedError) Holder() string {
	var who string
	switch {
	case e.PID > 0:
		who = fmt.Sprintf("another rebuildd (pid %d", e.PID)
		if e.Command != "" {
			who += ": " + e.Command
		}
		who += ")"
	case e.Name != "":
		return "another rebuildd (" + e.Name + ")"
	default:
		return "another rebuildd, outside this container (on the host or in another container)"
	}
	switch {
	case e.Name != "":
		who += " in container " + e.Name
	case e.Container != "":
		who += " in container " + shortID(e.Container)
	}
	return who
}

// LockProject takes the lock of the Compose project whose directory is
// dir, without waiting.
func LockProject(dir, project string) (*ProjectLock, error) {
	fd, err := syscall.Open(dir, syscall.O_RDONLY|syscall.O_DIRECTORY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("lock project directory %q: %w", dir, err)
	}
	f := os.NewFile(uintptr(fd), dir)
	if err := syscall.Flock(fd, syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		defer f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, projectHolder(f, dir, project)
		}
		return nil, fmt.Errorf("lock project directory %q: %w", dir, err)
	}
	return &ProjectLock{f: f}, nil
}

// Release drops the lock. Safe to call twice.
func (l *ProjectLock) Release() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	return err
}

// projectHolder finds who holds the lock on f's directory.
func projectHolder(f *os.File, dir, project string) error {
	e := &ProjectLockedError{Project: project, Dir: dir}
	var st syscall.Stat_t
	if syscall.Fstat(int(f.Fd()), &st) != nil {
		return e
	}
	locks, err := os.ReadFile("/proc/locks")
	if err != nil {
		return e
	}
	e.PID = flockHolder(string(locks), uint64(st.Dev), st.Ino)
	if e.PID > 0 {
		e.Command = cmdline(e.PID)
		if cg, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", e.PID)); err == nil {
			e.Container = ContainerID(string(cg))
		}
	}
	return e
}

// flockHolder returns the pid of the FLOCK on dev:ino in /proc/locks
// ("1: FLOCK  ADVISORY  WRITE 1448 fe:00:762126 0 EOF"), 0 when not found
// or not visible. Waiters ("1: -> FLOCK ...") are skipped; rebuildd never
// waits. Some file systems (btrfs subvolumes) report another device in
// stat than in /proc/locks, so an inode-only match is the fallback when
// exactly one lock has that inode.
func flockHolder(locks string, dev, ino uint64) int {
	want := fmt.Sprintf("%02x:%02x:%d", unix.Major(dev), unix.Minor(dev), ino)
	suffix := ":" + strconv.FormatUint(ino, 10)
	exact, byIno, inoMatches := -1, -1, 0
	sc := bufio.NewScanner(strings.NewReader(locks))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 6 || f[1] != "FLOCK" || f[3] != "WRITE" {
			continue
		}
		pid, err := strconv.Atoi(f[4])
		if err != nil {
			continue
		}
		switch {
		case f[5] == want:
			exact = pid
		case strings.HasSuffix(f[5], suffix):
			byIno, inoMatches = pid, inoMatches+1
		}
	}
	switch {
	case exact >= 0:
		return max(exact, 0)
	case inoMatches == 1:
		return max(byIno, 0)
	}
	return 0
}

// cmdline is a process's command line, arguments joined by spaces and
// cut at 120 characters ("" when unreadable).
func cmdline(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return ""
	}
	s := strings.TrimSpace(strings.ReplaceAll(string(b), "\x00", " "))
	if len(s) > 120 {
		s = s[:117] + "..."
	}
	return s
}

// containerIDRE finds a container ID in a cgroup path: Docker's
// "/docker/<id>" (cgroup v1) or "docker-<id>.scope" (systemd, v2),
// Podman's "libpod-<id>", containerd's "cri-containerd-<id>".
var containerIDRE = regexp.MustCompile(`(?:docker|libpod|containerd)[-/]([0-9a-f]{64})`)

// ContainerID returns the container ID in a /proc/PID/cgroup file, "" for a
// process on the host.
func ContainerID(cgroup string) string {
	if m := containerIDRE.FindStringSubmatch(cgroup); m != nil {
		return m[1]
	}
	return ""
}

func shortID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}
