// Package inputerr holds the error type for bad user input. It is a leaf
// (no imports beyond the standard library) so that packages low in the
// pipeline, such as ignore, which the watcher imports, can report bad input
// without pulling in compose-go.
package inputerr

import (
	"fmt"
	"io/fs"

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
	// Lines: Msg is several lines and stays so (only its other control
	// bytes are escaped), for a fix to paste such as the sidecar's
	// volumes: lines. Whoever sets it has escaped the input Msg quotes
	// (escape.Line), so no quoted name can forge a line.
	Lines bool
}

func (e *Error) Error() string {
	esc := escape.Line
	if e.Lines {
		esc = escape.Text
	}
	switch {
	case e.File != "" && e.Line > 0:
		return esc(fmt.Sprintf("%s:%d: %s", escape.Line(e.File), e.Line, e.Msg))
	case e.File != "":
		return esc(fmt.Sprintf("%s: %s", escape.Line(e.File), e.Msg))
	}
	return esc(e.Msg)
}

func (e *Error) Unwrap() error { return e.Err }

// NotRegular says what a file that should hold text is instead ("a
// FIFO", "a device"...), for messages about a Dockerfile or ignore file.
func NotRegular(m fs.FileMode) string {
	switch t := m.Type(); {
	case t&fs.ModeNamedPipe != 0:
		return "not a regular file but a FIFO"
	case t&fs.ModeDevice != 0:
		return "not a regular file but a device"
	case t&fs.ModeSocket != 0:
		return "not a regular file but a socket"
	case t&fs.ModeDir != 0:
		return "not a regular file but a directory"
	}
	return "not a regular file"
}
