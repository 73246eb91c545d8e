package config

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

var twoServices = []Service{{Name: "api"}, {Name: "worker"}}

func settingsFile(t *testing.T, content string) (string, string) {
	t.Helper()
	dir := tree(t, map[string]string{"rebuild.yaml": content})
	return dir, filepath.Join(dir, "rebuild.yaml")
}

func TestSettingsDefaults(t *testing.T) {
	dir := tree(t, map[string]string{"README": ""})
	file, s, err := loadSettings("", dir, twoServices, nil)
	if err != nil || file != "" {
		t.Fatalf("file %q err %v, want no file and no error", file, err)
	}
	want := Settings{Debounce: 200 * time.Millisecond, MaxWait: 2 * time.Second, Poll: PollAuto,
		PollInterval: time.Second, Parallel: 1, OnBusy: "queue"}
	if s.Debounce != want.Debounce || s.MaxWait != want.MaxWait || s.Poll != want.Poll ||
		s.PollInterval != want.PollInterval || s.Parallel != want.Parallel || s.OnBusy != want.OnBusy ||
		s.LogFormat != "" || s.ComposeCommand != nil {
		t.Errorf("defaults = %+v", s)
	}
	for _, svc := range twoServices {
		if got, ok := s.Services[svc.Name]; !ok || got.OnSource != "auto" || got.Exclude || got.Ignore != nil {
			t.Errorf("Services[%q] = %+v, %v; want the defaults for every service", svc.Name, got, ok)
		}
	}
}

