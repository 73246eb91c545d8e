package advice

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rebuildd/rebuildd/config"
	"github.com/rebuildd/rebuildd/dockerfile"
)

func TestBuiltinFrontend(t *testing.T) {
	cases := []struct {
		api     string
		minor   int
		docker  string
		assumed bool
	}{
		{"", 2, "20.10", true},
		{"garbage", 2, "20.10", true},
		{"1.39", 0, "an engine older than Docker 19.03", false},
		{"1.40", 0, "19.03", false},
		{"1.41", 2, "20.10", false}, // this machine's engine: 20.10.24
		{"1.42", 4, "23.0", false},
		{"1.47", 9, "27.2", false},
		{"1.51", 17, "28.3", false},
		{"1.52", 19, "29.0", false},
		{"1.60", 19, "29.0", false}, // newer than the table: its newest row, a lower bound
	}
	for _, tc := range cases {
		f, assumed := builtinFrontend(Engine{APIVersion: tc.api})
		if f.minor != tc.minor || f.docker != tc.docker || assumed != tc.assumed {
			t.Errorf("builtinFrontend(%q) = 1.%d (%s), assumed %v; want 1.%d (%s), assumed %v",
				tc.api, f.minor, f.docker, assumed, tc.minor, tc.docker, tc.assumed)
		}
	}
	if got := firstBuiltin(4); got != "Docker 23.0" {
		t.Errorf("firstBuiltin(4) = %q, want Docker 23.0", got)
	}
	if got := firstBuiltin(27); got != "" {
		t.Errorf("firstBuiltin(27) = %q, want none", got)
	}
}

// The syntax line is recommended only for syntax the engine's built-in
// frontend does not parse, and says what the line costs.
func TestSyntaxLineFollowsTheEngine(t *testing.T) {
	const cache = "FROM node:20\nWORKDIR /app\nCOPY package.json ./\nRUN --mount=type=cache,target=/root/.npm npm ci\nCOPY . .\n"
	const heredoc = "FROM node:20\nRUN <<EOF\necho hi\nEOF\nCOPY . .\n"
	const exclude = "FROM node:20\nCOPY --exclude=*.md . /app\n"
	cases := []struct {
		name, dockerfile, api string
		want                  []string // substrings of the syntax-line finding; nil: no finding
	}{
		{"cache mount, no engine asked", cache, "", nil},
		{"cache mount on 20.10", cache, "1.41", nil},
		{"cache mount on 19.03", cache, "1.40", []string{"RUN --mount (line 4)", "Docker 19.03", "Docker 20.10 and later parse it without the line"}},
		{"heredoc on 20.10", heredoc, "1.41", []string{"a heredoc (line 2)", "Docker 20.10 (Engine API 1.41, Dockerfile 1.2)",
			"# syntax=docker/dockerfile:1", "from a registry", "without registry access the build fails", "Docker 23.0 and later"}},
		{"heredoc, no engine asked", heredoc, "", []string{"(no engine was asked: Docker 20.10 assumed)"}},
		{"heredoc on 23.0", heredoc, "1.42", nil},
		{"COPY --exclude on 28.3", exclude, "1.51", []string{"COPY --exclude (line 2)", "Docker 29.0 and later"}},
		{"COPY --exclude on 29.0", exclude, "1.52", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fs := checkDockerfile(t, tc.dockerfile, Engine{APIVersion: tc.api})
			var got *Finding
			for i, f := range fs {
				if f.Code == CodeSyntaxLine {
					got = &fs[i]
				}
				if f.Code == CodeMissingCacheMount || strings.Contains(f.Fix, "# syntax=") && f.Code != CodeSyntaxLine {
					t.Errorf("%s finding mentions a syntax line: %s", f.Code, f.Fix)
				}
			}
			if tc.want == nil {
				if got != nil {
					t.Errorf("syntax-line fired: %s\n%s", got.Message, got.Fix)
				}
				return
			}
			if got == nil {
				t.Fatalf("no syntax-line finding; findings: %+v", fs)
			}
			text := got.Message + "\n" + got.Fix
			for _, w := range tc.want {
				if !strings.Contains(text, w) {
					t.Errorf("finding lacks %q:\n%s", w, text)
				}
			}
			if got.Severity != Warn {
				t.Errorf("severity %s, want warn: the build fails on that engine", got.Severity)
			}
		})
	}
}

// A cache mount fix adds no syntax line on engines whose built-in
// frontend has RUN --mount, and says why it does on older ones.
func TestCacheFixSyntaxLine(t *testing.T) {
	const npm = "FROM node:20\nWORKDIR /app\nCOPY package.json ./\nRUN npm ci\nCOPY . .\n"
	for _, tc := range []struct {
		api  string
		want bool
	}{{"", false}, {"1.41", false}, {"1.45", false}, {"1.40", true}} {
		var fix string
		for _, f := range checkDockerfile(t, npm, Engine{APIVersion: tc.api}) {
			if f.Code == CodeMissingCacheMount {
				fix = f.Fix
			}
		}
		if fix == "" {
			t.Fatalf("API %q: no missing-cache-mount finding", tc.api)
		}
		if got := strings.Contains(fix, "# syntax="); got != tc.want {
			t.Errorf("API %q: cache fix mentions a syntax line = %v, want %v:\n%s", tc.api, got, tc.want, fix)
		}
	}
}

// checkDockerfile runs the checks on a one-service project built from
// dockerfile.
func checkDockerfile(t *testing.T, df string, eng Engine) []Finding {
	t.Helper()
	dir := t.TempDir()
	for name, body := range map[string]string{
		"compose.yaml": "services:\n  app:\n    build: .\n", "Dockerfile": df,
		"package.json": "{}\n", ".dockerignore": "node_modules\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	proj, err := config.Load(context.Background(), config.Options{WorkDir: dir, ProjectDir: dir,
		Files: []string{filepath.Join(dir, "compose.yaml")}})
	if err != nil {
		t.Fatal(err)
	}
	svc := proj.BuildServices()[0]
	m, err := dockerfile.Load(svc, proj.Settings.Services[svc.Name])
	if err != nil {
		t.Fatal(err)
	}
	return CheckFor(proj, svc, m, eng)
}
