package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/rebuildd/rebuildd/advice"
	"github.com/rebuildd/rebuildd/internal/escape"
)

// adviceDoc is `rebuildd advise --json`: per service, the same "advice"
// array that `explain --json` carries.
type adviceDoc struct {
	Project  string          `json:"project"`
	Services []adviceService `json:"services"`
}

type adviceService struct {
	Service string           `json:"service"`
	Advice  []advice.Finding `json:"advice"`
}

// engineAPIFlag adds --engine-api to explain and advise, which run without
// Docker: the Engine API version of the engine that builds decides which
// Dockerfile syntax needs a "# syntax=" line (advice.Engine).
func engineAPIFlag(cmd *cobra.Command, v *string) {
	// pflag takes a back-quoted word of the usage as the value's name in
	// --help: `VERSION`, and no back quotes anywhere else.
	cmd.Flags().StringVar(v, "engine-api", "", "Engine API `VERSION` of the engine that builds, as docker version --format '{{.Server.APIVersion}}' prints it "+
		"(default: $DOCKER_API_VERSION, else Docker 20.10's 1.41 is assumed and the advice says so)")
}

// adviceEngine is the engine advice is for: the flag, else DOCKER_API_VERSION
// (the version the docker CLI is pinned to, never newer than the engine's),
// else none (advice.Check assumes Docker 20.10 and says so).
func adviceEngine(flag string) advice.Engine {
	if flag == "" {
		flag = os.Getenv("DOCKER_API_VERSION")
	}
	return advice.Engine{APIVersion: flag}
}

func newAdviseCmd(g *globalFlags) *cobra.Command {
	var asJSON bool
	var engineAPI string
	cmd := &cobra.Command{
		Use:   "advise [SERVICE...]",
		Short: "Show the build pitfalls the project has, without Docker (exit 1 on any warning)",
		Long: `advise reads the compose file, every Dockerfile and .dockerignore the way
rebuildd does and prints the well-known pitfalls it finds: installs that re-run
on every source edit, heavy build contexts, secrets in build args, untagged
builds, the node_modules volume trap, missing cache mounts, a missing
"# syntax=" line, and dev/prod targets that drift. Each finding names the file
and line, why it costs you, and the fix.

Exit status: 0 when no finding is a warning, 1 when one is (for CI), 2 when
the project cannot be read.`,
		Example: `  rebuildd advise
  rebuildd advise api --json`,
		RunE: func(cmd *cobra.Command, args []string) error {
			doc, err := buildAdvice(cmd, g, args, adviceEngine(engineAPI))
			if err != nil || doc == nil {
				return err
			}
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				if err := enc.Encode(doc); err != nil {
					return err
				}
			} else {
				printAdvice(cmd.OutOrStdout(), cmd.ErrOrStderr(), doc)
			}
			for _, s := range doc.Services {
				if advice.HasWarn(s.Advice) {
					return &exitError{code: exitFailed} // the findings say why
				}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON instead of text")
	engineAPIFlag(cmd, &engineAPI)
	addProjectFlags(cmd, g)
	cmd.ValidArgsFunction = completeServices(g)
	return cmd
}

// buildAdvice loads the project and checks every selected service. It
// returns nil, nil when the project has nothing to build.
func buildAdvice(cmd *cobra.Command, g *globalFlags, names []string, eng advice.Engine) (*adviceDoc, error) {
	proj, models, err := loadModels(cmd, g, names, "advise on")
	if err != nil || len(models) == 0 {
		return nil, err
	}
	doc := &adviceDoc{Project: proj.Name, Services: []adviceService{}}
	for _, sm := range models {
		fs := advice.CheckFor(proj, sm.svc, sm.model, eng)
		if fs == nil {
			fs = []advice.Finding{}
		}
		doc.Services = append(doc.Services, adviceService{Service: sm.svc.Name, Advice: fs})
	}
	return doc, nil
}

// printAdvice prints each finding once, naming every service it applies
// to (two services built from one Dockerfile share its findings), then a
// one-line count on stderr so stdout holds only findings.
func printAdvice(out, errw io.Writer, doc *adviceDoc) {
	type group struct {
		f        advice.Finding
		services []string
	}
	var order []string
	groups := map[string]*group{}
	for _, s := range doc.Services {
		for _, f := range s.Advice {
			key := fmt.Sprintf("%s\x00%s\x00%d\x00%s\x00%s", f.Code, f.File, f.Line, f.Message, f.Fix)
			if groups[key] == nil {
				groups[key] = &group{f: f}
				order = append(order, key)
			}
			groups[key].services = append(groups[key].services, s.Service)
		}
	}
	cwd, _ := os.Getwd()
	counts := map[advice.Severity]int{}
	for _, k := range order {
		g := groups[k]
		fmt.Fprint(out, escape.Text(advice.Format(g.f, cwd, g.services...))) // findings quote Dockerfile text
		counts[g.f.Severity]++
	}
	var names []string
	for _, s := range doc.Services {
		names = append(names, s.Service)
	}
	fmt.Fprintf(errw, "rebuildd advise: %d warn, %d info (%s)\n", counts[advice.Warn], counts[advice.Info], strings.Join(names, ", "))
}
