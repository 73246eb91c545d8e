package config

import (
	"context"
	"slices"
	"testing"
)

func TestIsComposeCLI(t *testing.T) {
	for _, tc := range []struct {
		argv []string
		want bool
	}{
		{[]string{"docker", "compose"}, true},
		{[]string{"docker-compose"}, true},
		{[]string{"podman", "compose"}, true},
		{[]string{"podman-compose"}, true},
		{nil, false},
		{[]string{"docker"}, false},
		{[]string{"/usr/bin/docker-compose"}, false}, // a path: the checkout could hold it
		{[]string{"./docker-compose"}, false},
		{[]string{"docker-compose", "--verbose"}, false},
		{[]string{"docker", "--config", "./evil", "compose"}, false}, // runs ./evil/cli-plugins/docker-compose
		{[]string{"docker", "compose", "--project-directory", "/"}, false},
		{[]string{"/bin/sh", "-c", "id > ~/pwned; echo 2.40.0"}, false},
		{[]string{"Docker", "compose"}, false},
	} {
		if got := IsComposeCLI(tc.argv); got != tc.want {
			t.Errorf("IsComposeCLI(%q) = %v, want %v", tc.argv, got, tc.want)
		}
	}
}

// TestComposeCommandFromProjectFile: rebuild.yaml may name a Compose CLI
// only; anything else is bad input at its line, and the message says how
// the user allows it. The user's own command wins and may be anything.
func TestComposeCommandFromProjectFile(t *testing.T) {
	hostile := "debounce: 1s\ncompose_command: [\"/bin/sh\", \"-c\", \"id > ~/pwned; echo 2.40.0\"]\n"
	dir, file := settingsFile(t, hostile)
	_, _, err := loadSettings("", dir, nil, nil)
	ie := inputError(t, err, "compose_command", `"/bin/sh"`, "not a Compose CLI", "put it in a script", "--compose-command")
	if ie.File != file || ie.Line != 2 {
		t.Errorf("error at %s:%d, want %s:2", ie.File, ie.Line, file)
	}

	dir, _ = settingsFile(t, "compose_command: ./bin/compose --verbose\n")
	_, _, err = loadSettings("", dir, nil, nil)
	inputError(t, err, `--compose-command './bin/compose --verbose'`, `REBUILDD_COMPOSE_COMMAND='./bin/compose --verbose'`)

	dir, _ = settingsFile(t, hostile)
	_, s, err := loadSettings("", dir, nil, []string{"./bin/compose", "--verbose"})
	if err != nil || !slices.Equal(s.ComposeCommand, []string{"./bin/compose", "--verbose"}) || !s.UserComposeCommand {
		t.Errorf("user's command: %q (user's: %v), %v; want it to win over rebuild.yaml", s.ComposeCommand, s.UserComposeCommand, err)
	}
}

// TestComposeCommandFromEnvironment: REBUILDD_COMPOSE_COMMAND is the
// user's, --compose-command wins over it, and the project's .env (a project
// file) cannot set it.
func TestComposeCommandFromEnvironment(t *testing.T) {
	cleanEnv(t)
	files := map[string]string{
		"compose.yaml": "services:\n  api:\n    image: x\n",
		"rebuild.yaml": "compose_command: sh -c id\n",
		".env":         "REBUILDD_COMPOSE_COMMAND=docker compose\n",
	}
	dir := tree(t, files)
	t.Setenv(EnvComposeCommand, "")
	_, err := Load(context.Background(), Options{WorkDir: dir})
	inputError(t, err, "rebuild.yaml", "not a Compose CLI") // .env did not allow it

	t.Setenv(EnvComposeCommand, "  my-compose   wrapper ")
	p := load(t, Options{WorkDir: dir})
	if !slices.Equal(p.Settings.ComposeCommand, []string{"my-compose", "wrapper"}) || !p.Settings.UserComposeCommand {
		t.Errorf("with %s: %q", EnvComposeCommand, p.Settings.ComposeCommand)
	}
	p = load(t, Options{WorkDir: dir, ComposeCommand: []string{"docker-compose"}})
	if !slices.Equal(p.Settings.ComposeCommand, []string{"docker-compose"}) || !p.Settings.UserComposeCommand {
		t.Errorf("with --compose-command: %q", p.Settings.ComposeCommand)
	}
}

func TestShellQuote(t *testing.T) {
	if got := shellQuote("it's a b"); got != `'it'\''s a b'` {
		t.Errorf("shellQuote = %s", got)
	}
}
