package config

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const dockerfile = "FROM alpine\nCOPY . /app\n"

func TestLoadDiscoveryWithOverride(t *testing.T) {
	cleanEnv(t)
	dir := tree(t, map[string]string{
		"compose.yaml": `services:
  api:
    build: ./api
    image: api:dev
`,
		"compose.override.yaml": `services:
  api:
    build:
      target: dev
  db:
    image: postgres
`,
		"api/Dockerfile": dockerfile,
		"sub/deeper/x":   "",
	})
	// Run from a subdirectory: compose walks up to find compose.yaml, and
	// the project directory is the compose file's, not the current one.
	p := load(t, Options{WorkDir: filepath.Join(dir, "sub/deeper")})
	if p.Dir != dir {
		t.Errorf("Dir = %q, want %q", p.Dir, dir)
	}
	if want := []string{filepath.Join(dir, "compose.yaml"), filepath.Join(dir, "compose.override.yaml")}; !slices.Equal(p.ComposeFiles, want) {
		t.Errorf("ComposeFiles = %q, want %q", p.ComposeFiles, want)
	}
	if got := names(p); !slices.Equal(got, []string{"api", "db"}) {
		t.Errorf("services = %q, want api, db (sorted, with and without build)", got)
	}
	api := service(t, p, "api")
	if api.Build == nil || api.Build.Context != filepath.Join(dir, "api") ||
		api.Build.Dockerfile != filepath.Join(dir, "api/Dockerfile") || api.Build.Target != "dev" {
		t.Errorf("api.Build = %+v", api.Build)
	}
	if api.Image != "api:dev" {
		t.Errorf("api.Image = %q", api.Image)
	}
	if db := service(t, p, "db"); db.Build != nil || db.Image != "postgres" {
		t.Errorf("db = %+v, want no build", db)
	}
	if p.Name != filepath.Base(dir) {
		t.Errorf("Name = %q, want the directory name %q", p.Name, filepath.Base(dir))
	}
}

func TestLoadRepeatedFileFlags(t *testing.T) {
	cleanEnv(t)
	dir := tree(t, map[string]string{
		"deploy/base.yaml": `services:
  api:
    build:
      context: ../api
      args: {A: "1", B: "base"}
`,
		"deploy/dev.yaml": `services:
  api:
    build:
      args: {B: "dev"}
      dockerfile: Dockerfile.dev
`,
		"compose.yaml":       "services: {ignored: {image: x}}\n",
		"api/Dockerfile.dev": dockerfile,
	})
	p := load(t, Options{WorkDir: dir, Files: []string{"deploy/base.yaml", "deploy/dev.yaml"}})
	if want := []string{filepath.Join(dir, "deploy/base.yaml"), filepath.Join(dir, "deploy/dev.yaml")}; !slices.Equal(p.ComposeFiles, want) {
		t.Errorf("ComposeFiles = %q, want %q", p.ComposeFiles, want)
	}
	// Without --project-directory the first file's directory is the project's.
	if p.Dir != filepath.Join(dir, "deploy") {
		t.Errorf("Dir = %q", p.Dir)
	}
	b := service(t, p, "api").Build
	if b.Context != filepath.Join(dir, "api") || b.Dockerfile != filepath.Join(dir, "api/Dockerfile.dev") {
		t.Errorf("Build = %+v", b)
	}
	if b.Args["A"] != "1" || b.Args["B"] != "dev" {
		t.Errorf("Args = %v, want the override to win", b.Args)
	}
	if slices.Contains(names(p), "ignored") {
		t.Error("discovered compose.yaml was loaded although -f was given")
	}
}

func TestLoadComposeFileEnv(t *testing.T) {
	cleanEnv(t)
	dir := tree(t, map[string]string{
		"a.yaml":         "services: {api: {build: ./api}}\n",
		"b.yaml":         "services: {api: {image: from-b}}\n",
		"compose.yaml":   "services: {ignored: {image: x}}\n",
		"api/Dockerfile": dockerfile,
	})
	t.Setenv("COMPOSE_FILE", filepath.Join(dir, "a.yaml")+":"+filepath.Join(dir, "b.yaml"))
	p := load(t, Options{WorkDir: dir})
	if len(p.ComposeFiles) != 2 || service(t, p, "api").Image != "from-b" {
		t.Errorf("ComposeFiles = %q, api = %+v", p.ComposeFiles, service(t, p, "api"))
	}
}

