package main

import (
	"github.com/spf13/cobra"

	"github.com/rebuildd/rebuildd/config"
)

// globalFlags are the project options every subcommand shares. They mirror
// docker compose's own flags because they are passed through to it unchanged.
type globalFlags struct {
	project   config.Options
	logFormat string
	stateDir  string
	poll      bool
	quiet     bool // deprecated: build output is quiet unless --verbose
	verbose   bool
	listen    string // --listen: status endpoint address (status.go)
	compose   string // --compose-command, split into project.ComposeCommand
}

// modeFlags select what the root command does.
type modeFlags struct {
	once      bool
	check     bool
	dryRun    bool
	images    bool
	json      bool
	noInitial bool
}

func newRootCmd() *cobra.Command {
	g := &globalFlags{}
	m := &modeFlags{}
	cmd := &cobra.Command{
		Use:   "rebuildd [SERVICE...]",
		Short: "Keep a Docker Compose dev stack in step with its source",
		// One line: --help must fit one screen (version_test.go).
		Long: "rebuildd reads the Dockerfile and .dockerignore to run the smallest action per change: nothing, restart, or build + recreate.",
		Example: `  rebuildd                        watch and rebuild as files change
  rebuildd --once                 build what is stale, recreate, exit
  rebuildd --check                exit 3 when anything is stale, 4 when unknown (CI)`,
		Args:          cobra.ArbitraryArgs, // service names; unknown ones are reported with the list
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			switch {
			case m.once || m.check:
				return runOnce(cmd, g, m, args)
			default:
				return runWatch(cmd, g, m, args)
			}
		},
	}
	// Before any subcommand loads the project: the user's Compose CLI wins
	// over rebuild.yaml's (config/command.go).
	cmd.PersistentPreRun = func(*cobra.Command, []string) {
		g.project.ComposeCommand = config.SplitCommand(g.compose)
	}
	cmd.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return &exitError{code: exitUsage, err: err}
	})
	pf := cmd.PersistentFlags()
	pf.StringArrayVarP(&g.project.Files, "file", "f", nil, "compose file (repeatable; default: COMPOSE_FILE or compose.yaml discovery)")
	pf.StringVarP(&g.project.ProjectName, "project-name", "p", "", "compose project name")
	pf.StringVar(&g.project.ProjectDir, "project-directory", "", "compose project directory")
	pf.StringArrayVar(&g.project.Profiles, "profile", nil, "compose profile to enable (repeatable)")
	pf.StringArrayVar(&g.project.EnvFiles, "env-file", nil, "compose env file (repeatable)")
	pf.StringVarP(&g.project.ConfigFile, "config", "c", "", "rebuild.yaml (default: <project dir>/rebuild.yaml)")
	pf.StringVar(&g.logFormat, "log-format", "", "log format: console (for people, the default) or json (for machines)")
	pf.StringVar(&g.stateDir, "state-dir", "", "where build fingerprints are kept (default: user cache dir)")
	pf.StringVar(&g.listen, "listen", "", "serve /healthz and /status on this address (a port alone means 127.0.0.1)")
	pf.StringVar(&g.compose, "compose-command", "", "the Compose CLI to run, any command you allow (or "+config.EnvComposeCommand+")")

	f := cmd.Flags()
	f.BoolVar(&m.once, "once", false, "build what is stale, recreate what runs an old image, then exit")
	f.BoolVar(&m.check, "check", false, "like --once --dry-run, but exit 3 when anything is stale")
	f.BoolVar(&m.dryRun, "dry-run", false, "decide as usual but run nothing")
	f.BoolVar(&m.images, "images", false, "with --once/--check: the images, not only the containers, must be current")
	f.BoolVar(&m.json, "json", false, "with --once/--check: print the result as JSON")
	f.BoolVar(&m.noInitial, "no-initial", false, "watch mode: skip the start-up reconcile")
	f.BoolVar(&g.poll, "poll", false, "watch by polling instead of inotify")
	f.BoolVarP(&g.verbose, "verbose", "v", false, "stream build output (without it, only a failed build's last lines are shown)")
	f.BoolVarP(&g.quiet, "quiet", "q", false, "do not stream build output")
	_ = f.MarkDeprecated("quiet", "build output is shown only with --verbose or when a build fails")

	cmd.AddCommand(newExplainCmd(g))
	cmd.AddCommand(newAdviseCmd(g))
	cmd.AddCommand(newVersionCmd(), newStatusCmd(g))
	// -h/--help works as ever, unlisted: the help's last line names it,
	// and the help must fit one screen (version_test.go).
	f.BoolP("help", "h", false, "help for rebuildd")
	f.MarkHidden("help")
	return cmd
}
