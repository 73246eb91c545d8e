package inputerr

import "testing"

// TestErrorEscapes: a file name or message quoting the input never carries
// its control bytes to the terminal, and the message stays one line.
func TestErrorEscapes(t *testing.T) {
	for _, tc := range []struct {
		e    Error
		want string
	}{
		{Error{File: "/p/compose.yaml", Line: 3, Msg: "services.api: bad"}, "/p/compose.yaml:3: services.api: bad"},
		{Error{File: "/p/\x1b[2Jx/Dockerfile", Msg: "unknown instruction \"\x1b[31mRUNN\"\nforged line"},
			`/p/\x1b[2Jx/Dockerfile: unknown instruction "\x1b[31mRUNN"\nforged line`},
		{Error{Msg: "--flag \r\u009b"}, `--flag \r\u009b`},
	} {
		if got := tc.e.Error(); got != tc.want {
			t.Errorf("Error() = %q, want %q", got, tc.want)
		}
	}
}

// TestErrorLines: a message of several lines (a fix to paste) keeps its
// line breaks; its other control bytes, and the file name's line breaks,
// are still escaped.
func TestErrorLines(t *testing.T) {
	e := Error{File: "/p/a\nb", Msg: "wrong mount.\nAdd:\n\tvolumes:\n      - /x:/x\x1b[2J\n", Lines: true}
	want := "/p/a\\nb: wrong mount.\nAdd:\n\tvolumes:\n      - /x:/x\\x1b[2J\n"
	if got := e.Error(); got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}
