package escape

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// longWord is where Shorten starts cutting: real paths and values are far
// shorter, and a path longer than PATH_MAX (4096) is a mistake whose every
// byte need not be printed, several times over, in a one-line message.
const longWord = 512

// keep is how much of each end of a cut word stays: enough to recognise a
// path by its start and its file name.
const keep = 96

// Shorten cuts every run of non-space characters longer than 512 bytes to
// its first and last 96 bytes around "…(N bytes)…", so a message quoting
// a huge path or value stays readable. Shorter text is returned as is.
func Shorten(s string) string {
	if len(s) <= longWord {
		return s
	}
	var b strings.Builder
	start := -1
	flush := func(end int) {
		if start < 0 {
			return
		}
		w := s[start:end]
		if len(w) > longWord {
			head, tail := cutRunes(w, keep, true), cutRunes(w, keep, false)
			w = fmt.Sprintf("%s…(%d bytes)…%s", head, len(w), tail)
		}
		b.WriteString(w)
		start = -1
	}
	for i, r := range s {
		if unicode.IsSpace(r) {
			flush(i)
			b.WriteRune(r)
		} else if start < 0 {
			start = i
		}
	}
	flush(len(s))
	return b.String()
}

// cutRunes returns at most n bytes from the start (or the end) of s, on a
// rune boundary.
func cutRunes(s string, n int, fromStart bool) string {
	if fromStart {
		i := n
		for i > 0 && !utf8.RuneStart(s[i]) {
			i--
		}
		return s[:i]
	}
	i := len(s) - n
	for i < len(s) && !utf8.RuneStart(s[i]) {
		i++
	}
	return s[i:]
}
