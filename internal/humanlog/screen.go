package humanlog

import (
	"io"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/rebuildd/rebuildd/docker"
	"github.com/rebuildd/rebuildd/internal/escape"
)

// ShowAfter is how long a command runs before its status line appears: a
// restart or a cached build ends sooner, and a line drawn and erased
// within a second only flickers.
const ShowAfter = time.Second

// Tick is how often status lines are redrawn: their clocks count seconds.
const Tick = time.Second

// Terminal control: move the cursor up n rows, to the start of the row,
// and erase from there to the end of the screen.
const (
	eraseBelow = "\r\x1b[J"
)

// Screen is a terminal's stderr with live status lines under the log: one
// per service while Docker builds, recreates or restarts it, e.g.
// "api  building [3/7] RUN npm ci  12s". Every log line written through
// it erases the status lines first and draws them again after, so the
// two never garble each other. It is a docker.Progress and an io.Writer;
// all methods are safe for concurrent use.
type Screen struct {
	o     Options
	out   io.Writer
	now   func() time.Time
	width func() int // terminal columns; 0: unknown

	mu     sync.Mutex
	status []*status // in the order the commands began
	shown  int       // status rows on the screen below the log now
}

// status is one service's running command.
type status struct {
	service string
	phase   docker.Phase
	step    docker.Step
	start   time.Time
}

// NewScreen draws on out, which must be a terminal; width reports its
// columns (nil or 0: 80), so a status line never wraps.
func NewScreen(out io.Writer, o Options, now func() time.Time, width func() int) *Screen {
	if width == nil {
		width = func() int { return 0 }
	}
	return &Screen{o: o, out: out, now: now, width: width}
}

// Write prints log output (whole lines) above the status lines.
func (s *Screen) Write(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var b strings.Builder
	s.erase(&b)
	b.Write(p)
	s.draw(&b)
	if _, err := io.WriteString(s.out, b.String()); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Sync implements zapcore.WriteSyncer.
func (s *Screen) Sync() error { return nil }

// Begin implements docker.Progress.
func (s *Screen) Begin(service string, phase docker.Phase) {
	s.update(func() {
		s.status = append(s.remove(service), &status{service: service, phase: phase, start: s.now()})
	})
}

// Step implements docker.Progress.
func (s *Screen) Step(service string, st docker.Step) {
	s.update(func() {
		for _, x := range s.status {
			if x.service == service {
				x.step = st
			}
		}
	})
}

// End implements docker.Progress.
func (s *Screen) End(service string) {
	s.update(func() { s.status = s.remove(service) })
}

// Tick redraws the status lines, so their clocks move; the caller runs it
// every Tick (a time.Ticker in the command, directly in tests).
func (s *Screen) Tick() { s.update(func() {}) }

// Close erases the status lines, for a clean prompt after exit.
func (s *Screen) Close() {
	s.update(func() { s.status = nil })
}

// update changes the status lines and redraws them when what is on the
// screen differs.
func (s *Screen) update(change func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	change()
	var b strings.Builder
	s.erase(&b)
	s.draw(&b)
	if b.Len() > 0 {
		io.WriteString(s.out, b.String())
	}
}

func (s *Screen) remove(service string) []*status {
	out := s.status[:0]
	for _, x := range s.status {
		if x.service != service {
			out = append(out, x)
		}
	}
	return out
}

// erase removes the status rows: the cursor sits at the start of the row
// below them.
func (s *Screen) erase(b *strings.Builder) {
	if s.shown == 0 {
		return
	}
	b.WriteString("\x1b[" + itoa(s.shown) + "A" + eraseBelow)
	s.shown = 0
}

// draw prints the status lines that have run for ShowAfter, each cut to
// the terminal's width so it takes exactly one row.
func (s *Screen) draw(b *strings.Builder) {
	now := s.now()
	cols := s.width()
	if cols <= 0 {
		cols = 80
	}
	for _, x := range s.status {
		d := now.Sub(x.start)
		if d < ShowAfter {
			continue
		}
		b.WriteString(s.line(x, d, cols-1) + "\n")
		s.shown++
	}
}

// line is "         api  building [3/7] RUN npm ci  12s", at most cols
// characters before colour: the instruction is cut first, the phase and
// the step's position only when nothing else is left.
func (s *Screen) line(x *status, d time.Duration, cols int) string {
	name := escape.Line(x.service)
	head := string(x.phase)
	if l := x.step.Label(); l != "" {
		head += " " + escape.Line(l)
	}
	clock := "  " + elapsed(d)
	room := cols - len(indent) - utf8.RuneCountInString(name) - 2 - len(clock)
	text := head
	if in := instruction(x.step.Text); in != "" && room-len(head)-1 >= minInstruction {
		text += " " + Cut(in, room-len(head)-1)
	}
	return indent + s.o.service(x.service) + "  " + Cut(text, max(room, 1)) + s.o.paint(dim, clock)
}

// minInstruction: fewer characters of an instruction name nothing.
const minInstruction = 8

func itoa(n int) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}

// EscapeLines passes text on to w line by line with every control
// character escaped (internal/escape): build output carries whatever a
// RUN printed, and an escape sequence in it would move the cursor under
// the status lines or recolour the terminal. Each Write must hold whole
// lines, as docker.PrefixWriter's do.
func EscapeLines(w io.Writer) io.Writer { return escapeLines{w} }

type escapeLines struct{ w io.Writer }

func (e escapeLines) Write(p []byte) (int, error) {
	text := strings.TrimSuffix(string(p), "\n")
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		lines[i] = escape.Line(l)
	}
	out := strings.Join(lines, "\n")
	if len(text) < len(p) {
		out += "\n"
	}
	if _, err := io.WriteString(e.w, out); err != nil {
		return 0, err
	}
	return len(p), nil
}
