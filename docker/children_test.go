package docker

import (
	"bufio"
	"context"
	"io"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// startTracked runs script as a Compose command tracked by kids and
// returns the pid its shell printed (its group's leader) and the command's
// result.
func startTracked(t *testing.T, kids *Children, script string) (int, <-chan error) {
	t.Helper()
	pr, pw := io.Pipe()
	c := &ComposeCLI{Command: []string{"sh", "-c", script}, Children: kids}
	done := make(chan error, 1)
	go func() { done <- c.run(context.Background(), pw); pw.Close() }()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	go io.Copy(io.Discard, pr)
	pid, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil {
		t.Fatalf("pid %q: %v", line, err)
	}
	return pid, done
}

// TestComposeRunsInItsOwnGroup: a terminal's Ctrl-C goes to the foreground
// process group, rebuildd's; a Compose command is in a group of its own,
// so the keypress never reaches it.
func TestComposeRunsInItsOwnGroup(t *testing.T) {
	kids := NewChildren()
	pid, done := startTracked(t, kids, `echo $$; exec sleep 300`)
	pgid, err := syscall.Getpgid(pid)
	if err != nil {
		t.Fatal(err)
	}
	if pgid != pid || pgid == syscall.Getpgrp() {
		t.Errorf("compose command %d is in group %d (rebuildd's is %d), want a group of its own", pid, pgid, syscall.Getpgrp())
	}
	if kids.Len() != 1 {
		t.Errorf("%d children tracked, want 1", kids.Len())
	}
	if killed := kids.Stop(10 * time.Second); killed != 0 {
		t.Errorf("sleep ignored SIGTERM? %d killed", killed)
	}
	if err := <-done; err == nil {
		t.Error("a stopped command reported success")
	}
	if kids.Len() != 0 {
		t.Errorf("%d children still tracked", kids.Len())
	}
}

// TestStopKillsWhatIgnoresTerm: a command that ignores SIGTERM, and its
// own child, are killed once the grace is over.
func TestStopKillsWhatIgnoresTerm(t *testing.T) {
	kids := NewChildren()
	pid, done := startTracked(t, kids, `trap "" TERM; sleep 300 & echo $!; wait`)
	fd, err := unix.PidfdOpen(pid, 0) // the grandchild: sleep, in the same group
	if err != nil {
		t.Skipf("pidfd_open unavailable: %v", err)
	}
	defer unix.Close(fd)
	// The grace is short on purpose: what it bounds is ignored anyway.
	if killed := kids.Stop(50 * time.Millisecond); killed != 1 {
		t.Errorf("%d groups killed, want 1", killed)
	}
	<-done
	n, err := unix.Poll([]unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}, 10_000) // bounds a hang only
	if err != nil || n != 1 {
		t.Fatalf("the command's child %d survived Stop (poll %d, %v)", pid, n, err)
	}
}

func TestNilChildrenTracksNothing(t *testing.T) {
	var kids *Children
	kids.add(1)() // no panic
}
