package config

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// tree writes files (path -> content, "/" separated, relative to a new temp
// dir) and returns the dir. Content "DIR" makes an empty directory.
func tree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	// macOS-style symlinked temp dirs would make paths compare unequal.
	dir, err := filepath.EvalSymlinks(dir)
	if err != nil {
		t.Fatal(err)
	}
	for p, c := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if c == "DIR" {
			if err := os.MkdirAll(full, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// cleanEnv unsets the variables compose reads, so the developer's shell
// cannot change what a test loads.
func cleanEnv(t *testing.T) {
	t.Helper()
	for _, k := range []string{"COMPOSE_FILE", "COMPOSE_PROJECT_NAME", "COMPOSE_PROFILES",
		"COMPOSE_PATH_SEPARATOR", "COMPOSE_DISABLE_ENV_FILE", "COMPOSE_ENV_FILES", "TAG", "PORT"} {
		t.Setenv(k, "") // registers the restore
		os.Unsetenv(k)
	}
}

func load(t *testing.T, o Options) *Project {
	t.Helper()
	p, err := Load(context.Background(), o)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return p
}

func service(t *testing.T, p *Project, name string) Service {
	t.Helper()
	for _, s := range p.Services {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("no service %q in %v", name, names(p))
	return Service{}
}

func names(p *Project) []string {
	var out []string
	for _, s := range p.Services {
		out = append(out, s.Name)
	}
	return out
}

// inputError asserts err is an *InputError whose message names every want.
func inputError(t *testing.T, err error, want ...string) *InputError {
	t.Helper()
	var ie *InputError
	if !errors.As(err, &ie) {
		t.Fatalf("error = %v (%T), want *InputError", err, err)
	}
	for _, w := range want {
		if !strings.Contains(ie.Error(), w) {
			t.Errorf("error %q does not mention %q", ie.Error(), w)
		}
	}
	if strings.Contains(ie.Error(), "\n") {
		t.Errorf("error %q is not one line", ie.Error())
	}
	return ie
}
