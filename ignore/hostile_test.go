package ignore

import (
	"errors"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rebuildd/rebuildd/config/inputerr"
)

// hostileIgnoreFiles are FuzzMatcher seeds an attacker or an accident
// gives (issue 17: a binary .dockerignore made patternmatcher print ~400
// lines to stderr): binary data, NUL and bytes that are not UTF-8 in
// patterns, a line past bufio's 64 KiB, thousands of patterns, deep "**"
// and "[" runs. Each must end in a matcher or an input error, within the
// deadline, silently. With -short the long inputs are shorter.
func hostileIgnoreFiles() []string {
	n := 5000
	if testing.Short() {
		n = 500
	}
	r := rand.New(rand.NewSource(17))
	bin := make([]byte, 64<<10)
	r.Read(bin)
	var all []byte
	for i := range 256 {
		all = append(all, byte(i), '\n')
	}
	var many strings.Builder
	for i := range n {
		fmt.Fprintf(&many, "dir%d/**/*.log\n!dir%d/keep\n", i, i)
	}
	return []string{
		string(bin),
		string(all),
		"ok\ncaf\xe9\n",
		"a\x00b\n",
		"\xef\xbb\xbf\xef\xbb\xbfx\n",
		strings.Repeat("x", 1<<20),
		many.String(),
		strings.Repeat("**/", n) + "x\n",
		strings.Repeat("[", n) + "\n",
		strings.Repeat("!", n) + "x\n",
		strings.Repeat("a/", 2*n) + "\n",
		strings.Repeat("\n", 1<<18),
	}
}

// TestHostileIgnoreFilesEveryDialect: every dialect reads the hostile
// files to a matcher or an input error, and matches with it, silently.
func TestHostileIgnoreFilesEveryDialect(t *testing.T) {
	paths := []string{"a", "dir1/x/y.log", "caf\xe9", "a/b/c/d/e", strings.Repeat("a/", 200) + "x"}
	for i, data := range hostileIgnoreFiles() {
		for _, d := range []Dialect{BuildKit, Classic, Classic2010, DockerPy} {
			t.Run(fmt.Sprintf("%d/%s", i, d), func(t *testing.T) {
				guard(t, data, func() {
					m, err := d.Parse([]byte(data), ".dockerignore", "Dockerfile")
					var ie *inputerr.Error
					if err != nil && !errors.As(err, &ie) {
						t.Fatalf("error %v (%T) is not an input error", err, err)
					}
					if err != nil {
						return
					}
					for _, p := range paths {
						m.Excluded(p)
						m.SkipDir(p)
					}
				})
			})
		}
	}
}

// TestLoadNotTextNamesLine: a pattern with a NUL or a byte that is not
// UTF-8 is an input error at its line, in every dialect, and nothing is
// written to stderr on the way.
func TestLoadNotTextNamesLine(t *testing.T) {
	tests := []struct {
		content string
		line    int
	}{
		{"a\nb\x00c\n", 2},
		{"# latin-1\n\ncaf\xe9\n", 3},
		{"\x7fELF\x02\x01\x01\x00\x00\n", 1},
	}
	for _, tt := range tests {
		for _, d := range []Dialect{BuildKit, Classic, Classic2010, DockerPy} {
			dir := t.TempDir()
			path := filepath.Join(dir, ".dockerignore")
			write(t, path, tt.content)
			var err error
			guard(t, tt.content, func() { _, _, err = d.Load(dir, "Dockerfile") })
			var ie *inputerr.Error
			if !errors.As(err, &ie) || !errors.Is(err, ErrNotText) {
				t.Fatalf("%s: Load(%q) error = %v, want an input error wrapping ErrNotText", d, tt.content, err)
			}
			if ie.File != path || ie.Line != tt.line || !strings.Contains(ie.Msg, "must be text") {
				t.Errorf("%s: Load(%q) = %s:%d %q, want %s:%d saying it must be text", d, tt.content, ie.File, ie.Line, ie.Msg, path, tt.line)
			}
		}
	}
}

// TestLoadSizeLimit: an ignore file past MaxFileSize is an input error
// naming it and the limit, an endless one (a device) one naming it; one
// at the limit loads.
func TestLoadSizeLimit(t *testing.T) {
	dir := t.TempDir()
	at := filepath.Join(dir, "at")
	comments := strings.Repeat("#"+strings.Repeat("x", 1022)+"\n", MaxFileSize/1024) // lines under bufio's 64 KiB
	write(t, filepath.Join(at, ".dockerignore"), comments)
	over := filepath.Join(dir, "over")
	write(t, filepath.Join(over, ".dockerignore"), comments+"\n")
	endless := filepath.Join(dir, "endless")
	if err := os.MkdirAll(endless, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/dev/zero", filepath.Join(endless, ".dockerignore")); err != nil {
		t.Fatal(err)
	}
	for _, d := range []Dialect{BuildKit, Classic, DockerPy} {
		if _, file, err := d.Load(at, ""); err != nil || file == "" {
			t.Errorf("%s: a file of exactly %d bytes: %v", d, MaxFileSize, err)
		}
		for ctx, want := range map[string]string{over: "larger than 256 KiB", endless: "not a regular file"} {
			_, _, err := d.Load(ctx, "")
			var ie *inputerr.Error
			if !errors.As(err, &ie) || ie.File != filepath.Join(ctx, ".dockerignore") || !strings.Contains(ie.Msg, want) {
				t.Errorf("%s: Load(%s) error = %v, want an input error naming the file and %q", d, filepath.Base(ctx), err, want)
			}
		}
	}
}
