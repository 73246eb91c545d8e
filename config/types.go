// Package config loads a Compose project exactly as `docker compose` would
// (through compose-go) plus rebuildd's own rebuild.yaml, and models every
// service the rest of the pipeline needs to reason about.
//
// It is the first stage of the pipeline: it imports no other rebuildd
// package.
package config

import "time"

// Options are the project options a user passes to docker compose. They are
// passed through unchanged to the Compose CLI later, so they mirror its flags.
type Options struct {
	Files       []string // -f/--file, repeatable; empty means COMPOSE_FILE or discovery
	ProjectName string   // -p/--project-name
	ProjectDir  string   // --project-directory
	Profiles    []string // --profile, repeatable
	EnvFiles    []string // --env-file, repeatable
	ConfigFile  string   // -c/--config: rebuild.yaml; empty means <project dir>/rebuild.yaml if present
	WorkDir     string   // directory relative paths resolve against; empty means os.Getwd
	// ComposeCommand is the Compose CLI the user named (--compose-command);
	// empty means REBUILDD_COMPOSE_COMMAND, else rebuild.yaml, else
	// detection. Unlike rebuild.yaml's, it may be any command.
	ComposeCommand []string
}

// Project is a loaded Compose project plus rebuildd settings.
type Project struct {
	Name         string
	Dir          string    // absolute project directory
	ComposeFiles []string  // absolute: the compose files loaded (-f order), then files they include: or extend from
	EnvFiles     []string  // absolute paths of .env / --env-file / env_file files that exist
	SettingsFile string    // absolute path of rebuild.yaml used, "" when none
	Settings     Settings  // rebuild.yaml with defaults applied
	Services     []Service // every enabled service, sorted by name (with and without build:)
}

// Service is one compose service as rebuildd sees it.
type Service struct {
	Name           string
	Image          string // the image: tag, "" when none was given
	Build          *Build // nil when the service has no build: section
	BindMounts     []BindMount
	AnonVolumes    []string // container paths of anonymous volumes
	HasHealthcheck bool
	// Hash of the build section and of the runtime section, so live reload can
	// tell "rebuild" from "recreate" changes.
	BuildHash   string
	RuntimeHash string
	// Watch holds the service's develop.watch rules (compose watch's own),
	// which take precedence over inference for the paths they name.
	Watch []WatchRule
	// Run is what compose overrides of the image's process (command,
	// entrypoint, environment, working_dir); explain reads it.
	Run Run
}

// Build is the build: section of a service, resolved to absolute paths.
type Build struct {
	Context          string            // absolute context directory
	Dockerfile       string            // absolute Dockerfile path; "" when DockerfileInline is used
	DockerfileInline string            // dockerfile_inline content
	Target           string            // "" means the last stage
	Args             map[string]string // compose args, interpolated; a nil value (arg without =) is omitted
}

// BindMount is a compose volume of type bind.
type BindMount struct {
	Source   string // absolute host path
	Target   string // container path
	ReadOnly bool
}

// Settings is rebuild.yaml with defaults applied.
type Settings struct {
	Debounce       time.Duration // quiet window; default 200ms
	MaxWait        time.Duration // debounce cap; default 2s
	Poll           PollMode      // off | auto | interval
	PollInterval   time.Duration // used when Poll is PollOn or auto picks polling; default 1s
	LogFormat      string        // "" (auto), console, json
	Parallel       int           // concurrent builds; default 1
	OnBusy         string        // queue (default) | cancel
	ComposeCommand []string      // e.g. ["docker","compose"]; empty means detect
	// UserComposeCommand: ComposeCommand is the user's (--compose-command
	// or REBUILDD_COMPOSE_COMMAND), not rebuild.yaml's. A mode that
	// changes nothing runs only the user's (command.go).
	UserComposeCommand bool
	Builder            string // "" or auto (follow the Compose CLI) | buildkit | classic | classic-20.10 | docker-py | buildkit-20.10
	Services           map[string]ServiceSettings
}

// PollMode says when the watcher polls instead of using inotify.
type PollMode string

const (
	PollOff  PollMode = "off"
	PollAuto PollMode = "auto"
	PollOn   PollMode = "on" // rebuild.yaml gave an interval such as "1s"
)

// ServiceSettings are the per-service keys of rebuild.yaml.
type ServiceSettings struct {
	OnSource string   // auto (default) | sync | sync+restart | restart | rebuild | none
	Ignore   []string // extra .dockerignore-syntax patterns for triggering
	Exclude  bool     // never watch or rebuild this service
}

// BuildServices returns the services that have a build: section and are not
// excluded by rebuild.yaml, in name order.
func (p *Project) BuildServices() []Service {
	var out []Service
	for _, s := range p.Services {
		if s.Build != nil && !p.Settings.Services[s.Name].Exclude {
			out = append(out, s)
		}
	}
	return out
}
