package escape

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

func TestLineAndText(t *testing.T) {
	for _, tc := range []struct{ in, line, text string }{
		{"src/server.js", "src/server.js", "src/server.js"},
		{"café/日本.txt", "café/日本.txt", "café/日本.txt"}, // printable non-ASCII passes
		{"a\x1b[31mred", `a\x1b[31mred`, `a\x1b[31mred`},
		{"a\nb\tc", `a\nb\tc`, "a\nb\tc"},
		{"x\ry", `x\ry`, `x\ry`},
		{"nul\x00del\x7f", `nul\x00del\x7f`, `nul\x00del\x7f`},
		{"csi8\x9b2J", `csi8\x9b2J`, `csi8\x9b2J`},                   // a raw 8-bit CSI: not UTF-8
		{"c1\u009b2J", `c1\u009b2J`, `c1\u009b2J`},                   // CSI as a UTF-8 C1 control
		{"evil\u202eexe.js", `evil\u202eexe.js`, `evil\u202eexe.js`}, // right-to-left override
		{"iso\u2066x\u2069", `iso\u2066x\u2069`, `iso\u2066x\u2069`}, // bidi isolates
		{"broken\xff\xfe", `broken\xff\xfe`, `broken\xff\xfe`},       // not UTF-8
		{`back\slash \x1b`, `back\slash \x1b`, `back\slash \x1b`},    // printable: unchanged
		{"", "", ""},
	} {
		if got := Line(tc.in); got != tc.line {
			t.Errorf("Line(%q) = %q, want %q", tc.in, got, tc.line)
		}
		if got := Text(tc.in); got != tc.text {
			t.Errorf("Text(%q) = %q, want %q", tc.in, got, tc.text)
		}
	}
}

// TestLineNoAlloc: printable text, the common case, is returned as is.
func TestLineNoAlloc(t *testing.T) {
	s := strings.Repeat("services/api/src/server.js ", 10)
	if n := testing.AllocsPerRun(100, func() { _ = Line(s) }); n != 0 {
		t.Errorf("Line of printable text allocates %v times", n)
	}
}

type stringer string

func (s stringer) String() string { return string(s) }

type nilStringer struct{ s *string }

func (n *nilStringer) String() string { return *n.s }

// TestEncoder logs hostile text through every kind of field the daemon
// uses and checks no control byte reaches the output.
func TestEncoder(t *testing.T) {
	var out bytes.Buffer
	cfg := zap.NewDevelopmentEncoderConfig()
	cfg.TimeKey = ""
	core := zapcore.NewCore(Encoder(zapcore.NewConsoleEncoder(cfg)), zapcore.AddSync(&out), zap.DebugLevel)
	log := zap.New(core).Named("daemon").With(zap.String("context", "/p/\x1b]0;title\x07"))
	evil := "src/\x1b[2J\r\u009bx\u202e.js"
	fields := []zap.Field{zap.String("path", evil), zap.ByteString("raw", []byte("b\x1b")),
		zap.Error(errors.New("open \x1b[31m: denied")), zap.Stringer("s", stringer("\x07bell")),
		zap.Int("n", 3), zap.String("plain", "ok")}
	log.Info("api  "+evil+" -> rebuild", fields...)
	log.Info("nil stringer", zap.Stringer("s", (*nilStringer)(nil))) // zap's own panic report, not ours
	got := out.String()
	for _, bad := range []string{"\x1b", "\r", "\u009b", "\u202e", "\x07"} {
		if strings.Contains(got, bad) {
			t.Errorf("output contains %q:\n%s", bad, got)
		}
	}
	for _, want := range []string{`src/\x1b[2J\r\u009bx\u202e.js -> rebuild`, `"n": 3`, `"plain": "ok"`, `open \\x1b[31m: denied`, `/p/\\x1b]0;title\\x07`} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	if strings.Count(got, "\n") != 2 {
		t.Errorf("want two lines, got:\n%s", got)
	}
}

// TestEncoderKeepsCallerFields: the fields slice is the caller's and must
// not be rewritten in place.
func TestEncoderKeepsCallerFields(t *testing.T) {
	enc := Encoder(zapcore.NewConsoleEncoder(zap.NewDevelopmentEncoderConfig()))
	fields := []zapcore.Field{zap.String("path", "a\x1bb")}
	buf, err := enc.EncodeEntry(zapcore.Entry{Message: "m"}, fields)
	if err != nil {
		t.Fatal(err)
	}
	buf.Free()
	if fields[0].String != "a\x1bb" {
		t.Errorf("caller's field changed to %q", fields[0].String)
	}
}

func TestShorten(t *testing.T) {
	long := "/tmp/" + strings.Repeat("a", 200) + "/" + strings.Repeat("é", 3000) + "/compose.yaml"
	msg := "stat " + long + ": file name too long"
	got := Shorten(msg)
	if len(got) > 300 || !strings.HasPrefix(got, "stat /tmp/aaa") || !strings.HasSuffix(got, "é/compose.yaml: file name too long") ||
		!strings.Contains(got, "(6220 bytes)") || !utf8.ValidString(got) {
		t.Errorf("Shorten = %q (%d bytes)", got, len(got))
	}
	for _, s := range []string{"short message", strings.Repeat("x", 512) + " y", "a\n" + strings.Repeat("b ", 400)} {
		if Shorten(s) != s {
			t.Errorf("Shorten changed %.40q...", s)
		}
	}
}
