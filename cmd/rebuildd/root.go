package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/rebuildd/rebuildd/config"
)

// globalFlags are the options of the root command and of the subcommands
// that load a project (flags.go says which command carries which).
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
		Args:              cobra.ArbitraryArgs, // service names; unknown ones are reported with the list
		ValidArgsFunction: completeServices(g),
		SilenceUsage:      true,
		SilenceErrors:     true,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkModeFlags(cmd.Flags()); err != nil {
				return err
			}
			if g.quiet {
				fmt.Fprintln(cmd.ErrOrStderr(), "rebuildd: --quiet is deprecated: build output is shown only with --verbose or when a build fails")
			}
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
	// No persistent flags: each subcommand shows only its own (flags.go).
	addProjectFlags(cmd, g)
	f := cmd.Flags()
	f.StringVar(&g.logFormat, "log-format", "", "log format: console (for people, the default) or json (for machines)")
	f.StringVar(&g.stateDir, "state-dir", "", "where build fingerprints are kept (default: user cache dir)")
	f.StringVar(&g.listen, "listen", "", "serve /healthz and /status on this address (a port alone means 127.0.0.1)")
	_ = cmd.RegisterFlagCompletionFunc("log-format", cobra.FixedCompletions([]string{"console", "json"}, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("state-dir", dirCompletion)

	f.BoolVar(&m.once, "once", false, "build what is stale, recreate what runs an old image, then exit")
	f.BoolVar(&m.check, "check", false, "like --once --dry-run, but exit 3 when anything is stale")
	f.BoolVar(&m.dryRun, "dry-run", false, "decide as usual but run nothing")
	f.BoolVar(&m.images, "images", false, "with --once/--check: the images, not only the containers, must be current")
	f.BoolVar(&m.json, "json", false, "with --once/--check: print the result as JSON")
	f.BoolVar(&m.noInitial, "no-initial", false, "watch mode: skip the start-up reconcile")
	f.BoolVar(&g.poll, "poll", false, "watch by polling instead of inotify")
	f.BoolVarP(&g.verbose, "verbose", "v", false, "stream build output (without it, only a failed build's last lines are shown)")
	f.BoolVarP(&g.quiet, "quiet", "q", false, "do not stream build output")
	// Deprecated, and said so on stderr (RunE): pflag's own deprecation
	// notice goes to the command's output, stdout here, where it would
	// corrupt --once --json.
	_ = f.MarkHidden("quiet")

	cmd.AddCommand(newExplainCmd(g))
	cmd.AddCommand(newAdviseCmd(g))
	cmd.AddCommand(newVersionCmd(), newStatusCmd())
	// -h/--help works as ever, unlisted: the help's last line names it,
	// and the help must fit one screen (version_test.go).
	f.BoolP("help", "h", false, "help for rebuildd")
	f.MarkHidden("help")
	return cmd
}