func TestSettingsValues(t *testing.T) {
	dir, file := settingsFile(t, `debounce: 50ms
max_wait: 10s
poll: 500ms
log_format: json
parallel: 2
on_busy: cancel
compose_command: podman compose
builder: docker-py
services:
  api:
    on_source: restart
    ignore: ["*.gen.go", "tmp/"]
  worker:
    exclude: true
`)
	got, s, err := loadSettings("", dir, twoServices, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got != file {
		t.Errorf("file = %q, want the project directory's rebuild.yaml", got)
	}
	if s.Debounce != 50*time.Millisecond || s.MaxWait != 10*time.Second || s.Poll != PollOn ||
		s.PollInterval != 500*time.Millisecond || s.LogFormat != "json" || s.Parallel != 2 || s.OnBusy != "cancel" ||
		s.Builder != "docker-py" {
		t.Errorf("settings = %+v", s)
	}
	if !slices.Equal(s.ComposeCommand, []string{"podman", "compose"}) || s.UserComposeCommand {
		t.Errorf("ComposeCommand = %q (user's: %v)", s.ComposeCommand, s.UserComposeCommand)
	}
	if api := s.Services["api"]; api.OnSource != "restart" || !slices.Equal(api.Ignore, []string{"*.gen.go", "tmp/"}) {
		t.Errorf("api = %+v", api)
	}
	if w := s.Services["worker"]; !w.Exclude || w.OnSource != "auto" {
		t.Errorf("worker = %+v", w)
	}
}

func TestSettingsPollAndCommandForms(t *testing.T) {
	tests := []struct {
		yaml     string
		poll     PollMode
		interval time.Duration
		command  []string
	}{
		{"poll: off\n", PollOff, time.Second, nil},
		{"poll: auto\npoll_interval: 3s\n", PollAuto, 3 * time.Second, nil},
		{"poll: 250ms\n", PollOn, 250 * time.Millisecond, nil},
		{"poll: 100ms\npoll_interval: 100ms\n", PollOn, 100 * time.Millisecond, nil}, // the lower bound itself
		{`compose_command: ["docker", "compose"]` + "\n", PollAuto, time.Second, []string{"docker", "compose"}},
		{"", PollAuto, time.Second, nil}, // empty file
		{"# only a comment\n", PollAuto, time.Second, nil},
	}
	for _, tt := range tests {
		dir, _ := settingsFile(t, tt.yaml)
		_, s, err := loadSettings("", dir, nil, nil)
		if err != nil {
			t.Errorf("%q: %v", tt.yaml, err)
			continue
		}
		if s.Poll != tt.poll || s.PollInterval != tt.interval || !slices.Equal(s.ComposeCommand, tt.command) {
			t.Errorf("%q: poll %q every %v, command %q", tt.yaml, s.Poll, s.PollInterval, s.ComposeCommand)
		}
	}
}

// TestSettingsStrict: every mistake names the file and the line.
func TestSettingsStrict(t *testing.T) {
	tests := []struct {
		name, yaml string
		line       int
		want       []string
	}{
		{"unknown top-level key", "debounce: 1s\ndebounse: 2s\n", 2, []string{`unknown key "debounse"`}},
		{"unknown service key", "services:\n  api:\n    on_src: rebuild\n", 3, []string{`"on_src"`}},
		{"wrong type", "parallel: many\n", 1, []string{"parallel"}},
		{"list for a duration", "debounce: [1, 2]\n", 1, []string{"debounce"}},
		{"bad duration", "max_wait: soon\n", 1, []string{"max_wait", `"soon"`}},
		{"negative duration", "debounce: -1s\n", 1, []string{"debounce"}},
		{"bad poll", "poll: sometimes\n", 1, []string{"poll", "off, auto"}},
		{"poll too often", "debounce: 1s\npoll: 1ns\n", 2, []string{"poll", `"1ns" is too short`, "100ms"}},
		{"poll_interval too short", "poll_interval: 99ms\n", 1, []string{"poll_interval", `"99ms" is too short`}},
		{"poll_interval zero", "poll_interval: 0s\n", 1, []string{"poll_interval", "too short"}},
		{"bad log format", "log_format: xml\n", 1, []string{"log_format", "console, json"}},
		{"zero parallel", "\nparallel: 0\n", 2, []string{"parallel"}},
		{"bad on_busy", "on_busy: drop\n", 1, []string{"on_busy", "queue, cancel"}},
		{"bad on_source", "services:\n  api:\n    on_source: sometimes\n", 3, []string{"on_source", "auto, sync, sync+restart, restart, rebuild, none"}},
		{"unknown service", "services:\n  api: {}\n  web:\n    exclude: true\n", 3, []string{`"web"`}},
		{"bad ignore pattern", "services:\n  api:\n    ignore:\n      - ok\n      - \"[\"\n", 5, []string{"ignore", `"["`}},
		{"malformed yaml", "debounce: 1s\n  bad: indent\n", 2, nil},
		{"compose_command map", "compose_command: {a: b}\n", 1, []string{"compose_command"}},
		{"bad builder", "builder: kaniko\n", 1, []string{"builder", "buildkit, classic, classic-20.10, docker-py, buildkit-20.10"}},
		{"not a mapping", "- a\n- b\n", 1, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, file := settingsFile(t, tt.yaml)
			_, _, err := loadSettings("", dir, twoServices, nil)
			ie := inputError(t, err, tt.want...)
			if ie.File != file || ie.Line != tt.line {
				t.Errorf("error at %s:%d, want %s:%d (%v)", ie.File, ie.Line, file, tt.line, ie)
			}
		})
	}
}

func TestSettingsExplicitFile(t *testing.T) {
	cleanEnv(t)
	dir := tree(t, map[string]string{
		"compose.yaml":    "services: {api: {image: x}}\n",
		"rebuild.yaml":    "debounce: 1s\n",
		"conf/other.yaml": "debounce: 3s\n",
	})
	p := load(t, Options{WorkDir: dir, ConfigFile: "conf/other.yaml"})
	if p.SettingsFile != filepath.Join(dir, "conf/other.yaml") || p.Settings.Debounce != 3*time.Second {
		t.Errorf("SettingsFile %q debounce %v, want -c to win", p.SettingsFile, p.Settings.Debounce)
	}
	p = load(t, Options{WorkDir: dir})
	if p.SettingsFile != filepath.Join(dir, "rebuild.yaml") || p.Settings.Debounce != time.Second {
		t.Errorf("SettingsFile %q debounce %v, want the project directory's", p.SettingsFile, p.Settings.Debounce)
	}
	_, err := Load(context.Background(), Options{WorkDir: dir, ConfigFile: "missing.yaml"})
	if ie := inputError(t, err, "missing.yaml"); ie.File != filepath.Join(dir, "missing.yaml") {
		t.Errorf("File = %q", ie.File)
	}
}
