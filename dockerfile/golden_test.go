package dockerfile

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/rebuildd/rebuildd/config"
)

var update = flag.Bool("update", false, "rewrite testdata/dockerfile/*/golden.json from the current output")

// goldenCase is testdata/dockerfile/<case>/case.yaml: one or more services
// built from the case directory, and the paths to classify for each.
type goldenCase struct {
	About    string          `yaml:"about"`
	Services []goldenService `yaml:"services"`
	Paths    []string        `yaml:"paths"` // relative to the case directory
}

type goldenService struct {
	Name       string            `yaml:"name"`
	Context    string            `yaml:"context"`    // relative to the case directory; default "."
	Dockerfile string            `yaml:"dockerfile"` // relative to the case directory; default <context>/Dockerfile
	Inline     string            `yaml:"dockerfile_inline"`
	Target     string            `yaml:"target"`
	Args       map[string]string `yaml:"args"`
	Binds      []string          `yaml:"binds"` // "host:container", host relative to the case directory
	OnSource   string            `yaml:"on_source"`
}

type goldenOut struct {
	Service    string       `json:"service"`
	Error      string       `json:"error,omitempty"`
	Dockerfile string       `json:"dockerfile,omitempty"`
	IgnoreFile string       `json:"ignore_file,omitempty"`
	Target     string       `json:"target,omitempty"`
	Stages     []Stage      `json:"stages,omitempty"`
	Inputs     []*Input     `json:"inputs,omitempty"`
	Paths      []goldenPath `json:"paths,omitempty"`
}

type goldenPath struct {
	Path   string `json:"path"`
	Impact Impact `json:"impact"`
	Action Action `json:"action"`
	Input  int    `json:"input_line,omitempty"`
	Reason string `json:"reason"`
}

func TestGolden(t *testing.T) {
	dirs, err := filepath.Glob("../testdata/dockerfile/*/case.yaml")
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no golden cases found (%v)", err)
	}
	for _, c := range dirs {
		dir := filepath.Dir(c)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			got := runGolden(t, dir)
			file := filepath.Join(dir, "golden.json")
			if *update {
				if err := os.WriteFile(file, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(file)
			if err != nil {
				t.Fatalf("%v (run go test ./dockerfile -run TestGolden -update)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from the current output:\n%s\n(after checking the change, run go test ./dockerfile -run TestGolden -update)", file, got)
			}
		})
	}
}

func runGolden(t *testing.T, dir string) []byte {
	t.Helper()
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(abs, "case.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var gc goldenCase
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	if err := dec.Decode(&gc); err != nil {
		t.Fatalf("case.yaml: %v", err)
	}
	var outs []goldenOut
	for _, gs := range gc.Services {
		outs = append(outs, goldenService1(t, abs, gs, gc.Paths))
	}
	b, err := json.MarshalIndent(outs, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(b, '\n')
}

func goldenService1(t *testing.T, root string, gs goldenService, paths []string) goldenOut {
	svc := gs.service(root)
	out := goldenOut{Service: gs.Name}
	m, err := Load(svc, config.ServiceSettings{OnSource: gs.OnSource})
	if err != nil {
		out.Error = strings.ReplaceAll(err.Error(), root+"/", "")
		return out
	}
	rel := func(p string) string {
		if p == "" {
			return ""
		}
		r, _ := filepath.Rel(root, p)
		return filepath.ToSlash(r)
	}
	out.Dockerfile, out.IgnoreFile = rel(m.Dockerfile()), rel(m.IgnoreFile())
	if m.Dockerfile() == "" {
		out.Dockerfile = "inline"
	}
	an := m.Analysis()
	out.Target, out.Stages, out.Inputs = an.Target, an.Stages, an.Inputs
	for _, p := range paths {
		r := m.Classify(filepath.Join(root, p))
		gp := goldenPath{Path: p, Impact: r.Impact, Action: r.Action, Reason: r.Reason}
		if r.Input != nil {
			gp.Input = r.Input.Line
		}
		out.Paths = append(out.Paths, gp)
	}
	return out
}

// service builds the config.Service that config would load for gs.
func (gs goldenService) service(root string) config.Service {
	ctx := filepath.Join(root, gs.Context)
	b := &config.Build{Context: ctx, Target: gs.Target, Args: gs.Args, DockerfileInline: gs.Inline}
	if gs.Inline == "" {
		b.Dockerfile = filepath.Join(ctx, "Dockerfile")
		if gs.Dockerfile != "" {
			b.Dockerfile = filepath.Join(root, gs.Dockerfile)
		}
	}
	svc := config.Service{Name: gs.Name, Build: b}
	for _, bm := range gs.Binds {
		host, target, _ := strings.Cut(bm, ":")
		svc.BindMounts = append(svc.BindMounts, config.BindMount{Source: filepath.Join(root, host), Target: target})
	}
	return svc
}
