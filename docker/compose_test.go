package docker

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/rebuildd/rebuildd/config"
)

func TestProjectArgs(t *testing.T) {
	o := config.Options{Files: []string{"compose.yaml", "dev.yaml"}, ProjectDir: "/src",
		Profiles: []string{"debug"}, EnvFiles: []string{".env.dev"}, ConfigFile: "rebuild.yaml"}
	want := []string{"-f", "compose.yaml", "-f", "dev.yaml", "-p", "shop", "--project-directory", "/src",
		"--profile", "debug", "--env-file", ".env.dev"}
	if got := ProjectArgs(o, "shop"); !reflect.DeepEqual(got, want) {
		t.Errorf("ProjectArgs = %q, want %q", got, want)
	}
}

func TestComposeCommandLines(t *testing.T) {
	c := &ComposeCLI{Command: []string{"docker", "compose"}, ProjectArgs: []string{"-p", "shop"}}
	tests := []struct {
		sub  []string
		want string
	}{
		{[]string{"build", "api"}, "docker compose -p shop build api"},
		{[]string{"up", "-d", "--no-deps", "--no-build", "--renew-anon-volumes", "api"},
			"docker compose -p shop up -d --no-deps --no-build --renew-anon-volumes api"},
	}
	for _, tt := range tests {
		if got := strings.Join(c.Args(tt.sub...), " "); got != tt.want {
			t.Errorf("Args = %q, want %q", got, tt.want)
		}
	}
}

// The command Build runs, per flavour: v1's classic builder must remove
// the container of a failed RUN step.
func TestComposeBuildCommand(t *testing.T) {
	for _, v1 := range []bool{false, true} {
		argv := filepath.Join(t.TempDir(), "argv")
		c := &ComposeCLI{V1: v1, Command: []string{"sh", "-c", `echo "$@" > "$0"`, argv}, ProjectArgs: []string{"-p", "shop"}}
		if err := c.Build(context.Background(), "api", nil); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(argv)
		if err != nil {
			t.Fatal(err)
		}
		want := map[bool]string{false: "-p shop build api\n", true: "-p shop build --force-rm api\n"}[v1]
		if string(got) != want {
			t.Errorf("v1=%v: build ran with %q, want %q", v1, got, want)
		}
	}
}

// A build that fails because an image it used was removed meanwhile runs
// again, three times in all; any other failure is returned at once.
func TestComposeBuildRetriesAVanishedImage(t *testing.T) {
	const vanished = "Step 3/4 : COPY site /www\nfailed to export image: failed to set parent sha256:2677c6c8: unknown parent image ID sha256:2677c6c8\n"
	for _, tc := range []struct {
		name   string
		fails  int    // how many runs fail before one succeeds
		output string // what a failing run prints
		runs   int
		ok     bool
	}{
		{"vanished once", 1, vanished, 2, true},
		{"vanished twice", 2, vanished, 3, true},
		{"vanished every time", 9, vanished, 3, false},
		{"a broken RUN", 1, "The command '/bin/sh -c exit 3' returned a non-zero code: 3\n", 1, false},
		{"no failure", 0, "", 1, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			count := filepath.Join(t.TempDir(), "runs")
			// Each run appends a line to count; the first tc.fails runs fail.
			script := `echo run >> "$0"; n=$(wc -l < "$0"); if [ "$n" -le ` + fmt.Sprint(tc.fails) + ` ]; then printf '` + tc.output + `'; exit 1; fi`
			c := &ComposeCLI{V1: true, Command: []string{"sh", "-c", script, count}}
			var out bytes.Buffer
			err := c.Build(context.Background(), "web", &out)
			b, _ := os.ReadFile(count)
			if runs := strings.Count(string(b), "run"); runs != tc.runs || (err == nil) != tc.ok {
				t.Errorf("%d runs, error %v; want %d runs, success %v\noutput:\n%s", runs, err, tc.runs, tc.ok, out.String())
			}
			if tc.runs > 1 && !strings.Contains(out.String(), "removed meanwhile") {
				t.Errorf("the retry is not said:\n%s", out.String())
			}
		})
	}
	w := &vanishWatch{}
	for _, part := range []string{"failed to export image: unknown par", "ent image ID sha256:ab\n"} {
		w.Write([]byte(part))
	}
	if !w.seen {
		t.Error("a sign split across two writes was missed")
	}
}

