package advice

import (
	"strings"
	"testing"
)

// Which managers a RUN installs with (install-after-source) and which
// caches it fills (missing-cache-mount), for every manager advice knows.
func TestManagerDetection(t *testing.T) {
	cases := []struct {
		shell   string
		install string // manager names, space-separated
		cached  string
	}{
		{"npm ci", "npm", "npm"},
		{"npm install --omit=dev", "npm", "npm"},
		{"npm run build", "", ""},
		{"pnpm install --frozen-lockfile", "pnpm", "pnpm"},
		{"yarn install --frozen-lockfile", "yarn", "yarn"},
		{"yarn --frozen-lockfile", "yarn", "yarn"},
		{"yarn", "yarn", "yarn"},
		{"yarn build", "", ""},
		{"pip install -r requirements.txt", "pip", "pip"},
		{"python -m pip install --no-cache-dir .", "pip", "pip"},
		{"poetry install --no-root", "poetry", "poetry"},
		{"uv sync --frozen", "uv", "uv"},
		{"uv pip install -r requirements.txt", "uv", "uv"},
		{"pipenv install --deploy --system", "pipenv", "pipenv"},
		{"go mod download", "go", "go"},
		{"CGO_ENABLED=0 go build -o /out/app ./cmd/app", "", "go"},
		{"cargo fetch", "cargo", "cargo"},
		{"cargo build --release", "", "cargo"},
		{"mvn -B dependency:go-offline", "maven", "maven"},
		{"mvn -B package -DskipTests", "", "maven"},
		{"./gradlew dependencies", "gradle", "gradle"},
		{"gradle build", "", "gradle"},
		{"composer install --no-dev", "composer", "composer"},
		{"bundle install", "bundler", ""},
		{"dotnet restore", "dotnet", ""},
		{"apt-get update && apt-get install -y curl", "apt", "apt"},
		{"apt-get -y install curl && npm install -g pnpm", "apt npm", "apt npm"},
		{"echo npmci; ls /npm", "", ""},
	}
	for _, tc := range cases {
		if got := names(installsIn(tc.shell)); got != tc.install {
			t.Errorf("installsIn(%q) = %q, want %q", tc.shell, got, tc.install)
		}
		if got := names(cachedIn(tc.shell)); got != tc.cached {
			t.Errorf("cachedIn(%q) = %q, want %q", tc.shell, got, tc.cached)
		}
	}
}

func names(ms []*manager) string {
	var out []string
	for _, m := range ms {
		out = append(out, m.name)
	}
	return strings.Join(out, " ")
}

// Every manager with a cache mount names a target, and the mount line is
// what BuildKit parses (the fix is pasted as is).
func TestMountLinesParse(t *testing.T) {
	for _, m := range managers {
		if len(m.mounts) == 0 {
			continue
		}
		if len(m.mountTargets()) != len(m.mounts) {
			t.Errorf("%s: a mount without target: %v", m.name, m.mounts)
		}
		src := "FROM scratch\nRUN " + strings.Join(m.mounts, " ") + " true\n"
		doc, err := parseDockerfile([]byte(src))
		if err != nil {
			t.Fatalf("%s: %v", m.name, err)
		}
		run := doc.stages[0].instrs[0]
		if len(run.mounts) != len(m.mounts) || !covered(run, &m, 2) {
			t.Errorf("%s: mounts %v not parsed as covering it", m.name, m.mounts)
		}
	}
}

