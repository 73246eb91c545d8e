// Command rebuildd keeps a Docker Compose dev stack in step with its source.
//
// This package is wiring only: flags, signals and exit codes. Every decision
// lives in the pipeline packages (config, ignore, dockerfile, watcher, rebuild).
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/rebuildd/rebuildd/config"
	"github.com/rebuildd/rebuildd/internal/escape"
)

// Exit codes (docs/design.md, Conventions).
const (
	exitOK      = 0 // done or up to date
	exitFailed  = 1 // a build or recreate failed
	exitUsage   = 2 // bad usage or bad input
	exitStale   = 3 // --check found something stale
	exitUnknown = 4 // --check found nothing stale but something it cannot know (no record)
)

// exitError carries an exit code through cobra's error return.
type exitError struct {
	code int
	err  error // nil: the message was printed already
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

func main() {
	ctx, cancel := context.WithCancel(context.Background())
	stop := onSignals(cancel)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run executes the command line and maps errors to exit codes.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cmd := newRootCmd()
	cmd.SetArgs(args)
	cmd.SetOut(stdout)
	cmd.SetErr(stderr)
	err := cmd.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	return report(stderr, err)
}

// report prints err once and returns its exit code. Errors quote paths,
// Dockerfile text and compose values, so their control bytes are escaped
// and a huge path is cut (message).
func report(stderr io.Writer, err error) int {
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			fmt.Fprintln(stderr, "rebuildd:", message(ee.err))
		}
		return ee.code
	}
	fmt.Fprintln(stderr, "rebuildd:", message(err))
	var ie *config.InputError
	if errors.As(err, &ie) {
		return exitUsage
	}
	return exitFailed
}

// message is err's text as it may reach a terminal: control bytes escaped
// (line breaks kept: a few messages list lines to paste), runs past 512
// bytes cut (a path longer than PATH_MAX printed several times over made a
// 6 KB message).
func message(err error) string {
	return escape.Shorten(escape.Text(err.Error()))
}