func TestLoadComposeFileEnvRelativeToWorkDir(t *testing.T) {
	cleanEnv(t)
	dir := tree(t, map[string]string{
		"deploy/a.yaml":  "services: {api: {build: ../api}}\n",
		"api/Dockerfile": dockerfile,
	})
	t.Setenv("COMPOSE_FILE", "deploy/a.yaml")
	p := load(t, Options{WorkDir: dir})
	if !slices.Equal(p.ComposeFiles, []string{filepath.Join(dir, "deploy/a.yaml")}) {
		t.Errorf("ComposeFiles = %q", p.ComposeFiles)
	}
}

func TestLoadDotEnvInterpolation(t *testing.T) {
	cleanEnv(t)
	files := map[string]string{
		"compose.yaml": `services:
  api:
    build:
      context: ./api
      args:
        TAG: ${TAG}
        FROM_SHELL:
    image: api:${TAG:-latest}
    env_file: [api.env]
`,
		".env":           "TAG=dotenv\n",
		"alt.env":        "TAG=alt\n",
		"api.env":        "X=1\n",
		"api/Dockerfile": dockerfile,
	}
	t.Run(".env", func(t *testing.T) {
		dir := tree(t, files)
		p := load(t, Options{WorkDir: dir})
		api := service(t, p, "api")
		if api.Image != "api:dotenv" || api.Build.Args["TAG"] != "dotenv" {
			t.Errorf("image %q args %v, want .env's TAG", api.Image, api.Build.Args)
		}
		if _, ok := api.Build.Args["FROM_SHELL"]; ok {
			t.Errorf("Args = %v: an arg without value and without an environment value is omitted", api.Build.Args)
		}
		want := []string{filepath.Join(dir, ".env"), filepath.Join(dir, "api.env")}
		if !slices.Equal(p.EnvFiles, want) {
			t.Errorf("EnvFiles = %q, want %q", p.EnvFiles, want)
		}
	})
	t.Run("--env-file replaces .env", func(t *testing.T) {
		dir := tree(t, files)
		p := load(t, Options{WorkDir: dir, EnvFiles: []string{"alt.env"}})
		if api := service(t, p, "api"); api.Image != "api:alt" {
			t.Errorf("image %q, want alt.env's TAG", api.Image)
		}
		want := []string{filepath.Join(dir, "alt.env"), filepath.Join(dir, "api.env")}
		if !slices.Equal(p.EnvFiles, want) {
			t.Errorf("EnvFiles = %q, want %q (.env is not read when --env-file is given)", p.EnvFiles, want)
		}
	})
	t.Run("shell wins over .env", func(t *testing.T) {
		dir := tree(t, files)
		t.Setenv("TAG", "shell")
		if api := service(t, load(t, Options{WorkDir: dir}), "api"); api.Image != "api:shell" {
			t.Errorf("image %q, want the shell's TAG", api.Image)
		}
	})
}