func TestComposeEnvKeepsUserSettings(t *testing.T) {
	tests := []struct {
		env  []string
		v1   bool
		want []string
	}{
		{[]string{"PATH=/bin"}, false, []string{"PATH=/bin", "COMPOSE_BAKE=false"}},
		{[]string{"COMPOSE_BAKE=true"}, false, []string{"COMPOSE_BAKE=true"}},
		{nil, true, []string{"COMPOSE_DOCKER_CLI_BUILD=0"}},
		{[]string{"COMPOSE_DOCKER_CLI_BUILD=1"}, true, []string{"COMPOSE_DOCKER_CLI_BUILD=1"}},
	}
	for _, tt := range tests {
		if got := composeEnv(tt.env, tt.v1); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("composeEnv(%q, v1=%v) = %q, want %q", tt.env, tt.v1, got, tt.want)
		}
	}
}

func TestImageNames(t *testing.T) {
	v2, v1 := &ComposeCLI{}, &ComposeCLI{V1: true}
	if got := v2.ImageName("shop", "api"); got != "shop-api" {
		t.Errorf("v2 image name %q", got)
	}
	if got := v1.ImageName("shop", "api"); got != "shop_api" {
		t.Errorf("v1 image name %q", got)
	}
}

func TestPrefixWriterPrefixesAndKeepsTail(t *testing.T) {
	var out bytes.Buffer
	w := NewPrefixWriter("api", &out)
	for i := 1; i <= tailLines+5; i++ {
		fmt.Fprintf(w, "line %d\r\n", i)
	}
	w.Write([]byte("partial"))
	tail := w.Tail()
	if len(tail) != tailLines || tail[0] != "line 7" || tail[len(tail)-1] != "partial" {
		t.Errorf("tail = %q ... %q (%d lines)", tail[0], tail[len(tail)-1], len(tail))
	}
	if !strings.HasPrefix(out.String(), "api | line 1\napi | line 2\n") || !strings.HasSuffix(out.String(), "api | partial\n") {
		t.Errorf("output %q", out.String())
	}
	quiet := NewPrefixWriter("api", nil)
	quiet.Write([]byte("only kept\n"))
	if got := quiet.Tail(); len(got) != 1 || got[0] != "only kept" {
		t.Errorf("quiet tail = %q", got)
	}
}

func TestContextHost(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("DOCKER_CONFIG", dir)
	t.Setenv("DOCKER_CONTEXT", "")
	sum := sha256.Sum256([]byte("remote"))
	meta := filepath.Join(dir, "contexts", "meta", hex.EncodeToString(sum[:]))
	os.MkdirAll(meta, 0o700)
	os.WriteFile(filepath.Join(meta, "meta.json"), []byte(`{"Name":"remote","Endpoints":{"docker":{"Host":"tcp://10.0.0.2:2376"}}}`), 0o600)
	tests := []struct {
		config, env, want string
	}{
		{`{}`, "", ""},
		{`{"currentContext":"default"}`, "", ""},
		{`{"currentContext":"remote"}`, "", "tcp://10.0.0.2:2376"},
		{`{}`, "remote", "tcp://10.0.0.2:2376"},
		{`{"currentContext":"missing"}`, "", ""},
	}
	for _, tt := range tests {
		os.WriteFile(filepath.Join(dir, "config.json"), []byte(tt.config), 0o600)
		t.Setenv("DOCKER_CONTEXT", tt.env)
		if got := contextHost(); got != tt.want {
			t.Errorf("config %s, DOCKER_CONTEXT=%q: host %q, want %q", tt.config, tt.env, got, tt.want)
		}
	}
}

func TestComposeFlavor(t *testing.T) {
	bin, cfg := t.TempDir(), t.TempDir()
	t.Setenv("PATH", bin)
	t.Setenv("DOCKER_CONFIG", cfg)
	exe := func(dir, name, body string) {
		os.MkdirAll(dir, 0o755)
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// Neither of these may run: the files alone must say which Compose it is.
	exe(bin, "docker", "#!/bin/sh\nexit 9\n")
	exe(filepath.Join(cfg, "cli-plugins"), "docker-compose", "#!/bin/sh\nexit 9\n")
	exe(bin, "docker-compose", "#!/usr/bin/python3\nraise SystemExit(9)\n")
	exe(bin, "compose-wrapper", "#!/bin/sh\necho v2.40.3\n")
	tests := []struct {
		command []string
		v1      bool
	}{
		{[]string{"docker", "compose"}, false},
		{[]string{"docker-compose"}, true},
		{[]string{"compose-wrapper"}, false}, // asked: `compose-wrapper version --short`
	}
	for _, tt := range tests {
		v1, err := composeFlavor(context.Background(), tt.command, "", true)
		if err != nil || v1 != tt.v1 {
			t.Errorf("%v: v1 = %v, %v; want %v", tt.command, v1, err, tt.v1)
		}
	}
	if _, err := composeFlavor(context.Background(), []string{"nope"}, "", true); err == nil {
		t.Error("a missing command was accepted")
	}
}
