// Package escape makes text from input files safe to print on a terminal.
// Paths, Dockerfile instructions and compose values are the user's (or a
// checkout's) bytes: an ESC, a carriage return or an 8-bit CSI in them
// would otherwise reach the terminal raw, where it can recolour, erase or
// rewrite what rebuildd printed (docs/design.md, "Conventions": one clear
// message). Printable text, including every valid non-ASCII character,
// passes unchanged and unallocated, so the common case costs one scan.
package escape

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Line returns s with every control character escaped, newlines and tabs
// included: for one-line output (log lines, table cells, one-line
// messages), where a newline from a file name would forge a line of its own.
func Line(s string) string { return escape(s, false) }

// Text is Line for multi-line output: newlines and tabs pass, every other
// control character is escaped.
func Text(s string) string { return escape(s, true) }

// escape rewrites what unsafe reports as unsafe: C0 controls as \n, \r,
// \t or \xNN; DEL and bytes that are not UTF-8 as \xNN (a lone 0x9b is CSI
// to an 8-bit terminal); C1 controls and bidirectional overrides as \uNNNN
// (the latter reorder what is shown: "Trojan Source", CVE-2021-42574).
func escape(s string, multiline bool) string {
	i := firstUnsafe(s, multiline)
	if i < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	b.WriteString(s[:i])
	for i < len(s) {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case !unsafe(r, multiline):
			b.WriteString(s[i : i+n])
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x80:
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			fmt.Fprintf(&b, `\u%04x`, r)
		}
		i += n
	}
	return b.String()
}

// firstUnsafe is the byte offset of the first rune escape rewrites, -1
// when there is none.
func firstUnsafe(s string, multiline bool) int {
	for i, r := range s {
		if r == utf8.RuneError {
			if _, n := utf8.DecodeRuneInString(s[i:]); n == 1 {
				return i
			}
		}
		if unsafe(r, multiline) {
			return i
		}
	}
	return -1
}

func unsafe(r rune, multiline bool) bool {
	switch {
	case r == '\n' || r == '\t':
		return !multiline
	case r < 0x20 || r == 0x7f:
		return true
	case r >= 0x80 && r <= 0x9f: // C1 controls
		return true
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069: // bidi embeddings, overrides, isolates
		return true
	}
	return false
}