func TestLoadProjectDirectoryAndName(t *testing.T) {
	cleanEnv(t)
	dir := tree(t, map[string]string{
		"ops/compose.yaml":    "services: {api: {build: ./api}}\n",
		"ops/api/Dockerfile":  dockerfile,
		"proj/.env":           "COMPOSE_PROJECT_NAME=fromenv\n",
		"proj/api/Dockerfile": dockerfile,
	})
	p := load(t, Options{WorkDir: dir, Files: []string{"ops/compose.yaml"}, ProjectDir: "proj"})
	if p.Dir != filepath.Join(dir, "proj") {
		t.Errorf("Dir = %q, want the --project-directory", p.Dir)
	}
	if p.Name != "fromenv" {
		t.Errorf("Name = %q, want COMPOSE_PROJECT_NAME from the project directory's .env", p.Name)
	}
	// Relative paths in the compose file resolve against the project directory.
	if b := service(t, p, "api").Build; b.Context != filepath.Join(dir, "proj/api") {
		t.Errorf("Context = %q, want it under the project directory", b.Context)
	}
	p = load(t, Options{WorkDir: dir, Files: []string{"ops/compose.yaml"}, ProjectName: "given"})
	if p.Name != "given" || p.Dir != filepath.Join(dir, "ops") {
		t.Errorf("Name = %q, Dir = %q, want -p and the compose file's directory", p.Name, p.Dir)
	}
	// compose refuses a name it would not accept either.
	_, err := Load(context.Background(), Options{WorkDir: dir, Files: []string{"ops/compose.yaml"}, ProjectName: "Given"})
	inputError(t, err, "Given")
}

func TestLoadProfiles(t *testing.T) {
	cleanEnv(t)
	dir := tree(t, map[string]string{
		"compose.yaml": `services:
  api: {image: api}
  debug: {image: dbg, profiles: [debug]}
  tools: {image: tools, profiles: [tools]}
`,
	})
	tests := []struct {
		profiles []string
		env      string
		want     []string
	}{
		{nil, "", []string{"api"}},
		{[]string{"debug"}, "", []string{"api", "debug"}},
		{nil, "tools", []string{"api", "tools"}},
		{[]string{"*"}, "", []string{"api", "debug", "tools"}},
	}
	for _, tt := range tests {
		t.Setenv("COMPOSE_PROFILES", tt.env)
		p := load(t, Options{WorkDir: dir, Profiles: tt.profiles})
		if got := names(p); !slices.Equal(got, tt.want) {
			t.Errorf("profiles %q COMPOSE_PROFILES=%q: services %q, want %q", tt.profiles, tt.env, got, tt.want)
		}
	}
}

func TestLoadExtends(t *testing.T) {
	cleanEnv(t)
	dir := tree(t, map[string]string{
		"compose.yaml": `services:
  api:
    extends: {file: common/base.yaml, service: node}
    image: api
`,
		"common/base.yaml": `services:
  node:
    build: {context: ./node, target: dev}
    volumes: ["./src:/app/src"]
`,
		"common/node/Dockerfile": dockerfile,
	})
	p := load(t, Options{WorkDir: dir})
	api := service(t, p, "api")
	// The extended file defines the project too: edits to it must reload.
	if want := []string{filepath.Join(dir, "compose.yaml"), filepath.Join(dir, "common/base.yaml")}; !slices.Equal(p.ComposeFiles, want) {
		t.Errorf("ComposeFiles = %q, want %q", p.ComposeFiles, want)
	}
	// Paths in an extended file are relative to that file.
	if api.Build == nil || api.Build.Context != filepath.Join(dir, "common/node") || api.Build.Target != "dev" {
		t.Errorf("Build = %+v", api.Build)
	}
	if len(api.BindMounts) != 1 || api.BindMounts[0].Source != filepath.Join(dir, "common/src") {
		t.Errorf("BindMounts = %+v", api.BindMounts)
	}
}

func TestLoadInclude(t *testing.T) {
	cleanEnv(t)
	dir := tree(t, map[string]string{
		"compose.yaml": `include:
  - svc/compose.yaml
services:
  web: {image: nginx}
`,
		"svc/compose.yaml": "services:\n  api:\n    build: .\n",
		"svc/Dockerfile":   dockerfile,
	})
	p := load(t, Options{WorkDir: dir})
	if want := []string{filepath.Join(dir, "compose.yaml"), filepath.Join(dir, "svc/compose.yaml")}; !slices.Equal(p.ComposeFiles, want) {
		t.Errorf("ComposeFiles = %q, want %q", p.ComposeFiles, want)
	}
	// An included file's paths are relative to its own directory.
	if b := service(t, p, "api").Build; b == nil || b.Context != filepath.Join(dir, "svc") {
		t.Errorf("api.Build = %+v", b)
	}
}

