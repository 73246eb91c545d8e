package main

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/docker/docker/api/types/container"

	"github.com/rebuildd/rebuildd/config"
	"github.com/rebuildd/rebuildd/internal/sidecar"
)

const selfID = "4f1c2a9d8b7e6f5a4f1c2a9d8b7e6f5a4f1c2a9d8b7e6f5a4f1c2a9d8b7e6f5a"

// withSelf makes findSelf return the container c describes (nil: on the
// host) for the test's duration.
func withSelf(t *testing.T, s *sidecar.Self) {
	old := findSelf
	findSelf = func(context.Context) (*sidecar.Self, error) { return s, nil }
	t.Cleanup(func() { findSelf = old })
}

func fakeSelf(t *testing.T, project, service string, mounts ...string) *sidecar.Self {
	t.Helper()
	env := sidecar.FakeEnv(map[string]string{"/.dockerenv": "", "/proc/self/cgroup": "1:cpu:/docker/" + selfID}, nil)
	eng := &sidecar.FakeEngine{Containers: []container.InspectResponse{sidecar.FakeContainer(selfID, "app-rebuildd-1", project, service, mounts...)}}
	s, err := sidecar.Find(context.Background(), env, eng)
	if err != nil || s == nil {
		t.Fatalf("fake container not found: %v", err)
	}
	return s
}

// sidecarProj is a project at /home/me/app with api (build), rebuildd
// (build: the sidecar built from its own repository) and db (no build).
func sidecarProj(apiContext string) *config.Project {
	return &config.Project{Name: "app", Dir: "/home/me/app", Services: []config.Service{
		{Name: "api", Build: &config.Build{Context: apiContext}},
		{Name: "db", Image: "postgres"},
		{Name: "rebuildd", Build: &config.Build{Context: "/opt/rebuildd-src"}},
	}}
}

func TestSidecarProject(t *testing.T) {
	for _, tc := range []struct {
		name     string
		self     *sidecar.Self
		project  *config.Project
		excluded string   // service excluded afterwards
		msg      []string // bad input message parts; nil: no error
	}{
		{"on the host", nil, sidecarProj("/home/me/app/api"), "", nil},
		{"same path: our own service is excluded", fakeSelf(t, "app", "rebuildd", "/home/me/app:/home/me/app"),
			sidecarProj("/home/me/app/api"), "rebuildd", nil},
		{"started by docker run: nothing excluded, so its context is checked too", fakeSelf(t, "", "", "/home/me/app:/home/me/app"),
			sidecarProj("/home/me/app/api"), "", []string{"build context of rebuildd /opt/rebuildd-src"}},
		{"project mounted elsewhere", fakeSelf(t, "app", "rebuildd", "/Users/me/app:/home/me/app"),
			sidecarProj("/home/me/app/api"), "", []string{"- /Users/me/app:/Users/me/app", "working_dir: /Users/me/app"}},
		{"context outside the project not mounted", fakeSelf(t, "app", "rebuildd", "/home/me/app:/home/me/app"),
			sidecarProj("/home/me/lib"), "", []string{"build context of api /home/me/lib", "- /home/me/lib:/home/me/lib"}},
		{"other project name", fakeSelf(t, "stack", "rebuildd", "/home/me/app:/home/me/app"),
			sidecarProj("/home/me/app/api"), "", []string{"COMPOSE_PROJECT_NAME: stack"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			withSelf(t, tc.self)
			err := sidecarProject(context.Background(), tc.project)
			if tc.msg == nil {
				if err != nil {
					t.Fatalf("sidecarProject: %v", err)
				}
				for _, s := range tc.project.Services {
					if got := tc.project.Settings.Services[s.Name].Exclude; got != (s.Name == tc.excluded) {
						t.Errorf("%s excluded = %v, want %v", s.Name, got, !got)
					}
				}
				return
			}
			var ie *config.InputError
			if !errors.As(err, &ie) {
				t.Fatalf("sidecarProject = %v, want bad input (exit 2)", err)
			}
			var printed strings.Builder
			if code := report(&printed, err); code != exitUsage {
				t.Errorf("exit %d, want %d", code, exitUsage)
			}
			// The fix is lines to paste: printed as lines, each part on its own.
			out := printed.String()
			for _, m := range tc.msg {
				if !strings.Contains(out, m) {
					t.Errorf("message lacks %q:\n%s", m, out)
				}
			}
			if strings.Contains(out, `\n`) || strings.Count(out, "\n") < 4 || strings.HasSuffix(out, "\n\n") {
				t.Errorf("message not printed as lines (or ends in a blank one):\n%s", out)
			}
			for _, l := range strings.Split(out, "\n") {
				if strings.HasPrefix(strings.TrimSpace(l), "- ") && !strings.HasPrefix(l, "      - /") {
					t.Errorf("volumes: entry %q not on a line of its own, indented to paste:\n%s", l, out)
				}
			}
		})
	}
}

// TestFindSelfOnce: the engine is asked once per process, not on every
// reload of the project.
func TestFindSelfOnce(t *testing.T) {
	calls := 0
	s := fakeSelf(t, "app", "rebuildd")
	find := onceSelf(func(context.Context) (*sidecar.Self, error) { calls++; return s, nil })
	for i := 0; i < 3; i++ {
		if got, err := find(context.Background()); got != s || err != nil {
			t.Fatalf("call %d: %v, %v", i, got, err)
		}
	}
	if calls != 1 {
		t.Errorf("engine asked %d times, want 1", calls)
	}
}
