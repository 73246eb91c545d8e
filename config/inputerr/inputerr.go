// Package inputerr holds the error type for bad user input. It is a leaf
// (no imports beyond the standard library) so that packages low in the
// pipeline, such as ignore, which the watcher imports, can report bad input
// without pulling in compose-go.
package inputerr

import (
	"fmt"

	"github.com/rebuildd/rebuildd/internal/escape"
)

// Error is bad input from the user: a compose file, Dockerfile, ignore
// file or rebuild.yaml that cannot be used. cmd/rebuildd maps it to exit code 2
// and prints it as one line, never a stack trace. The line is escaped
// (internal/escape): file names and messages quote the input, whose control
// bytes must not reach the terminal.
type Error struct {
	File string // absolute or as given; "" when the input is not a file (a flag)
	Line int    // 1-based; 0 when unknown
	Msg  string // what is wrong and what to do
	Err  error  // the underlying error, if any
}

func (e *Error) Error() string {
	switch {
	case e.File != "" && e.Line > 0:
		return escape.Line(fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg))
	case e.File != "":
		return escape.Line(fmt.Sprintf("%s: %s", e.File, e.Msg))
	}
	return escape.Line(e.Msg)
}

func (e *Error) Unwrap() error { return e.Err }
