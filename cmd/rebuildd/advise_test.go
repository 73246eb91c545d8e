package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rebuildd/rebuildd/advice"
)

// advise exits 0 on the project that follows the article, 1 when a finding
// is a warning, 0 when all are info, 2 on bad usage; stdout holds findings only.
func TestAdviseExitCodes(t *testing.T) {
	cases := []struct {
		dir      string
		args     []string
		wantCode int
		want     []string // substrings of stdout
		empty    bool     // stdout must be empty
	}{
		{"good", nil, exitOK, nil, true},
		{"install-after-source", nil, exitFailed,
			[]string{"web/Dockerfile:5: warn install-after-source (web)", "fix: copy the dependency manifests first", "COPY package.json package-lock.json ./"}, false},
		{"install-after-source", []string{"ok"}, exitOK, nil, true},
		{"anon-volume-trap", nil, exitOK, []string{"compose.yaml:9: info anon-volume-trap (api)"}, false},
		// RUN --mount: Docker 20.10's built-in frontend parses it, so no
		// "# syntax=" line (which would fetch a frontend from a registry)
		{"syntax-line", []string{"mount"}, exitOK, nil, true},
		{"syntax-line", []string{"mount", "--engine-api", "1.40"}, exitFailed, []string{"warn syntax-line (mount)", "Docker 19.03"}, false},
		{"syntax-line", []string{"heredoc"}, exitFailed, []string{"warn syntax-line (heredoc)", "no engine was asked: Docker 20.10 assumed"}, false},
		{"syntax-line", []string{"heredoc", "--engine-api", "1.42"}, exitOK, nil, true},
		{"good", []string{"nosuch"}, exitUsage, nil, true},
	}
	for _, tc := range cases {
		t.Run(tc.dir+" "+strings.Join(tc.args, " "), func(t *testing.T) {
			t.Chdir(filepath.Join("..", "..", "testdata", "advice", tc.dir))
			noComposeFileEnv(t)
			t.Setenv("DOCKER_API_VERSION", "")
			var out, errb bytes.Buffer
			code := run(context.Background(), append([]string{"advise"}, tc.args...), &out, &errb)
			if code != tc.wantCode {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.wantCode, out.String(), errb.String())
			}
			for _, w := range tc.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("stdout lacks %q:\n%s", w, out.String())
				}
			}
			if tc.empty && out.Len() > 0 {
				t.Errorf("want no findings, got:\n%s", out.String())
			}
		})
	}
}

func TestAdviseJSON(t *testing.T) {
	t.Chdir(filepath.Join("..", "..", "testdata", "advice", "target-drift"))
	noComposeFileEnv(t)
	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"advise", "--json"}, &out, &errb)
	if code != exitFailed {
		t.Fatalf("exit %d, want %d: %s", code, exitFailed, errb.String())
	}
	var doc adviceDoc
	if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out.String())
	}
	got := map[string][]string{}
	for _, s := range doc.Services {
		if s.Advice == nil {
			t.Errorf("%s: advice is null, want an array", s.Service)
		}
		for _, f := range s.Advice {
			got[s.Service] = append(got[s.Service], f.Code)
			if f.File == "" || !filepath.IsAbs(f.File) || f.Message == "" || f.Fix == "" || f.Severity == "" {
				t.Errorf("%s: incomplete finding %+v", s.Service, f)
			}
		}
	}
	want := map[string][]string{"api": {advice.CodeTargetDrift}, "shop-prod": {advice.CodeTargetDrift}}
	for svc, codes := range want {
		if strings.Join(got[svc], ",") != strings.Join(codes, ",") {
			t.Errorf("%s: codes %v, want %v", svc, got[svc], codes)
		}
	}
	for _, svc := range []string{"api-prod", "shop-dev"} {
		if len(got[svc]) != 0 {
			t.Errorf("%s: want no finding, got %v", svc, got[svc])
		}
	}
	for _, key := range []string{`"code"`, `"severity"`, `"file"`, `"line"`, `"message"`, `"fix"`} {
		if !strings.Contains(out.String(), key) {
			t.Errorf("JSON lacks %s", key)
		}
	}
}

// Two services built from one Dockerfile share its findings: printed once,
// naming both.
func TestAdviseGroupsSharedFindings(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"compose.yaml": "name: shared\nservices:\n  a:\n    build: .\n    image: shared/a\n  b:\n    build: .\n    image: shared/b\n",
		"Dockerfile":   "# syntax=docker/dockerfile:1\nFROM node:18\nCOPY package.json ./\nRUN npm ci\n",
		"package.json": "{}\n", ".dockerignore": "node_modules\n",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Chdir(dir)
	noComposeFileEnv(t)
	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"advise"}, &out, &errb)
	if code != exitFailed {
		t.Fatalf("exit %d, want %d: %s", code, exitFailed, errb.String())
	}
	if n := strings.Count(out.String(), "missing-cache-mount"); n != 1 {
		t.Errorf("missing-cache-mount printed %d times, want once:\n%s", n, out.String())
	}
	if !strings.Contains(out.String(), "Dockerfile:4: warn missing-cache-mount (a, b)") {
		t.Errorf("want the finding once for a and b:\n%s", out.String())
	}
	if !strings.Contains(errb.String(), "1 warn, 0 info") {
		t.Errorf("stderr count: %q", errb.String())
	}
}

// noComposeFileEnv unsets COMPOSE_FILE for the test (restored after), so
// compose file discovery runs in the test's directory.
func noComposeFileEnv(t *testing.T) {
	t.Helper()
	t.Setenv("COMPOSE_FILE", "")
	os.Unsetenv("COMPOSE_FILE")
}
