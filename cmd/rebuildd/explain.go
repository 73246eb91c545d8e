package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/rebuildd/rebuildd/advice"
	"github.com/rebuildd/rebuildd/config"
	"github.com/rebuildd/rebuildd/dockerfile"
	"github.com/rebuildd/rebuildd/internal/escape"
	"github.com/rebuildd/rebuildd/internal/humanlog"
	"github.com/rebuildd/rebuildd/rebuild"
)

// explainDoc is the JSON contract of `rebuildd explain --json` (issue 2).
type explainDoc struct {
	Project string `json:"project"`
	// Builder is the ignore-file dialect assumed (ignore.Dialect's name:
	// buildkit, classic, classic-20.10, docker-py, buildkit-20.10) and
	// BuilderReason why.
	Builder       string           `json:"builder"`
	BuilderReason string           `json:"builder_reason"`
	Services      []explainService `json:"services"`
}

type explainService struct {
	Service    string           `json:"service"`
	Context    string           `json:"context"`
	Dockerfile string           `json:"dockerfile"` // "inline" for dockerfile_inline
	IgnoreFile string           `json:"ignore_file"`
	Target     string           `json:"target"`       // the stage's name, or "stage N" when unnamed
	TargetIdx  int              `json:"target_index"` // its 0-based position in the Dockerfile
	Stages     []string         `json:"stages"`
	Inputs     []explainInput   `json:"inputs"`
	Paths      []explainPath    `json:"paths"`
	Advice     []advice.Finding `json:"advice"`
}

type explainInput struct {
	Stage       string   `json:"stage"`
	Line        int      `json:"line"`
	Instruction string   `json:"instruction"`
	Layer       string   `json:"layer"`
	Sources     []string `json:"sources"`
	DepsRun     string   `json:"deps_run,omitempty"`
	depsRun     string   // DepsRun cut to fit a table row
}

type explainPath struct {
	Path   string `json:"path"`
	Impact string `json:"impact"`
	Action string `json:"action"` // none, restart, sync or rebuild
	Reason string `json:"reason"`
	// ContainerPath lists, for action sync, every place in the containers
	// the path is copied to (README, "explain"); absent otherwise.
	ContainerPath []string `json:"container_path,omitempty"`
}

func newExplainCmd(g *globalFlags) *cobra.Command {
	var paths []string
	var asJSON bool
	var engineAPI string
	cmd := &cobra.Command{
		Use:   "explain [SERVICE...]",
		Short: "Show what a change to each path would mean, without Docker",
		Example: `  rebuildd explain
  rebuildd explain api --path services/api/package.json --path services/api/src/server.js
  rebuildd explain --json --path README.md`,
		RunE: func(cmd *cobra.Command, args []string) error {
			doc, err := buildExplain(cmd, g, args, paths, adviceEngine(engineAPI))
			if err != nil {
				return err
			}
			if doc == nil {
				return nil
			}
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(doc)
			}
			return printExplain(cmd.OutOrStdout(), doc)
		},
	}
	cmd.Flags().StringArrayVar(&paths, "path", nil, "a path to classify (repeatable; relative to the current directory)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON instead of a table")
	engineAPIFlag(cmd, &engineAPI)
	addProjectFlags(cmd, g)
	cmd.ValidArgsFunction = completeServices(g)
	return cmd
}

// buildExplain loads the project and classifies every path for every
// selected service. It returns nil, nil when the project has nothing to build.
func buildExplain(cmd *cobra.Command, g *globalFlags, names, paths []string, eng advice.Engine) (*explainDoc, error) {
	proj, models, err := loadModels(cmd, g, names, "explain")
	if err != nil || len(models) == 0 {
		return nil, err
	}
	cwd, err := os.Getwd()
	if err != nil {
		return nil, err
	}
	b := models[0].builder
	doc := &explainDoc{Project: proj.Name, Builder: b.Dialect.String(), BuilderReason: b.Reason, Services: []explainService{}}
	for _, sm := range models {
		es := explainOne(sm.svc, sm.model, cwd, paths)
		es.Advice = append([]advice.Finding{}, advice.CheckFor(proj, sm.svc, sm.model, eng)...)
		doc.Services = append(doc.Services, es)
	}
	return doc, nil
}

// selectServices returns the build services named, or all of them. An
// unknown name is bad usage.
func selectServices(proj *config.Project, names []string) ([]config.Service, error) {
	all := proj.BuildServices()
	if len(names) == 0 {
		return all, nil
	}
	byName := map[string]config.Service{}
	for _, s := range all {
		byName[s.Name] = s
	}
	var out []config.Service
	for _, n := range names {
		s, ok := byName[n]
		if !ok {
			return nil, &exitError{code: exitUsage, err: fmt.Errorf("no service %q with a build: section in project %q; services that build: %s",
				n, proj.Name, serviceNames(all))}
		}
		out = append(out, s)
	}
	return out, nil
}

