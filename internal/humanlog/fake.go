package humanlog

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// FakeTerminal is a terminal for tests: it interprets what Screen writes
// (text, newline, carriage return, cursor up, erase below, colours) into
// rows, so a test asserts what a person would see, not the bytes. It
// fails on anything else Screen must not send, and on a row wider than
// Width (a wrapped row would break the erase).
type FakeTerminal struct {
	Width int // 0: unlimited

	mu   sync.Mutex
	rows [][]rune
	row  int
	col  int
	err  error
}

// Write implements io.Writer.
func (t *FakeTerminal) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := string(p)
	for len(s) > 0 {
		if s[0] == 0x1b {
			n, err := t.control(s)
			if err != nil {
				t.fail(err)
				return 0, err
			}
			s = s[n:]
			continue
		}
		r, n := utf8.DecodeRuneInString(s)
		s = s[n:]
		t.put(r)
	}
	return len(p), nil
}

func (t *FakeTerminal) put(r rune) {
	switch {
	case r == '\n':
		t.row, t.col = t.row+1, 0
		return
	case r == '\r':
		t.col = 0
		return
	case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0):
		t.fail(fmt.Errorf("control character %U reached the terminal", r))
		return
	}
	for len(t.rows) <= t.row {
		t.rows = append(t.rows, nil)
	}
	line := t.rows[t.row]
	for len(line) < t.col {
		line = append(line, ' ')
	}
	if t.col < len(line) {
		line[t.col] = r
	} else {
		line = append(line, r)
	}
	t.rows[t.row] = line
	t.col++
	if t.Width > 0 && t.col > t.Width {
		t.fail(fmt.Errorf("row %d is wider than %d columns: %q", t.row, t.Width, string(line)))
	}
}

// control interprets one CSI sequence and returns its length.
func (t *FakeTerminal) control(s string) (int, error) {
	if len(s) < 3 || s[1] != '[' {
		return 0, fmt.Errorf("escape sequence %q is not CSI", s[:min(len(s), 8)])
	}
	i := 2
	for i < len(s) && (s[i] >= '0' && s[i] <= '9' || s[i] == ';') {
		i++
	}
	if i == len(s) {
		return 0, fmt.Errorf("unterminated escape sequence %q", s)
	}
	arg := s[2:i]
	switch s[i] {
	case 'm': // colour
	case 'A':
		n, err := strconv.Atoi(arg)
		if err != nil || n > t.row {
			return 0, fmt.Errorf("cursor up %q from row %d", arg, t.row)
		}
		t.row -= n
	case 'J':
		if arg != "" && arg != "0" {
			return 0, fmt.Errorf("erase %q: only below the cursor", arg)
		}
		if t.row < len(t.rows) {
			if t.col < len(t.rows[t.row]) {
				t.rows[t.row] = t.rows[t.row][:t.col]
			}
			t.rows = t.rows[:t.row+1]
		}
	default:
		return 0, fmt.Errorf("unexpected escape sequence %q", s[:i+1])
	}
	return i + 1, nil
}

func (t *FakeTerminal) fail(err error) {
	if t.err == nil {
		t.err = err
	}
}

// Err is the first thing written that a terminal would garble.
func (t *FakeTerminal) Err() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.err
}

// Rows is the screen as a person sees it now, trailing empty rows left out.
func (t *FakeTerminal) Rows() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]string, len(t.rows))
	for i, r := range t.rows {
		out[i] = strings.TrimRight(string(r), " ")
	}
	for len(out) > 0 && out[len(out)-1] == "" {
		out = out[:len(out)-1]
	}
	return out
}
