package docker

import (
	"testing"

	"github.com/rebuildd/rebuildd/ignore"
)

// fakeDocker is the docker CLI as the decision sees it.
type fakeDocker struct {
	ver    int // 0: unknown
	plugin bool
}

func (f fakeDocker) major() (int, bool) { return f.ver, f.ver > 0 }
func (f fakeDocker) buildx() bool       { return f.plugin }

func TestComposeBuilder(t *testing.T) {
	tests := []struct {
		name   string
		v1     bool
		env    []string
		docker fakeDocker
		want   ignore.Dialect
	}{
		{"v2", false, nil, fakeDocker{}, ignore.BuildKit},
		{"v2, DOCKER_BUILDKIT=1", false, []string{"DOCKER_BUILDKIT=1"}, fakeDocker{}, ignore.BuildKit},
		{"v2, DOCKER_BUILDKIT=0", false, []string{"DOCKER_BUILDKIT=0"}, fakeDocker{}, ignore.Classic},
		{"v2, DOCKER_BUILDKIT=false, set twice", false, []string{"DOCKER_BUILDKIT=1", "DOCKER_BUILDKIT=false"}, fakeDocker{}, ignore.Classic},
		{"v2, DOCKER_BUILDKIT empty", false, []string{"DOCKER_BUILDKIT="}, fakeDocker{}, ignore.BuildKit},
		// rebuildd's own environment for v1 (composeEnv).
		{"v1 as rebuildd runs it", true, []string{"COMPOSE_DOCKER_CLI_BUILD=0"}, fakeDocker{20, false}, ignore.DockerPy},
		{"v1, COMPOSE_DOCKER_CLI_BUILD=False", true, []string{"COMPOSE_DOCKER_CLI_BUILD=False"}, fakeDocker{}, ignore.DockerPy},
		// The user asked for the docker CLI.
		{"v1 CLI build, Docker 20.10", true, []string{"COMPOSE_DOCKER_CLI_BUILD=1"}, fakeDocker{20, false}, ignore.Classic2010},
		{"v1 CLI build, Docker 20.10, DOCKER_BUILDKIT=0", true, []string{"COMPOSE_DOCKER_CLI_BUILD=1", "DOCKER_BUILDKIT=0"}, fakeDocker{20, true}, ignore.Classic2010},
		// Issue 13: a CLI before 23 walks the context with its own older
		// BuildKit client; a newer one, or one whose version is unknown, as
		// BuildKit does.
		{"v1 CLI build, Docker 20.10, DOCKER_BUILDKIT=1", true, []string{"COMPOSE_DOCKER_CLI_BUILD=1", "DOCKER_BUILDKIT=1"}, fakeDocker{20, false}, ignore.BuildKit2010},
		{"v1 CLI build, Docker 20.10, DOCKER_BUILDKIT=true, buildx", true, []string{"COMPOSE_DOCKER_CLI_BUILD=1", "DOCKER_BUILDKIT=true"}, fakeDocker{20, true}, ignore.BuildKit2010},
		{"v1 CLI build, Docker 23, DOCKER_BUILDKIT=1", true, []string{"COMPOSE_DOCKER_CLI_BUILD=1", "DOCKER_BUILDKIT=1"}, fakeDocker{23, false}, ignore.BuildKit},
		{"v1 CLI build, unknown CLI, DOCKER_BUILDKIT=1", true, []string{"COMPOSE_DOCKER_CLI_BUILD=1", "DOCKER_BUILDKIT=1"}, fakeDocker{}, ignore.BuildKit},
		{"v1 as rebuildd runs it, DOCKER_BUILDKIT=1", true, []string{"COMPOSE_DOCKER_CLI_BUILD=0", "DOCKER_BUILDKIT=1"}, fakeDocker{20, false}, ignore.DockerPy},
		{"v1 CLI build, Docker 27 with buildx", true, []string{"COMPOSE_DOCKER_CLI_BUILD=yes"}, fakeDocker{27, true}, ignore.BuildKit},
		{"v1 CLI build, Docker 27 without buildx", true, []string{"COMPOSE_DOCKER_CLI_BUILD=1"}, fakeDocker{27, false}, ignore.Classic},
		{"v1 CLI build, Docker 27, DOCKER_BUILDKIT=0", true, []string{"COMPOSE_DOCKER_CLI_BUILD=1", "DOCKER_BUILDKIT=0"}, fakeDocker{27, true}, ignore.Classic},
		// Compose v1's get_boolean: empty is its default, the CLI.
		{"v1, COMPOSE_DOCKER_CLI_BUILD empty", true, []string{"COMPOSE_DOCKER_CLI_BUILD="}, fakeDocker{27, false}, ignore.Classic},
	}
	for _, tt := range tests {
		got := composeBuilder(tt.v1, tt.env, tt.docker)
		if got.Dialect != tt.want || got.Reason == "" {
			t.Errorf("%s: %v (%q), want %v", tt.name, got.Dialect, got.Reason, tt.want)
		}
	}
}

func TestChooseBuilder(t *testing.T) {
	if b := ChooseBuilder("", nil); b != DefaultBuilder {
		t.Errorf("no CLI: %+v", b)
	}
	v1 := &ComposeCLI{Command: []string{"docker-compose"}, V1: true, Env: composeEnv(nil, true)}
	if b := ChooseBuilder("auto", v1); b.Dialect != ignore.DockerPy {
		t.Errorf("v1 with rebuildd's env: %+v", b)
	}
	if b := ChooseBuilder("classic-20.10", v1); b.Dialect != ignore.Classic2010 || b.Reason != "rebuild.yaml builder: classic-20.10" {
		t.Errorf("setting: %+v", b)
	}
	if b := ChooseBuilder("buildkit-20.10", v1); b.Dialect != ignore.BuildKit2010 || b.Reason != "rebuild.yaml builder: buildkit-20.10" {
		t.Errorf("setting: %+v", b)
	}
	v2 := &ComposeCLI{Command: []string{"docker", "compose"}, Env: composeEnv(nil, false)}
	if b := ChooseBuilder("", v2); b.Dialect != ignore.BuildKit {
		t.Errorf("v2: %+v", b)
	}
}
