package docker

import (
	"bufio"
	"context"
	"io"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// Cancelling a compose command stops its children too (on_busy: cancel
// must not leave a build running behind rebuildd's back).
func TestCancelStopsTheProcessGroup(t *testing.T) {
	pr, pw := io.Pipe()
	c := &ComposeCLI{Command: []string{"sh", "-c", `sleep 300 & echo "$!"; wait`}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.run(ctx, pw); pw.Close() }()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	child, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil {
		t.Fatalf("child pid %q: %v", line, err)
	}
	go io.Copy(io.Discard, pr)
	// A pidfd becomes readable when the process exits: an event to wait
	// for, not a guess at how long a signal takes.
	fd, err := unix.PidfdOpen(child, 0)
	if err != nil {
		t.Skipf("pidfd_open unavailable: %v", err)
	}
	defer unix.Close(fd)
	cancel()
	if err := <-done; err == nil {
		t.Fatal("a cancelled command reported success")
	}
	fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	// 10 s bounds a hang only: SIGTERM ends sleep at once.
	n, err := unix.Poll(fds, 10_000)
	if err != nil || n != 1 {
		t.Fatalf("the build's child %d survived the cancel (poll %d, %v)", child, n, err)
	}
}
