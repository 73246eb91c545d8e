package config

import "fmt"

// InputError is bad input from the user: a compose file, Dockerfile, ignore
// file or rebuild.yaml that cannot be used. cmd/rebuildd maps it to exit code 2
// and prints it as one line, never a stack trace.
type InputError struct {
	File string // absolute or as given; "" when the input is not a file (a flag)
	Line int    // 1-based; 0 when unknown
	Msg  string // what is wrong and what to do
	Err  error  // the underlying error, if any
}

func (e *InputError) Error() string {
	switch {
	case e.File != "" && e.Line > 0:
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	case e.File != "":
		return fmt.Sprintf("%s: %s", e.File, e.Msg)
	}
	return e.Msg
}

func (e *InputError) Unwrap() error { return e.Err }
