// Package humanlog is rebuildd's console for people: log lines rendered
// from the same structured fields the JSON log carries ("HH:MM:SS api
// package-lock.json -> deps (RUN npm ci, Dockerfile:5) -> rebuild"), with
// no field blob after the sentence and no level word at info; and, on a
// terminal, one live status line per service while Docker works
// (docs/design.md, "Conventions": logging). Every text from input files
// is escaped on the way (internal/escape).
package humanlog

import (
	"time"

	"go.uber.org/zap/buffer"
	"go.uber.org/zap/zapcore"
)

// Options shape the console.
type Options struct {
	// Color paints service names and warning markers (stderr is a
	// terminal and NO_COLOR is unset).
	Color bool
	// Verbose: build output was streamed as it came, so a failure's
	// output is not printed again under its error.
	Verbose bool
	// Dir shortens paths below it to relative ones (the working
	// directory); "" prints paths as they are.
	Dir string
}

// NewEncoder returns a zap encoder that renders one human line (a failure
// adds its build output below) per entry.
func NewEncoder(o Options) zapcore.Encoder {
	return &encoder{MapObjectEncoder: zapcore.NewMapObjectEncoder(), o: o}
}

var pool = buffer.NewPool()

// encoder keeps the fields added by Logger.With in its map, like zap's
// own encoders keep them in their buffer.
type encoder struct {
	*zapcore.MapObjectEncoder
	o Options
}

func (e *encoder) Clone() zapcore.Encoder {
	c := zapcore.NewMapObjectEncoder()
	for k, v := range e.Fields {
		c.Fields[k] = v
	}
	return &encoder{MapObjectEncoder: c, o: e.o}
}

func (e *encoder) EncodeEntry(ent zapcore.Entry, fields []zapcore.Field) (*buffer.Buffer, error) {
	m := zapcore.NewMapObjectEncoder()
	for k, v := range e.Fields {
		m.Fields[k] = v
	}
	for _, f := range fields {
		f.AddTo(m)
	}
	ev := event{time: ent.Time, level: ent.Level, msg: ent.Message, f: m.Fields}
	buf := pool.Get()
	buf.AppendString(e.o.render(ev))
	return buf, nil
}

// event is one log entry with its fields decoded.
type event struct {
	time  time.Time
	level zapcore.Level
	msg   string
	f     map[string]any
}

func (ev event) str(k string) string {
	s, _ := ev.f[k].(string)
	return s
}

// strs reads a zap.Strings field (an array in the map encoder).
func (ev event) strs(k string) []string {
	switch v := ev.f[k].(type) {
	case []string:
		return v
	case []any:
		out := make([]string, 0, len(v))
		for _, x := range v {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

func (ev event) dur(k string) (time.Duration, bool) {
	d, ok := ev.f[k].(time.Duration)
	return d, ok
}

func (ev event) num(k string) int {
	switch v := ev.f[k].(type) {
	case int:
		return v
	case int64:
		return int(v)
	}
	return 0
}

func (ev event) flag(k string) bool {
	b, _ := ev.f[k].(bool)
	return b
}
