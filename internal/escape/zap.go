package escape

import (
	"fmt"

	"go.uber.org/zap/buffer"
	"go.uber.org/zap/zapcore"
)

// Encoder wraps zap's console encoder so that no control character of a
// log line's message or string fields reaches the terminal. The console
// encoder writes the message raw, and its fields' JSON escaping lets C1
// controls and bidirectional overrides through. The JSON encoder needs no
// wrapping: its output is for machines, and JSON escaping keeps it valid.
func Encoder(enc zapcore.Encoder) zapcore.Encoder { return encoder{enc} }

type encoder struct{ zapcore.Encoder }

func (e encoder) Clone() zapcore.Encoder { return encoder{e.Encoder.Clone()} }

// AddString and AddByteString catch the fields added by Logger.With,
// which zap hands to the encoder directly.
func (e encoder) AddString(key, v string) { e.Encoder.AddString(key, Line(v)) }

func (e encoder) AddByteString(key string, v []byte) { e.Encoder.AddString(key, Line(string(v))) }

func (e encoder) EncodeEntry(ent zapcore.Entry, fields []zapcore.Field) (*buffer.Buffer, error) {
	ent.Message = Line(ent.Message)
	ent.LoggerName = Line(ent.LoggerName)
	var out []zapcore.Field // copied on the first change: the caller owns fields
	for i, f := range fields {
		g, changed := field(f)
		if !changed {
			continue
		}
		if out == nil {
			out = append([]zapcore.Field(nil), fields...)
		}
		out[i] = g
	}
	if out == nil {
		out = fields
	}
	return e.Encoder.EncodeEntry(ent, out)
}

// field returns f with its text escaped, and whether that changed it.
// An error or Stringer whose text needs escaping becomes a string: the
// console shows only its text anyway.
func field(f zapcore.Field) (zapcore.Field, bool) {
	var s string
	switch f.Type {
	case zapcore.StringType:
		s = f.String
	case zapcore.ByteStringType:
		s = string(f.Interface.([]byte))
	case zapcore.ErrorType, zapcore.StringerType:
		var ok bool
		if s, ok = text(f.Interface); !ok {
			return f, false
		}
	default:
		return f, false
	}
	if firstUnsafe(s, false) < 0 && f.Type != zapcore.ByteStringType {
		return f, false
	}
	return zapcore.Field{Key: f.Key, Type: zapcore.StringType, String: Line(s)}, true
}

// text is the text of an error or Stringer; false when it has none or
// panics (a nil pointer inside an interface), which zap then reports in
// its own way.
func text(v any) (s string, ok bool) {
	defer func() {
		if recover() != nil {
			s, ok = "", false
		}
	}()
	switch v := v.(type) {
	case error:
		return v.Error(), true
	case fmt.Stringer:
		return v.String(), true
	}
	return "", false
}
