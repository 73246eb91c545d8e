package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The worked example of issue 2: the article's Dockerfile and .dockerignore
// under services/api, a dev service with src bind-mounted and a prod service.
func TestExplainWorkedExample(t *testing.T) {
	dir, err := filepath.Abs("../../testdata/projects/article")
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	type want struct{ impact, action string }
	table := []struct {
		path     string
		api, prd want
	}{
		{"services/api/package.json", want{"deps", "rebuild"}, want{"deps", "rebuild"}},
		{"services/api/src/server.js", want{"source", "none"}, want{"source", "rebuild"}},
		{"services/api/README.md", want{"ignored", "none"}, want{"ignored", "none"}},
		{"services/api/tests/app.test.js", want{"ignored", "none"}, want{"ignored", "none"}},
		{"services/api/Dockerfile", want{"dockerfile", "rebuild"}, want{"dockerfile", "rebuild"}},
		{"services/api/.dockerignore", want{"dockerignore", "rebuild"}, want{"dockerignore", "rebuild"}},
		{"services/worker/main.go", want{"outside", "none"}, want{"outside", "none"}},
	}
	args := []string{"explain", "--json", "api", "api-prod"}
	for _, row := range table {
		args = append(args, "--path", row.path)
	}
	doc := explainJSON(t, args...)
	if doc.Project == "" || len(doc.Services) != 2 {
		t.Fatalf("want project and 2 services, got %+v", doc)
	}
	api, prod := doc.Services[0], doc.Services[1]
	if api.Service != "api" || api.Target != "dev" || prod.Service != "api-prod" || prod.Target != "prod" {
		t.Fatalf("services/targets: got %s/%s and %s/%s", api.Service, api.Target, prod.Service, prod.Target)
	}
	if got := strings.Join(prod.Stages, ","); got != "build,prod" {
		t.Errorf("api-prod stage chain = %q, want build,prod", got)
	}
	for i, row := range table {
		for _, c := range []struct {
			svc  explainService
			want want
		}{{api, row.api}, {prod, row.prd}} {
			got := c.svc.Paths[i]
			if got.Path != row.path || got.Impact != c.want.impact || got.Action != c.want.action {
				t.Errorf("%s %s: got %s/%s (%s), want %s/%s", c.svc.Service, row.path,
					got.Impact, got.Action, got.Reason, c.want.impact, c.want.action)
			}
			if got.Reason == "" {
				t.Errorf("%s %s: empty reason", c.svc.Service, row.path)
			}
		}
	}
}

func TestExplainTableMentionsEveryPath(t *testing.T) {
	t.Chdir("../../testdata/projects/article")
	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"explain", "api", "--path", "services/api/package.json"}, &out, &errb)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	for _, want := range []string{"api", "target dev", "services/api/package.json", "deps", "rebuild", "RUN npm ci"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, out.String())
		}
	}
}

func TestExplainUnknownServiceIsUsageError(t *testing.T) {
	t.Chdir("../../testdata/projects/article")
	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"explain", "nosuch"}, &out, &errb)
	if code != exitUsage || !strings.Contains(errb.String(), `"nosuch"`) {
		t.Fatalf("exit %d, stderr %q: want exit 2 naming the service", code, errb.String())
	}
}

func explainJSON(t *testing.T, args ...string) explainDoc {
	t.Helper()
	var out, errb bytes.Buffer
	if code := run(context.Background(), args, &out, &errb); code != exitOK {
		t.Fatalf("rebuildd %v: exit %d: %s", args, code, errb.String())
	}
	var doc explainDoc
	if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
		t.Fatalf("explain --json output is not JSON: %v\n%s", err, out.String())
	}
	return doc
}

// The root command takes service names (watch mode and --once); an unknown
// one is bad usage, reported before any engine is needed.
func TestRootUnknownServiceIsUsageError(t *testing.T) {
	t.Chdir("../../testdata/projects/article")
	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"--dry-run", "nosuch"}, &out, &errb)
	if code != exitUsage || !strings.Contains(errb.String(), `"nosuch"`) || strings.Contains(errb.String(), "unknown command") {
		t.Fatalf("exit %d, stderr %q: want exit 2 naming the service", code, errb.String())
	}
}

// An unnamed stage is "stage N" in the table and in JSON, never a bare
// index; JSON keeps the index in target_index. Long instructions are cut
// to one row in the table only.
func TestExplainNamesUnnamedStages(t *testing.T) {
	dir := t.TempDir()
	long := "RUN echo " + strings.Repeat("x", 120)
	files := map[string]string{
		"compose.yaml": "services:\n  app:\n    build: .\n",
		"Dockerfile":   "FROM scratch\nCOPY deps.txt /d\n" + long + "\nCOPY src /src\n",
		"deps.txt":     "a\n",
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Chdir(dir)
	doc := explainJSON(t, "explain", "--json", "app")
	s := doc.Services[0]
	if s.Target != "stage 0" || s.TargetIdx != 0 || strings.Join(s.Stages, ",") != "stage 0" || s.Inputs[0].Stage != "stage 0" {
		t.Errorf("target %q (index %d), stages %q, input stage %q; want \"stage 0\" everywhere", s.Target, s.TargetIdx, s.Stages, s.Inputs[0].Stage)
	}
	if !strings.Contains(s.Inputs[0].DepsRun, long) {
		t.Errorf("JSON deps_run %q lacks the whole instruction", s.Inputs[0].DepsRun)
	}
	code, out, errOut := runArgs(t, "explain", "app")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"target stage 0", "stages stage 0", "stage 0:2", "(line 3)"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, "RUN echo") && len(l) > 160 {
			t.Errorf("row of %d characters:\n%s", len(l), l)
		}
	}
}
