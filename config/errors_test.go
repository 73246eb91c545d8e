package config

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// TestLoadBadInput: every mistake is one *InputError line naming the file
// (and line when the parser knows it), never a panic.
func TestLoadBadInput(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		opts  Options
		want  []string // substrings of the message; "DIR" is replaced by the temp dir
		file  string   // the InputError's File, relative; "" = not checked
		line  int
	}{
		{name: "no compose file", files: map[string]string{"README": ""},
			want: []string{"no compose file found in DIR", "pass -f"}},
		{name: "missing -f file", files: map[string]string{"compose.yaml": "services: {}\n"},
			opts: Options{Files: []string{"nope.yaml"}}, want: []string{"nope.yaml"}},
		{name: "malformed yaml", files: map[string]string{"compose.yaml": "services:\n  api:\n    image: [\n"},
			want: []string{"compose.yaml"}, file: "compose.yaml", line: 3},
		{name: "unknown compose key", files: map[string]string{"compose.yaml": "services:\n  api:\n    imag: x\n"},
			want: []string{"compose.yaml", `unknown key "imag"`}, file: "compose.yaml", line: 3},
		{name: "invalid service name", files: map[string]string{"compose.yaml": "services:\n  api:\n    image: x\n  \"my api!\":\n    image: x\n"},
			want: []string{"compose.yaml", `invalid service name "my api!"`, "letters, digits"}, file: "compose.yaml", line: 4},
		{name: "invalid volume name", files: map[string]string{"compose.yaml": "services:\n  api:\n    image: x\nvolumes:\n  \"a/b\": {}\n"},
			want: []string{`invalid volume name "a/b"`}, file: "compose.yaml", line: 5},
		{name: "unknown build key in an override", files: map[string]string{
			"compose.yaml":          "services:\n  api:\n    image: x\n",
			"compose.override.yaml": "services:\n  api:\n    build:\n      context: .\n      tagret: dev\n"},
			want: []string{`unknown key "tagret"`}, file: "compose.override.yaml", line: 5},
		{name: "missing context", files: map[string]string{"compose.yaml": "services:\n  api:\n    build: ./nope\n"},
			want: []string{`"api"`, "DIR/nope", "build.context"}, file: "nope"},
		{name: "context is a file", files: map[string]string{"compose.yaml": "services:\n  api:\n    build: ./f\n", "f": ""},
			want: []string{`"api"`, "DIR/f", "not a directory"}, file: "f"},
		{name: "missing Dockerfile", files: map[string]string{"compose.yaml": "services:\n  api:\n    build: {context: ., dockerfile: Dockerfile.dev}\n"},
			want: []string{`"api"`, "DIR/Dockerfile.dev", "build.dockerfile"}, file: "Dockerfile.dev"},
		{name: "undefined required variable", files: map[string]string{"compose.yaml": "services:\n  api:\n    image: ${TAG:?set TAG}\n"},
			want: []string{"set TAG"}},
		{name: "missing --env-file", files: map[string]string{"compose.yaml": "services: {api: {image: x}}\n"},
			opts: Options{EnvFiles: []string{"nope.env"}}, want: []string{"nope.env"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cleanEnv(t)
			dir := tree(t, tt.files)
			tt.opts.WorkDir = dir
			_, err := Load(context.Background(), tt.opts)
			var want []string
			for _, w := range tt.want {
				want = append(want, replaceDir(w, dir))
			}
			ie := inputError(t, err, want...)
			if tt.file != "" && ie.File != filepath.Join(dir, tt.file) {
				t.Errorf("File = %q, want %q", ie.File, filepath.Join(dir, tt.file))
			}
			if tt.line != 0 && ie.Line != tt.line {
				t.Errorf("Line = %d, want %d", ie.Line, tt.line)
			}
		})
	}
}

func replaceDir(s, dir string) string { return strings.ReplaceAll(s, "DIR", dir) }

func TestLoadInlineDockerfileNeedsNoFile(t *testing.T) {
	cleanEnv(t)
	dir := tree(t, map[string]string{"compose.yaml": "services:\n  api:\n    build: {context: ., dockerfile_inline: \"FROM alpine\"}\n"})
	if _, err := Load(context.Background(), Options{WorkDir: dir}); err != nil {
		t.Fatalf("Load: %v", err)
	}
}