func serviceNames(svcs []config.Service) string {
	if len(svcs) == 0 {
		return "(none)"
	}
	names := make([]string, len(svcs))
	for i, s := range svcs {
		names[i] = s.Name
	}
	return strings.Join(names, ", ")
}

func explainOne(svc config.Service, m *dockerfile.Model, cwd string, paths []string) explainService {
	a := m.Analysis()
	es := explainService{
		Service:    svc.Name,
		Context:    m.Context(),
		Dockerfile: m.Dockerfile(),
		IgnoreFile: m.IgnoreFile(),
		Target:     dockerfile.StageLabel(a.Target),
		Stages:     []string{},
		Inputs:     []explainInput{},
		Paths:      []explainPath{},
	}
	if es.Dockerfile == "" {
		es.Dockerfile = "inline"
	}
	for _, st := range a.Stages {
		es.Stages = append(es.Stages, st.Label())
		es.TargetIdx = st.Index // the target is the last stage of its chain
	}
	for _, in := range a.Inputs {
		ei := explainInput{Stage: dockerfile.StageLabel(in.Stage), Line: in.Line, Instruction: in.Text, Layer: string(in.Layer), Sources: in.Sources}
		if in.DepsRun != nil {
			ei.DepsRun = fmt.Sprintf("%s (line %d)", in.DepsRun.Text, in.DepsRun.Line)
			ei.depsRun = fmt.Sprintf("%s (line %d)", humanlog.Cut(in.DepsRun.Text, 60), in.DepsRun.Line)
		}
		es.Inputs = append(es.Inputs, ei)
	}
	for _, p := range paths {
		abs := p
		if !filepath.IsAbs(abs) {
			abs = filepath.Join(cwd, p)
		}
		r := rebuild.ExplainPath(svc, m, filepath.Clean(abs))
		es.Paths = append(es.Paths, explainPath{Path: p, Impact: string(r.Impact), Action: r.Action, Reason: r.Reason, ContainerPath: r.ContainerPaths})
	}
	return es
}

// printExplain writes the human table: per service the chain, the inputs
// with their layer, and one line per path.
func printExplain(w io.Writer, doc *explainDoc) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	// Every cell that comes from the project (paths, names, Dockerfile
	// text) is escaped and cut: a tab or newline in a file name would break
	// the table, a control byte would reach the terminal.
	c := func(s string) string { return escape.Shorten(escape.Line(s)) }
	fmt.Fprintf(tw, "builder\t%s (%s)\n\n", doc.Builder, c(doc.BuilderReason))
	for i, s := range doc.Services {
		if i > 0 {
			fmt.Fprintln(tw)
		}
		fmt.Fprintf(tw, "%s\ttarget %s\tstages %s\n", c(s.Service), c(s.Target), c(strings.Join(s.Stages, " -> ")))
		fmt.Fprintf(tw, "  context\t%s\n", c(s.Context))
		fmt.Fprintf(tw, "  dockerfile\t%s\n", c(s.Dockerfile))
		ig := c(s.IgnoreFile)
		if ig == "" {
			ig = "(none: the whole context is sent)"
		}
		fmt.Fprintf(tw, "  ignore file\t%s\n", ig)
		if len(s.Inputs) == 0 {
			fmt.Fprintf(tw, "  inputs\t(none: no instruction reads the context)\n")
		}
		for _, in := range s.Inputs {
			// One row per input: long instructions are cut here, whole in --json.
			why := ""
			if in.DepsRun != "" {
				why = "before " + in.depsRun
			}
			fmt.Fprintf(tw, "  %s:%d\t%s\t%s\t%s\n", c(in.Stage), in.Line, c(humanlog.Cut(in.Instruction, 60)), in.Layer, c(why))
		}
		for _, p := range s.Paths {
			why := p.Reason
			if len(p.ContainerPath) > 0 {
				why = "-> " + strings.Join(p.ContainerPath, ", ") + " (" + why + ")"
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", c(p.Path), p.Impact, p.Action, c(why))
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	cwd, _ := os.Getwd()
	for i, s := range doc.Services {
		if len(s.Advice) > 0 && i == 0 {
			fmt.Fprintln(w)
		}
		for _, f := range s.Advice {
			text := escape.Text(advice.Format(f, cwd, s.Service))
			if !strings.HasSuffix(text, "\n") {
				text += "\n"
			}
			fmt.Fprint(w, text)
		}
	}
	return nil
}
