package humanlog

import (
	"hash/fnv"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/rebuildd/rebuildd/internal/escape"
)

// maxInstruction is how much of a Dockerfile instruction a line shows: a
// RUN of 150 characters would push the outcome off an 80-column terminal,
// and its first 60 name it well enough.
const maxInstruction = 60

// ANSI SGR sequences. Only the service name, the time and the level marker
// are painted: the rest must read the same without colour.
const (
	reset  = "\x1b[0m"
	dim    = "\x1b[2m"
	red    = "\x1b[1;31m"
	yellow = "\x1b[33m"
)

// palette colours service names, as compose does, so one service's lines
// stand out in an interleaved log. No red: red means an error.
var palette = []string{"\x1b[36m", "\x1b[32m", "\x1b[35m", "\x1b[34m", "\x1b[33m", "\x1b[96m", "\x1b[92m", "\x1b[95m", "\x1b[94m"}

// paint wraps s in an SGR sequence when colour is on.
func (o Options) paint(sgr, s string) string {
	if !o.Color || s == "" {
		return s
	}
	return sgr + s + reset
}

// service is the escaped, coloured service name; a name keeps its colour
// from run to run.
func (o Options) service(name string) string {
	h := fnv.New32a()
	h.Write([]byte(name))
	return o.paint(palette[h.Sum32()%uint32(len(palette))], escape.Line(name))
}

// Cut shortens s to at most n characters, ending in "…" when cut (at the
// end of a word when one ends near), after folding runs of spaces (a
// continued instruction joins its lines with several) into one.
func Cut(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	i, count := 0, 0
	for j := range s {
		if count == n-1 {
			i = j
			break
		}
		count++
	}
	head := s[:i]
	// End on a word when one ends near the cut: "do …" reads, "[ -…" does not.
	if j := strings.LastIndexByte(head, ' '); j > 0 && utf8.RuneCountInString(head[j:]) <= n/4 {
		head = head[:j]
	}
	return strings.TrimRight(head, " ") + "…"
}

// instruction is a Dockerfile instruction fit for one line.
func instruction(s string) string { return escape.Line(Cut(s, maxInstruction)) }

// Took formats a duration the way the lines print it: "0.4s", "12.4s",
// "2m05s".
func Took(d time.Duration) string {
	if d < time.Minute {
		return strconv.FormatFloat(d.Round(100*time.Millisecond).Seconds(), 'f', 1, 64) + "s"
	}
	d = d.Round(time.Second)
	m, s := int(d/time.Minute), int(d%time.Minute/time.Second)
	return strconv.Itoa(m) + "m" + pad2(s) + "s"
}

// elapsed is a status line's clock: whole seconds, "12s", "2m05s".
func elapsed(d time.Duration) string {
	d = d.Truncate(time.Second)
	if d < time.Minute {
		return strconv.Itoa(int(d/time.Second)) + "s"
	}
	return strconv.Itoa(int(d/time.Minute)) + "m" + pad2(int(d%time.Minute/time.Second)) + "s"
}

func pad2(n int) string {
	if n < 10 {
		return "0" + strconv.Itoa(n)
	}
	return strconv.Itoa(n)
}

// path shows p relative to the working directory when it is below it.
func (o Options) path(p string) string {
	if o.Dir != "" && filepath.IsAbs(p) {
		if rel, err := filepath.Rel(o.Dir, p); err == nil && rel != ".." && !strings.HasPrefix(rel, "../") {
			p = rel
		}
	}
	return escape.Line(p)
}

// shortTook is Took, in milliseconds below a second: a sync takes tens.
func shortTook(d time.Duration) string {
	if d < time.Second {
		return strconv.FormatInt(d.Milliseconds(), 10) + "ms"
	}
	return Took(d)
}
