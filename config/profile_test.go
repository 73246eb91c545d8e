package config

import "testing"

// rebuild.yaml may configure a service whose profile is off: it is a
// service of the project, just not enabled today.
func TestSettingsForInactiveProfileService(t *testing.T) {
	cleanEnv(t)
	dir := tree(t, map[string]string{
		"compose.yaml": "services:\n  w:\n    build: .\n    profiles: [worker]\n  a:\n    build: .\n",
		"Dockerfile":   "FROM scratch\n",
		"rebuild.yaml": "services:\n  w: {on_source: rebuild}\n",
	})
	p := load(t, Options{WorkDir: dir})
	if len(p.BuildServices()) != 1 || p.BuildServices()[0].Name != "a" {
		t.Fatalf("build services: %+v", p.BuildServices())
	}
	p = load(t, Options{WorkDir: dir, Profiles: []string{"worker"}})
	if got := p.Settings.Services["w"].OnSource; got != "rebuild" {
		t.Errorf("w with its profile on: on_source %q, want rebuild", got)
	}
}
