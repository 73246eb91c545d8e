package ignore

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/rebuildd/rebuildd/config/inputerr"
)

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestLoadPrecedence(t *testing.T) {
	tests := []struct {
		name       string
		files      map[string]string // relative to the temp dir
		context    string
		dockerfile string // relative to the temp dir; "" = inline
		wantFile   string // relative; "" = none
		excluded   string // a path the chosen file excludes
	}{
		{"dockerfile-specific wins", map[string]string{
			"ctx/.dockerignore":                  "from-context\n",
			"ctx/docker/Dockerfile":              "FROM scratch\n",
			"ctx/docker/Dockerfile.dockerignore": "from-dockerfile\n",
		}, "ctx", "ctx/docker/Dockerfile", "ctx/docker/Dockerfile.dockerignore", "from-dockerfile"},
		{"context file when no dockerfile-specific one", map[string]string{
			"ctx/.dockerignore":     "from-context\n",
			"ctx/docker/Dockerfile": "FROM scratch\n",
		}, "ctx", "ctx/docker/Dockerfile", "ctx/.dockerignore", "from-context"},
		{"dockerfile outside the context", map[string]string{
			"ctx/.dockerignore":             "from-context\n",
			"build/Dockerfile.dockerignore": "from-outside\n",
		}, "ctx", "build/Dockerfile", "build/Dockerfile.dockerignore", "from-outside"},
		{"inline dockerfile", map[string]string{
			"ctx/.dockerignore": "from-context\n",
		}, "ctx", "", "ctx/.dockerignore", "from-context"},
		{"no ignore file", map[string]string{"ctx/Dockerfile": "FROM scratch\n"}, "ctx", "ctx/Dockerfile", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for p, c := range tt.files {
				write(t, filepath.Join(dir, p), c)
			}
			df := ""
			if tt.dockerfile != "" {
				df = filepath.Join(dir, tt.dockerfile)
			}
			m, file, err := Load(filepath.Join(dir, tt.context), df)
			if err != nil {
				t.Fatal(err)
			}
			want := ""
			if tt.wantFile != "" {
				want = filepath.Join(dir, tt.wantFile)
			}
			if file != want {
				t.Errorf("file = %q, want %q", file, want)
			}
			if tt.excluded != "" && !m.Excluded(tt.excluded) {
				t.Errorf("Excluded(%q) = false: the wrong file was read", tt.excluded)
			}
			if tt.wantFile == "" && len(m.Patterns()) != 0 {
				t.Errorf("patterns = %q, want none", m.Patterns())
			}
		})
	}
}

func TestLoadRelativeDockerfileIsRelativeToContext(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "ctx/sub/Dockerfile.dockerignore"), "x\n")
	_, file, err := Load(filepath.Join(dir, "ctx"), "sub/Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(dir, "ctx/sub/Dockerfile.dockerignore"); file != want {
		t.Errorf("file = %q, want %q", file, want)
	}
}

func TestLoadBadPatternNamesFileAndLine(t *testing.T) {
	tests := []struct {
		content string
		line    int
	}{
		{"node_modules\n# a comment\n[\n", 3},
		{"\xEF\xBB\xBF# bom and comment\n\n  \n!\n", 4},
		{"a\r\nb\r\n[z-a]\r\n", 3},
	}
	for _, tt := range tests {
		dir := t.TempDir()
		path := filepath.Join(dir, ".dockerignore")
		write(t, path, tt.content)
		_, _, err := Load(dir, "")
		var ie *inputerr.Error
		if !errors.As(err, &ie) {
			t.Fatalf("Load(%q) error = %v, want *inputerr.Error", tt.content, err)
		}
		if ie.File != path || ie.Line != tt.line {
			t.Errorf("Load(%q) error at %s:%d, want %s:%d", tt.content, ie.File, ie.Line, path, tt.line)
		}
		if !strings.HasPrefix(ie.Error(), path+":") {
			t.Errorf("message %q does not start with the file", ie.Error())
		}
	}
}

func TestLoadUnreadableFileIsInputError(t *testing.T) {
	dir := t.TempDir()
	// A directory where the ignore file should be cannot be read on any
	// filesystem, even as root (unlike a chmod 000 file).
	if err := os.Mkdir(filepath.Join(dir, ".dockerignore"), 0o755); err != nil {
		t.Fatal(err)
	}
	_, _, err := Load(dir, "")
	var ie *inputerr.Error
	if !errors.As(err, &ie) || ie.File != filepath.Join(dir, ".dockerignore") {
		t.Fatalf("error = %v, want *inputerr.Error (config.InputError) naming the file", err)
	}
}

func TestCandidates(t *testing.T) {
	got := Candidates("/c", "/c/d/Dockerfile.dev")
	want := []string{"/c/d/Dockerfile.dev.dockerignore", "/c/.dockerignore"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("Candidates = %q, want %q", got, want)
	}
	if got := Candidates("/c", ""); len(got) != 1 || got[0] != "/c/.dockerignore" {
		t.Errorf("Candidates inline = %q", got)
	}
}

// A FIFO in the ignore file's place is bad input at once, not a hang.
func TestReadFileRefusesFIFO(t *testing.T) {
	p := filepath.Join(t.TempDir(), ".dockerignore")
	if err := syscall.Mkfifo(p, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	_, ok, err := readFile(p)
	if ok || err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Fatalf("readFile(fifo) = %v, %v; want a not-a-regular-file error", ok, err)
	}
}