func TestLoadDockerfileInline(t *testing.T) {
	cleanEnv(t)
	dir := tree(t, map[string]string{
		"compose.yaml": `services:
  api:
    build:
      context: .
      dockerfile_inline: |
        FROM alpine
        COPY . /app
`,
	})
	b := service(t, load(t, Options{WorkDir: dir}), "api").Build
	if b.Dockerfile != "" || !strings.Contains(b.DockerfileInline, "COPY . /app") || b.Context != dir {
		t.Errorf("Build = %+v", b)
	}
}

func TestLoadVolumesAndHealthcheck(t *testing.T) {
	cleanEnv(t)
	dir := tree(t, map[string]string{
		"compose.yaml": `services:
  api:
    build: .
    volumes:
      - ./src:/app/src
      - ./conf:/etc/app:ro
      - /app/node_modules
      - data:/data
      - type: bind
        source: ./long
        target: /long
      - type: volume
        target: /cache
    healthcheck:
      test: ["CMD", "true"]
  off:
    image: x
    healthcheck: {disable: true}
  none:
    image: x
volumes:
  data: {}
`,
		"Dockerfile": dockerfile,
		"src":        "DIR",
		"conf":       "DIR",
		"long":       "DIR",
	})
	p := load(t, Options{WorkDir: dir})
	api := service(t, p, "api")
	want := []BindMount{
		{Source: filepath.Join(dir, "src"), Target: "/app/src"},
		{Source: filepath.Join(dir, "conf"), Target: "/etc/app", ReadOnly: true},
		{Source: filepath.Join(dir, "long"), Target: "/long"},
	}
	if !slices.Equal(api.BindMounts, want) {
		t.Errorf("BindMounts = %+v, want %+v", api.BindMounts, want)
	}
	if !slices.Equal(api.AnonVolumes, []string{"/app/node_modules", "/cache"}) {
		t.Errorf("AnonVolumes = %q, want the two anonymous ones, not the named volume", api.AnonVolumes)
	}
	if !api.HasHealthcheck || service(t, p, "off").HasHealthcheck || service(t, p, "none").HasHealthcheck {
		t.Error("HasHealthcheck: want api only")
	}
}

func TestLoadHashes(t *testing.T) {
	cleanEnv(t)
	base := `services:
  api:
    build: {context: ., args: {A: "1"}}
    environment: {X: "1"}
`
	dir := tree(t, map[string]string{"Dockerfile": dockerfile})
	hashes := func(compose string) (string, string) {
		if err := os.WriteFile(filepath.Join(dir, "compose.yaml"), []byte(compose), 0o644); err != nil {
			t.Fatal(err)
		}
		s := service(t, load(t, Options{WorkDir: dir}), "api")
		return s.BuildHash, s.RuntimeHash
	}
	b0, r0 := hashes(base)
	if b0 == "" || r0 == "" {
		t.Fatal("empty hashes")
	}
	if b, r := hashes(base); b != b0 || r != r0 {
		t.Error("hashes are not stable across loads")
	}
	if b, r := hashes(strings.Replace(base, `A: "1"`, `A: "2"`, 1)); b == b0 || r != r0 {
		t.Errorf("build arg change: build hash changed %v, runtime hash changed %v; want only build", b != b0, r != r0)
	}
	if b, r := hashes(strings.Replace(base, `X: "1"`, `X: "2"`, 1)); b != b0 || r == r0 {
		t.Errorf("environment change: build hash changed %v, runtime hash changed %v; want only runtime", b != b0, r != r0)
	}
}

func TestLoadNoBuildServiceIsNotAnError(t *testing.T) {
	cleanEnv(t)
	dir := tree(t, map[string]string{"compose.yaml": "services: {db: {image: postgres}}\n"})
	p := load(t, Options{WorkDir: dir})
	if len(p.BuildServices()) != 0 || len(p.Services) != 1 {
		t.Errorf("services %q", names(p))
	}
}
