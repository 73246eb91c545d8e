package examples

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/rebuildd/rebuildd/internal/e2e"
	"github.com/rebuildd/rebuildd/internal/humanlog"
)

// consoleWait bounds waiting for a line on the console: the start-up
// reconcile builds four small images (seconds each here, a minute on a
// loaded machine) before "ready".
const consoleWait = 4 * time.Minute

// TestConsoleDepsEdit runs watch mode on the example in a pseudo-terminal,
// as a person would, and edits the deps layer: the rebuild and its
// recreate show at most three lines at info level (no build output
// without --verbose, the status line erased), and the new deps are served.
func TestConsoleDepsEdit(t *testing.T) {
	e2e.Require(t)
	base := e2e.BaseImage(t)
	c := e2e.Composes(t)[0] // the console is rebuildd's own; v2 when installed
	root := checkout(t)
	name := "rbtest" + randHex(5)
	port := e2e.FreePort(t)
	env := []string{"REBUILDD_BASE=" + base, "COMPOSE_PROJECT_NAME=" + name, "XDG_CACHE_HOME=" + t.TempDir(),
		"GOCACHE=" + goEnv(t, "GOCACHE"), "GOMODCACHE=" + goEnv(t, "GOMODCACHE"), "TERM=xterm", "NO_COLOR=",
		fmt.Sprintf("API_PORT=%d", port), fmt.Sprintf("WEB_PORT=%d", e2e.FreePort(t)),
		fmt.Sprintf("DOCS_PORT=%d", e2e.FreePort(t)), fmt.Sprintf("MIRROR_PORT=%d", e2e.FreePort(t))}
	env = append(env, c.Env...)
	t.Cleanup(func() { down(t, root, name, env) })
	bin := filepath.Join(t.TempDir(), "rebuildd")
	if code, out := run(t, root, env, "go", "build", "-o", bin, "./cmd/rebuildd"); code != 0 {
		t.Fatalf("go build: exit %d\n%s", code, out)
	}
	con := startInPTY(t, root, env, bin, "-f", "examples/stack/compose.yaml")
	con.waitRow(t, regexp.MustCompile(`^\d\d:\d\d:\d\d ready: `))

	from := len(con.term.Rows())
	f, err := os.OpenFile(filepath.Join(root, "examples/stack/api/deps.txt"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintln(f, "is-even")
	f.Close()
	e2e.WaitServing(t, e2e.URL(port, "/deps.html"), "is-even", consoleWait)
	con.waitRow(t, regexp.MustCompile(`^\d\d:\d\d:\d\d api  rebuilt in `))

	rows := con.term.Rows()[from:]
	if len(rows) > 3 {
		t.Errorf("a deps edit printed %d lines, want at most 3:\n%s", len(rows), strings.Join(rows, "\n"))
	}
	for _, r := range rows {
		if strings.ContainsAny(r, "{|") || regexp.MustCompile(`\b(INFO|WARN|ERROR|debug)\b`).MatchString(r) {
			t.Errorf("line %q: build output, a field blob or a level word", r)
		}
	}
	t.Logf("the console after the edit:\n%s", strings.Join(rows, "\n"))
}

// ptyConsole is a process whose stderr and stdout are a pseudo-terminal,
// read into a FakeTerminal.
type ptyConsole struct {
	term    *humanlog.FakeTerminal
	changed chan struct{} // a value after each read
	mu      sync.Mutex
	raw     strings.Builder
}

// startInPTY starts argv in dir on a new 160x50 pseudo-terminal and stops
// it (SIGTERM) when the test ends.
func startInPTY(t *testing.T, dir string, env []string, argv ...string) *ptyConsole {
	t.Helper()
	master, slave, err := openPTY(160, 50)
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir, cmd.Env = dir, append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = slave, slave
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	slave.Close()
	c := &ptyConsole{term: &humanlog.FakeTerminal{}, changed: make(chan struct{}, 1)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 4096)
		for {
			n, err := master.Read(buf)
			if n > 0 {
				c.mu.Lock()
				c.raw.Write(buf[:n])
				c.mu.Unlock()
				c.term.Write(buf[:n])
				select {
				case c.changed <- struct{}{}:
				default:
				}
			}
			if err != nil { // EIO once the process and its children closed the terminal
				return
			}
		}
	}()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
		master.Close()
		<-done
		if err := c.term.Err(); err != nil {
			t.Errorf("the terminal would garble this output: %v", err)
		}
		if t.Failed() {
			t.Logf("the console:\n%s", strings.Join(c.term.Rows(), "\n"))
		}
	})
	return c
}

// waitRow waits until a row of the screen matches re.
func (c *ptyConsole) waitRow(t *testing.T, re *regexp.Regexp) {
	t.Helper()
	deadline := time.After(consoleWait)
	for {
		for _, r := range c.term.Rows() {
			if re.MatchString(r) {
				return
			}
		}
		select {
		case <-c.changed:
		case <-deadline:
			t.Fatalf("no line matching %q within %s", re, consoleWait)
		}
	}
}

// openPTY opens a pseudo-terminal pair with the given size.
func openPTY(cols, rows uint16) (master, slave *os.File, err error) {
	master, err = os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		return nil, nil, err
	}
	fd := int(master.Fd())
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		master.Close()
		return nil, nil, fmt.Errorf("unlock pty: %w", err)
	}
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err != nil {
		master.Close()
		return nil, nil, fmt.Errorf("pty number: %w", err)
	}
	slave, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		master.Close()
		return nil, nil, err
	}
	if err := unix.IoctlSetWinsize(int(slave.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Col: cols, Row: rows}); err != nil {
		master.Close()
		slave.Close()
		return nil, nil, fmt.Errorf("pty size: %w", err)
	}
	return master, slave, nil
}
