package config

import (
	"fmt"
	"os"
	"slices"
	"strings"
)

// EnvComposeCommand names the Compose CLI the user allows rebuildd to run,
// like --compose-command. It is read from rebuildd's own environment only:
// the project's .env is a project file, and compose-go keeps it out of the
// process environment.
const EnvComposeCommand = "REBUILDD_COMPOSE_COMMAND"

// composeCLIs are the commands a project file may name as compose_command.
// rebuild.yaml comes with the checkout, and a checkout must not run
// programs on the host (docs/design.md, "Rules"): these are the Compose
// CLIs by their bare names, which the PATH of the user's own shell
// resolves (Go's exec.LookPath refuses a match in the current directory).
// A path is refused even when it ends in docker-compose (./docker-compose
// is the checkout's own program), and so is any extra argument: `docker
// --config DIR compose` runs DIR/cli-plugins/docker-compose.
var composeCLIs = [][]string{{"docker", "compose"}, {"docker-compose"}, {"podman", "compose"}, {"podman-compose"}}

// IsComposeCLI reports whether argv is exactly one of the Compose CLIs a
// project file may name.
func IsComposeCLI(argv []string) bool {
	for _, c := range composeCLIs {
		if slices.Equal(argv, c) {
			return true
		}
	}
	return false
}

// SplitCommand splits a command written as one string (rebuild.yaml's
// string form, --compose-command, REBUILDD_COMPOSE_COMMAND) at white space.
// There is no shell: quotes are not interpreted, so use rebuild.yaml's list
// form for an argument with a space.
func SplitCommand(s string) []string {
	return strings.Fields(s)
}

// userCommand is the Compose CLI the user named: Options.ComposeCommand
// (--compose-command), else REBUILDD_COMPOSE_COMMAND, else nil.
func userCommand(o Options) []string {
	if len(o.ComposeCommand) > 0 {
		return o.ComposeCommand
	}
	return SplitCommand(os.Getenv(EnvComposeCommand))
}

// notComposeCLI words the refusal of a compose_command from rebuild.yaml
// that is not a Compose CLI, with the way to allow it.
func notComposeCLI(argv []string) string {
	msg := fmt.Sprintf("%q is not a Compose CLI; rebuildd runs a command named in a project file (it came "+
		"with the checkout) only when it is docker compose, docker-compose, podman compose or podman-compose", argv)
	line := strings.Join(argv, " ")
	if !slices.Equal(SplitCommand(line), argv) {
		// An argument with white space does not survive the one-string
		// forms: it needs a script of its own.
		return msg + "; to run it, put it in a script and pass --compose-command /path/to/script"
	}
	return fmt.Sprintf("%s; to run it, allow it yourself: --compose-command %s or %s=%s", msg, shellQuote(line), EnvComposeCommand, shellQuote(line))
}

// shellQuote quotes s for a POSIX shell, so the suggested flag can be
// pasted as printed.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
