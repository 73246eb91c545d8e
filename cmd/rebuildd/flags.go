package main

import (
	"errors"
	"slices"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/rebuildd/rebuildd/config"
)

// Each command carries only the flags it uses, so `version --help` and
// `completion --help` show no --listen or --state-dir: the project flags go
// on the commands that load a project (the root, explain, advise), the
// daemon's on the root, and status has a --listen of its own, described
// from the client's side.

// addProjectFlags adds the flags that mirror docker compose's own (they are
// passed through to it unchanged), -c and --compose-command.
func addProjectFlags(cmd *cobra.Command, g *globalFlags) {
	p := &g.project
	f := cmd.Flags()
	f.StringArrayVarP(&p.Files, "file", "f", nil, "compose file (repeatable; default: COMPOSE_FILE or compose.yaml discovery)")
	f.StringVarP(&p.ProjectName, "project-name", "p", "", "compose project name")
	f.StringVar(&p.ProjectDir, "project-directory", "", "compose project directory")
	f.StringArrayVar(&p.Profiles, "profile", nil, "compose profile to enable (repeatable)")
	f.StringArrayVar(&p.EnvFiles, "env-file", nil, "compose env file (repeatable)")
	f.StringVarP(&p.ConfigFile, "config", "c", "", "rebuild.yaml (default: <project dir>/rebuild.yaml)")
	f.StringVar(&g.compose, "compose-command", "", "the Compose CLI to run, any command you allow (or "+config.EnvComposeCommand+")")
	_ = cmd.RegisterFlagCompletionFunc("project-directory", dirCompletion)
	_ = cmd.RegisterFlagCompletionFunc("file", yamlCompletion)
	_ = cmd.RegisterFlagCompletionFunc("config", yamlCompletion)
}

func dirCompletion(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return nil, cobra.ShellCompDirectiveFilterDirs
}

func yamlCompletion(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return []string{"yaml", "yml"}, cobra.ShellCompDirectiveFilterFileExt
}

// modeConflicts are the flag pairs that contradict each other or do nothing
// together, with what to do instead. Checked before anything runs: a flag
// silently ignored is a script that does not do what its author thinks.
var modeConflicts = []struct {
	a, b string
	msg  string
}{
	{"once", "check", "--once builds and recreates, --check changes nothing and exits 3 when something is stale: give one of them"},
	{"check", "dry-run", "--check never runs anything: drop --dry-run"},
	{"once", "no-initial", "--no-initial skips watch mode's start-up reconcile, which is all --once does: drop it"},
	{"check", "no-initial", "--no-initial skips watch mode's start-up reconcile, which is all --check does: drop it"},
	{"once", "poll", "--poll is how watch mode watches; --once does not watch: drop it"},
	{"check", "poll", "--poll is how watch mode watches; --check does not watch: drop it"},
	{"once", "listen", "--listen serves watch mode's status; --once exits when done: drop it"},
	{"check", "listen", "--listen serves watch mode's status; --check exits when done: drop it"},
	{"quiet", "verbose", "--quiet and --verbose contradict each other: build output shows only with --verbose"},
}

// checkModeFlags returns bad usage (exit 2) when the root command's flags
// do not belong together.
func checkModeFlags(f *pflag.FlagSet) error {
	for _, c := range modeConflicts {
		if f.Changed(c.a) && f.Changed(c.b) {
			return &exitError{code: exitUsage, err: errors.New(c.msg)}
		}
	}
	if f.Changed("json") && !f.Changed("once") && !f.Changed("check") {
		return &exitError{code: exitUsage, err: errors.New("--json prints the result of --once or --check " +
			"(and of explain and advise); watch mode logs JSON lines with --log-format json")}
	}
	if f.Changed("images") && !f.Changed("once") && !f.Changed("check") {
		return &exitError{code: exitUsage, err: errors.New("--images says what --once and --check must find current; " +
			"watch mode keeps images current anyway: drop it, or add --once or --check")}
	}
	return nil
}

// completeServices offers the project's build services not yet on the
// command line: the names the root command, explain and advise take. It
// loads the project with the flags given so far (-f, -p, ...), so it
// completes what the command would then act on; a project that does not
// load completes nothing rather than printing an error into the shell.
func completeServices(g *globalFlags) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
		proj, err := config.Load(cmd.Context(), g.project)
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		var names []string
		for _, s := range proj.BuildServices() {
			if !slices.Contains(args, s.Name) {
				names = append(names, s.Name)
			}
		}
		return names, cobra.ShellCompDirectiveNoFileComp
	}
}
