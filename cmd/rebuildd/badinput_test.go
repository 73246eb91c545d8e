package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Every kind of bad input gets one clear message naming the file (and the
// line when there is one) and exit code 2, never a panic or a stack trace.
func TestBadInput(t *testing.T) {
	okDockerfile := "FROM scratch\nCOPY . /app\n"
	cases := []struct {
		name     string
		files    map[string]string
		args     []string
		wantCode int
		want     []string // substrings of stderr
	}{
		{"no compose file", map[string]string{"x.txt": ""}, nil, exitUsage,
			[]string{"compose"}},
		{"malformed compose", map[string]string{"compose.yaml": "services:\n  api: [\n"}, nil, exitUsage,
			[]string{"compose.yaml"}},
		{"unknown service", map[string]string{"compose.yaml": "services:\n  api:\n    build: .\n", "Dockerfile": okDockerfile},
			[]string{"nosuch"}, exitUsage, []string{`"nosuch"`}},
		{"missing context dir", map[string]string{"compose.yaml": "services:\n  api:\n    build: ./nope\n"}, nil, exitUsage,
			[]string{"nope"}},
		{"missing Dockerfile", map[string]string{"compose.yaml": "services:\n  api:\n    build: ./app\n", "app/x": ""}, nil, exitUsage,
			[]string{"Dockerfile"}},
		{"Dockerfile syntax error", map[string]string{"compose.yaml": "services:\n  api:\n    build: .\n",
			"Dockerfile": "FROM scratch\nCOPY\n"}, nil, exitUsage, []string{"Dockerfile:2"}},
		{"unknown target", map[string]string{"compose.yaml": "services:\n  api:\n    build: {context: ., target: nope}\n",
			"Dockerfile": "FROM scratch AS dev\nCOPY . /app\n"}, nil, exitUsage, []string{"Dockerfile", `"nope"`, "dev"}},
		{"malformed ignore pattern", map[string]string{"compose.yaml": "services:\n  api:\n    build: .\n",
			"Dockerfile": okDockerfile, ".dockerignore": "node_modules\n[\n"}, nil, exitUsage, []string{".dockerignore"}},
		{"malformed rebuild.yaml", map[string]string{"compose.yaml": "services:\n  api:\n    build: .\n",
			"Dockerfile": okDockerfile, "rebuild.yaml": "debounce: [\n"}, nil, exitUsage, []string{"rebuild.yaml"}},
		{"unknown rebuild.yaml key", map[string]string{"compose.yaml": "services:\n  api:\n    build: .\n",
			"Dockerfile": okDockerfile, "rebuild.yaml": "debounce: 100ms\nbogus: 1\n"}, nil, exitUsage, []string{"rebuild.yaml:2", "bogus"}},
		{"no build service", map[string]string{"compose.yaml": "services:\n  db:\n    image: postgres\n"}, nil, exitOK,
			[]string{"no service with a build: section"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeTree(t, dir, tc.files)
			t.Chdir(dir)
			t.Setenv("COMPOSE_FILE", "") // restored after the test...
			os.Unsetenv("COMPOSE_FILE")  // ...and unset during it, as on a clean shell
			var out, errb bytes.Buffer
			code := run(context.Background(), append([]string{"explain"}, tc.args...), &out, &errb)
			msg := errb.String()
			if code != tc.wantCode {
				t.Fatalf("exit %d, want %d; stderr: %s", code, tc.wantCode, msg)
			}
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("stderr %q lacks %q", msg, w)
				}
			}
			if strings.Contains(msg, "goroutine ") || strings.Count(strings.TrimSpace(msg), "\n") > 2 {
				t.Errorf("want one short message, got:\n%s", msg)
			}
		})
	}
}

func writeTree(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
