package dockerfile

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/rebuildd/rebuildd/config"
)

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM alpine\nCOPY . .\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, ".dockerignore"), []byte("ok\n[\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad")
	if err := os.MkdirAll(bad, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bad, "Dockerfile"), []byte("FROM alpine\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// /dev/zero as a Dockerfile: read up to the limit, never to the end.
	zero := filepath.Join(dir, "zero")
	if err := os.MkdirAll(zero, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/dev/zero", filepath.Join(zero, "Dockerfile")); err != nil {
		t.Fatal(err)
	}
	build := func(b config.Build) *config.Build { return &b }
	tests := []struct {
		name string
		svc  config.Service
		set  config.ServiceSettings
		file string
		line int
		msg  string
	}{
		{"no build", config.Service{Name: "db"}, config.ServiceSettings{}, "", 0, "no build: section"},
		{"context missing", config.Service{Name: "a", Build: build(config.Build{Context: filepath.Join(dir, "nope")})},
			config.ServiceSettings{}, filepath.Join(dir, "nope"), 0, "fix build.context"},
		{"Dockerfile missing", config.Service{Name: "a", Build: build(config.Build{Context: dir, Dockerfile: filepath.Join(dir, "Dockerfile.dev")})},
			config.ServiceSettings{}, filepath.Join(dir, "Dockerfile.dev"), 0, "fix build.dockerfile"},
		{"bad on_source", config.Service{Name: "a", Build: build(config.Build{Context: bad})},
			config.ServiceSettings{OnSource: "sometimes"}, "", 0, "on_source"},
		{"bad trigger pattern", config.Service{Name: "a", Build: build(config.Build{Context: bad})},
			config.ServiceSettings{Ignore: []string{"["}}, "", 0, "services.a.ignore"},
		{"bad ignore file", config.Service{Name: "a", Build: build(config.Build{Context: dir})},
			config.ServiceSettings{}, filepath.Join(dir, ".dockerignore"), 2, ""},
		{"endless Dockerfile", config.Service{Name: "a", Build: build(config.Build{Context: zero})},
			config.ServiceSettings{}, filepath.Join(zero, "Dockerfile"), 0, "is not a regular file but a device; point build.dockerfile at a Dockerfile"},
		{"inline syntax error", config.Service{Name: "a", Build: build(config.Build{Context: bad, DockerfileInline: "FROM alpine\nNOPE x\n"})},
			config.ServiceSettings{}, `dockerfile_inline of service "a"`, 2, "unknown instruction"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(tt.svc, tt.set)
			var ie *config.InputError
			if !errors.As(err, &ie) {
				t.Fatalf("error %v (%T), want *config.InputError", err, err)
			}
			if ie.File != tt.file || ie.Line != tt.line || !strings.Contains(ie.Msg, tt.msg) {
				t.Errorf("got %q line %d %q; want %q line %d containing %q", ie.File, ie.Line, ie.Msg, tt.file, tt.line, tt.msg)
			}
		})
	}
}

func TestLoadDefaultDockerfileAndInline(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM alpine\nCOPY . .\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	m, err := Load(config.Service{Name: "a", Build: &config.Build{Context: dir}}, config.ServiceSettings{})
	if err != nil {
		t.Fatal(err)
	}
	if m.Dockerfile() != filepath.Join(dir, "Dockerfile") || m.Classify(filepath.Join(dir, "Dockerfile")).Impact != ImpactDockerfile {
		t.Errorf("default Dockerfile: %q", m.Dockerfile())
	}
	m, err = Load(config.Service{Name: "a", Build: &config.Build{Context: dir, DockerfileInline: "FROM alpine\nCOPY x /x\n"}}, config.ServiceSettings{})
	if err != nil {
		t.Fatal(err)
	}
	if m.Dockerfile() != "" || m.Classify(filepath.Join(dir, "Dockerfile")).Impact != ImpactUnused {
		t.Errorf("inline: Dockerfile %q, a file named Dockerfile is %s", m.Dockerfile(), m.Classify(filepath.Join(dir, "Dockerfile")).Impact)
	}
	if r := m.Classify(filepath.Join(dir, "x")); r.Reason != "read by COPY at dockerfile_inline:2, source layer, not bind-mounted" {
		t.Errorf("inline reason %q", r.Reason)
	}
}

// A FIFO in the Dockerfile's place is refused at once, not a hang.
func TestReadFileRefusesFIFO(t *testing.T) {
	p := filepath.Join(t.TempDir(), "Dockerfile")
	if err := syscall.Mkfifo(p, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	if _, err := ReadFile(p); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Fatalf("ReadFile(fifo) = %v, want a not-a-regular-file error", err)
	}
}