func TestSecretNames(t *testing.T) {
	cases := map[string]bool{
		"NPM_TOKEN": true, "GITHUB_TOKEN": true, "DB_PASSWORD": true, "db_pass": true,
		"API_KEY": true, "SIGNING_KEY": true, "AWS_SECRET_ACCESS_KEY": true, "REGISTRY_CREDENTIALS": true,
		"SENTRY_AUTHTOKEN": true,
		"NODE_VERSION":     false, "VITE_API_URL": false, "PWD": false, "AWS_ACCESS_KEY_ID": false,
		"NEXT_PUBLIC_STRIPE_KEY": false, "VITE_PUBLIC_KEY": false, "KEYBOARD_LAYOUT": false, "PASSENGER_PORT": false,
	}
	for name, want := range cases {
		if got := secretName(name); got != want {
			t.Errorf("secretName(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestSecretValues(t *testing.T) {
	cases := map[string]bool{
		"https://ci:hunter2@pypi.example.com/simple":      true,
		"ghp_abcdefghijklmnopqrstuvwxyz0123456789":        true,
		"AKIAIOSFODNN7EXAMPLE":                            true,
		"-----BEGIN OPENSSH PRIVATE KEY-----\nabc":        true,
		"https://pypi.example.com/simple":                 false,
		"postgres://db:5432/app":                          false,
		"18.7":                                            false,
		"http://localhost:8080":                           false,
		"git@github.com:org/repo.git":                     false,
		"https://user@example.com (no password, no leak)": false,
	}
	for v, want := range cases {
		if got := secretValue(v) != ""; got != want {
			t.Errorf("secretValue(%q) = %v, want %v", v, got, want)
		}
		if why := secretValue(v); strings.Contains(why, "hunter2") {
			t.Errorf("secretValue repeats the secret: %q", why)
		}
	}
}

func TestSyntaxSatisfies(t *testing.T) {
	heredoc := feature{minor: 4, labsMinor: 3}
	exclude := feature{minor: 19, labsMinor: 7}
	cases := []struct {
		syntax    string
		f         feature
		ok, known bool
	}{
		{"docker/dockerfile:1", heredoc, true, true},
		{"docker/dockerfile:1.4", heredoc, true, true},
		{"docker/dockerfile:1.4.3", heredoc, true, true},
		{"docker/dockerfile:1.2", heredoc, false, true},
		{"docker/dockerfile:1.3-labs", heredoc, true, true},
		{"docker.io/docker/dockerfile:1.3@sha256:abc123", heredoc, false, true},
		{"docker/dockerfile", heredoc, true, true},
		{"docker/dockerfile:1", exclude, true, true},
		{"docker/dockerfile:1.7", exclude, false, true},
		{"docker/dockerfile:1.7-labs", exclude, true, true},
		{"docker/dockerfile:1.6-labs", exclude, false, true},
		{"docker/dockerfile:1.19", exclude, true, true},
		{"docker/dockerfile:labs", exclude, true, true},
		{"example.com/my/frontend:2", heredoc, false, false},
	}
	for _, tc := range cases {
		ok, known := syntaxSatisfies(tc.syntax, tc.f)
		if ok != tc.ok || known != tc.known {
			t.Errorf("syntaxSatisfies(%q, %+v) = %v, %v; want %v, %v", tc.syntax, tc.f, ok, known, tc.ok, tc.known)
		}
	}
}

func TestNameRole(t *testing.T) {
	cases := map[string]role{
		"dev": roleDev, "api-dev": roleDev, "development": roleDev, "local_debug": roleDev,
		"prod": roleProd, "api-prod": roleProd, "release": roleProd, "runtime": roleProd,
		"api": roleNone, "build": roleNone, "devops": roleNone, "product": roleNone, "": roleNone,
	}
	for name, want := range cases {
		if got := nameRole(name); got != want {
			t.Errorf("nameRole(%q) = %q, want %q", name, got, want)
		}
	}
}

// WORKDIR carries into stages built FROM a stage, and "follows" is the
// layer stack: later in the stage, or in a stage built FROM it.
func TestParseWorkdirAndFollows(t *testing.T) {
	src := `FROM node:18 AS base
WORKDIR /app
COPY package.json ./
FROM base AS dev
WORKDIR sub
RUN npm ci
FROM node:18 AS other
RUN npm ci
`
	doc, err := parseDockerfile([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	cp := doc.instrAt(3)
	devRun, otherRun := doc.instrAt(6), doc.instrAt(8)
	if devRun.workdir != "/app/sub" || otherRun.workdir != "/" {
		t.Errorf("workdirs %q, %q; want /app/sub, /", devRun.workdir, otherRun.workdir)
	}
	if !doc.follows(devRun, cp) || doc.follows(otherRun, cp) || doc.follows(cp, devRun) {
		t.Errorf("follows: dev RUN over base COPY must hold, other stage and reverse must not")
	}
}

func TestFormat(t *testing.T) {
	f := Finding{Code: CodeSyntaxLine, Severity: Warn, File: "/p/svc/Dockerfile", Line: 3,
		Message: "m", Fix: "first\nsecond"}
	got := Format(f, "/p", "api", "api-prod")
	want := "svc/Dockerfile:3: warn syntax-line (api, api-prod): m\n    fix: first\n         second\n"
	if got != want {
		t.Errorf("Format:\n%q\nwant\n%q", got, want)
	}
	f.Line = 0
	if got := Format(f, "/elsewhere"); !strings.HasPrefix(got, "/p/svc/Dockerfile: warn") {
		t.Errorf("whole-file finding outside dir: %q", got)
	}
}
