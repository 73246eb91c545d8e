package ignore

import (
	"errors"
	"fmt"
	"unicode/utf8"
)

// ErrNotText is a pattern with a NUL byte or bytes that are not UTF-8.
// patternmatcher reads each pattern with text/scanner, which prints a line
// to the process's stderr for every such byte (issue 17: a binary
// .dockerignore printed ~400 lines and broke the JSON log), and a Compose
// v1 build (Python) fails to decode the file at all. No file name holds a
// NUL, and a name that is not UTF-8 is still matched by "?" per byte, so
// such a pattern is refused with a message saying so, before
// patternmatcher sees it.
var ErrNotText = errors.New("is not UTF-8 text")

// notTextError says which byte of a pattern is not text.
type notTextError struct {
	b   byte
	pos int // 1-based byte position in the pattern
}

func (e *notTextError) Error() string {
	return fmt.Sprintf("byte 0x%02x at position %d %v", e.b, e.pos, ErrNotText)
}

func (e *notTextError) Unwrap() error { return ErrNotText }

// checkText returns a *notTextError for the first NUL or byte that is not
// UTF-8 in p, nil when p is text.
func checkText(p string) error {
	for i := 0; i < len(p); {
		r, w := utf8.DecodeRuneInString(p[i:])
		if r == 0 || r == utf8.RuneError && w == 1 {
			return &notTextError{b: p[i], pos: i + 1}
		}
		i += w
	}
	return nil
}

// quoteShort quotes a pattern for a message, cut to a readable length: a
// binary file's "line" can be kilobytes of escapes.
func quoteShort(p string) string {
	const max = 60
	if len(p) <= max {
		return fmt.Sprintf("%q", p)
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(p[cut]) {
		cut--
	}
	return fmt.Sprintf("%q...", p[:cut])
}
