package statedir

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestHelperHoldsProjectLock is not a test: it is the first rebuildd of
// TestProjectLockAcrossProcesses, run as a child process. It takes the lock,
// says so, and holds it until its stdin closes.
func TestHelperHoldsProjectLock(t *testing.T) {
	dir := os.Getenv("STATEDIR_HOLD_PROJECT")
	if dir == "" {
		t.Skip("helper process only")
	}
	l, err := LockProject(dir, "shop")
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	fmt.Println("locked")
	bufio.NewReader(os.Stdin).ReadString('\n')
	l.Release()
	os.Exit(0)
}

// TestProjectLockAcrossProcesses: a second rebuildd of the project (with
// any state dir: the lock is on the project directory) refuses and names
// the first by pid; once the first is gone the project is free again.
func TestProjectLockAcrossProcesses(t *testing.T) {
	project := t.TempDir()
	child := exec.Command(os.Args[0], "-test.run=^TestHelperHoldsProjectLock$")
	child.Env = append(os.Environ(), "STATEDIR_HOLD_PROJECT="+project)
	stdin, _ := child.StdinPipe()
	stdout, _ := child.StdoutPipe()
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	defer child.Wait()
	defer stdin.Close()
	line, _ := bufio.NewReader(stdout).ReadString('\n')
	if line != "locked\n" {
		t.Fatalf("helper said %q", line)
	}

	_, err := LockProject(project, "shop")
	var le *ProjectLockedError
	if !errors.As(err, &le) {
		t.Fatalf("second lock: %v, want ProjectLockedError", err)
	}
	if le.PID != child.Process.Pid || !strings.Contains(le.Command, "TestHelperHoldsProjectLock") {
		t.Errorf("holder pid %d (%q), want the helper's %d", le.PID, le.Command, child.Process.Pid)
	}
	msg := err.Error()
	for _, w := range []string{"pid " + strconv.Itoa(child.Process.Pid), "project shop", project, "whatever its --state-dir"} {
		if !strings.Contains(msg, w) {
			t.Errorf("message %q lacks %q", msg, w)
		}
	}
	if entries, _ := os.ReadDir(project); len(entries) != 0 {
		t.Errorf("the lock wrote into the project directory: %v", entries)
	}

	stdin.Close()
	if err := child.Wait(); err != nil {
		t.Fatalf("helper: %v", err)
	}
	l, err := LockProject(project, "shop")
	if err != nil {
		t.Fatalf("lock after the first rebuildd ended: %v", err)
	}
	if err := l.Release(); err != nil {
		t.Fatal(err)
	}
	if err := l.Release(); err != nil {
		t.Errorf("second Release: %v", err)
	}
}

// TestProjectLockSurvivesRenameSaves: an editor's save by rename inside
// the project does not touch the directory's inode, so the lock holds.
func TestProjectLockSurvivesRenameSaves(t *testing.T) {
	project := t.TempDir()
	l, err := LockProject(project, "shop")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release()
	os.WriteFile(filepath.Join(project, ".compose.yaml.swp"), []byte("services: {}\n"), 0o644)
	os.Rename(filepath.Join(project, ".compose.yaml.swp"), filepath.Join(project, "compose.yaml"))
	if _, err := LockProject(project, "shop"); err == nil {
		t.Error("a second lock succeeded after a rename-save")
	}
}

func TestFlockHolder(t *testing.T) {
	locks := `1: FLOCK  ADVISORY  WRITE 782 fe:00:10010476 0 EOF
2: POSIX  ADVISORY  WRITE 900 fe:00:555 0 EOF
3: FLOCK  ADVISORY  WRITE 1448 fe:00:555 0 EOF
3: -> FLOCK  ADVISORY  WRITE 1500 fe:00:555 0 EOF
4: OFDLCK ADVISORY  READ -1 00:06:3 0 EOF
5: FLOCK  ADVISORY  WRITE 0 00:2a:777 0 EOF
6: FLOCK  ADVISORY  WRITE 321 00:31:4242 0 EOF
`
	dev := unix.Mkdev
	for _, tc := range []struct {
		dev, ino uint64
		want     int
	}{
		{dev(0xfe, 0), 555, 1448},     // the holder, not the POSIX lock or the waiter
		{dev(0xfe, 0), 10010476, 782}, // another lock
		{dev(0x2a, 0), 777, 0},        // a holder this process cannot see
		{dev(0x99, 0), 4242, 321},     // btrfs: stat's device differs, one inode match
		{dev(0xfe, 0), 1, 0},          // no such lock
	} {
		if got := flockHolder(locks, tc.dev, tc.ino); got != tc.want {
			t.Errorf("flockHolder(%x, %d) = %d, want %d", tc.dev, tc.ino, got, tc.want)
		}
	}
}

func TestContainerID(t *testing.T) {
	id := strings.Repeat("3f2a", 16)
	for in, want := range map[string]string{
		"12:pids:/docker/" + id + "\n":                          id,
		"0::/system.slice/docker-" + id + ".scope\n":            id,
		"0::/machine.slice/libpod-" + id + ".scope/container\n": id,
		"0::/user.slice/user-1000.slice/session-2.scope\n":      "",
		"0::/\n": "",
	} {
		if got := ContainerID(in); got != want {
			t.Errorf("ContainerID(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestProjectLockedErrorHolder(t *testing.T) {
	id := strings.Repeat("ab", 32)
	for _, tc := range []struct {
		e    ProjectLockedError
		want string
	}{
		{ProjectLockedError{PID: 42, Command: "rebuildd --once"}, "another rebuildd (pid 42: rebuildd --once)"},
		{ProjectLockedError{PID: 42, Container: id}, "another rebuildd (pid 42) in container abababababab"},
		{ProjectLockedError{PID: 42, Container: id, Name: "shop-rebuildd-1"}, "another rebuildd (pid 42) in container shop-rebuildd-1"},
		{ProjectLockedError{Name: "container shop-rebuildd-1"}, "another rebuildd (container shop-rebuildd-1)"},
		{ProjectLockedError{}, "another rebuildd, outside this container (on the host or in another container)"},
	} {
		if got := tc.e.Holder(); got != tc.want {
			t.Errorf("Holder() = %q, want %q", got, tc.want)
		}
	}
}
