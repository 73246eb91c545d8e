package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// builderProject writes a project whose context reads differently for
// BuildKit and for Compose v1's builder: BuildKit uses
// Dockerfile.dockerignore (which excludes a), docker-py only .dockerignore
// (which excludes b). rebuildYAML is the project's rebuild.yaml ("" none).
func builderProject(t *testing.T, rebuildYAML string) string {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"compose.yaml":                "services:\n  app:\n    build: ./app\n",
		"app/Dockerfile":              "FROM scratch\nCOPY . /app\n",
		"app/Dockerfile.dockerignore": "a\n",
		"app/.dockerignore":           "b\n",
		"app/a":                       "", "app/b": "",
	}
	if rebuildYAML != "" {
		files["rebuild.yaml"] = rebuildYAML
	}
	for p, c := range files {
		abs := filepath.Join(dir, p)
		if err := os.MkdirAll(filepath.Dir(abs), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(abs, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestExplainFollowsTheBuilder: explain says which builder it assumed and
// classifies with its ignore semantics.
func TestExplainFollowsTheBuilder(t *testing.T) {
	for _, tt := range []struct {
		yaml, builder, a, b string
	}{
		{"builder: docker-py\n", "docker-py", "source", "ignored"},
		{"builder: buildkit\n", "buildkit", "ignored", "source"},
		{"builder: classic-20.10\n", "classic-20.10", "source", "ignored"},
	} {
		t.Chdir(builderProject(t, tt.yaml))
		doc := explainJSON(t, "explain", "--json", "--path", "app/a", "--path", "app/b")
		if doc.Builder != tt.builder || !strings.Contains(doc.BuilderReason, "rebuild.yaml") {
			t.Errorf("%q: builder %q (%q), want %s", tt.yaml, doc.Builder, doc.BuilderReason, tt.builder)
		}
		if len(doc.Services) != 1 || len(doc.Services[0].Paths) != 2 {
			t.Fatalf("%q: %+v", tt.yaml, doc)
		}
		s := doc.Services[0]
		if s.Paths[0].Impact != tt.a || s.Paths[1].Impact != tt.b {
			t.Errorf("%s: a is %s, b is %s; want %s, %s", tt.builder, s.Paths[0].Impact, s.Paths[1].Impact, tt.a, tt.b)
		}
	}
}

// TestExplainTableNamesTheBuilder: the human table's first line.
func TestExplainTableNamesTheBuilder(t *testing.T) {
	t.Chdir(builderProject(t, "builder: docker-py\n"))
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"explain"}, &out, &errb); code != exitOK {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if first, _, _ := strings.Cut(out.String(), "\n"); !strings.HasPrefix(first, "builder") || !strings.Contains(first, "docker-py") {
		t.Errorf("first line %q, want the builder", first)
	}
}

// TestExplainDetectsComposeV1: with Compose v1 as the compose command and
// no builder key, the builder is v1's own (docker-py), as rebuildd runs it.
func TestExplainDetectsComposeV1(t *testing.T) {
	if _, err := exec.LookPath("docker-compose"); err != nil {
		t.Skip("no docker-compose here")
	}
	t.Setenv("COMPOSE_DOCKER_CLI_BUILD", "")
	os.Unsetenv("COMPOSE_DOCKER_CLI_BUILD")
	t.Chdir(builderProject(t, "compose_command: docker-compose\n"))
	doc := explainJSON(t, "explain", "--json")
	if doc.Builder != "docker-py" && !strings.Contains(doc.BuilderReason, "Compose v2") {
		t.Errorf("builder %q (%q), want docker-py for Compose v1", doc.Builder, doc.BuilderReason)
	}
}
