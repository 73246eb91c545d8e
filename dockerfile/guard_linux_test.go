package dockerfile

import (
	"fmt"
	"os"
	"sync"
	"syscall"
	"testing"
	"time"
)

// inputDeadline bounds one input of the fuzz and hostile-input tests. The
// largest seeds take a few seconds on the loaded 2-core machine; the
// deadline only tells a hang (a quadratic loop, a blocked read) from
// slowness, it asserts no speed.
const inputDeadline = 2 * time.Minute

// guard runs fn, in the test's goroutine, with the process's stderr (fd 2)
// sent to a file, and fails the test when anything was written there:
// library code must never write to stderr (issue 17: patternmatcher's and
// BuildKit's lexer's text/scanner printed a line per bad byte, which broke
// the JSON log). If fn runs past inputDeadline, a watchdog puts stderr
// back and ends the process naming the input.
func guard(t *testing.T, input string, fn func()) {
	t.Helper()
	f, err := os.CreateTemp(t.TempDir(), "stderr")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	saved, err := syscall.Dup(2)
	if err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	restore := func() {
		once.Do(func() {
			_ = syscall.Dup3(saved, 2, 0)
			_ = syscall.Close(saved)
		})
	}
	if err := syscall.Dup3(int(f.Fd()), 2, 0); err != nil {
		t.Fatal(err)
	}
	watchdog := time.AfterFunc(inputDeadline, func() {
		restore()
		panic(fmt.Sprintf("input %s still running after %v: a hang", shortInput(input), inputDeadline))
	})
	func() {
		defer restore()
		defer watchdog.Stop()
		fn()
	}()
	out, err := os.ReadFile(f.Name())
	if err != nil {
		t.Fatal(err)
	}
	if len(out) > 0 {
		t.Fatalf("input %s: %d bytes written to stderr, beginning %q", shortInput(input), len(out), shortInput(string(out)))
	}
}

// shortInput names an input in a message: quoted, at most 100 bytes.
func shortInput(s string) string {
	if len(s) > 100 {
		return fmt.Sprintf("%q... (%d bytes)", s[:100], len(s))
	}
	return fmt.Sprintf("%q", s)
}
