package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"time"
)

// composeEnv is what Compose v2.40 needs on this machine: no buildx
// plugin, so builds go through its embedded builder (docs/e2e.md).
var composeEnv = []string{"COMPOSE_BAKE=false"}

// stack is the generated project as Compose sees it.
type stack struct {
	dir, name string
	port      int
}

// commandLimit bounds one docker or compose command: the slowest is the
// first build of a 50,000-file context, well under this on 2 cores.
const commandLimit = 10 * time.Minute

// compose runs `docker compose -p NAME args...` in the project directory.
func (s stack) compose(args ...string) (string, error) {
	return runCmd(s.dir, composeEnv, append([]string{"docker", "compose", "-p", s.name}, args...)...)
}

func runCmd(dir string, env []string, argv ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), commandLimit)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("%s: %w\n%s", strings.Join(argv, " "), err, lastLines(string(out), 15))
	}
	return string(out), nil
}

func lastLines(s string, n int) string {
	ls := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(ls[max(0, len(ls)-n):], "\n")
}

// image is the tag Compose v2 gives the service's image.
func (s stack) image() string { return s.name + "-web" }

// imageID is the ID the tag points at ("" when missing).
func (s stack) imageID() string {
	out, err := runCmd("", nil, "docker", "image", "inspect", "--format", "{{.Id}}", s.image())
	if err != nil {
		return ""
	}
	return strings.TrimSpace(out)
}

// down removes everything of the project, images included.
func (s stack) down() error {
	_, err := s.compose("down", "-v", "--rmi", "local", "--remove-orphans", "-t", "0")
	return err
}

// engineEvents counts the engine's container "create" events of the
// project between from and to: Compose recreates a container as a create.
// BuildKit builds emit no image events on Engine 20.10, so builds are
// counted elsewhere (see sessions.go).
func (s stack) containerCreates(from, to time.Time) (int, error) {
	out, err := runCmd("", nil, "docker", "events", "--since", unixNano(from), "--until", unixNano(to),
		"--filter", "type=container", "--filter", "event=create",
		"--filter", "label=com.docker.compose.project="+s.name, "--format", "{{json .}}")
	if err != nil {
		return 0, err
	}
	n := 0
	for _, l := range strings.Split(out, "\n") {
		var e struct{ Action string }
		if json.Unmarshal([]byte(l), &e) == nil && e.Action == "create" {
			n++
		}
	}
	return n, nil
}

func unixNano(t time.Time) string { return fmt.Sprintf("%d.%09d", t.Unix(), t.Nanosecond()) }

// httpClient: busybox httpd answers loopback requests in about a
// millisecond; a container being replaced may accept and then hang.
var httpClient = &http.Client{Timeout: time.Second}

func (s stack) get() string {
	resp, err := httpClient.Get(fmt.Sprintf("http://127.0.0.1:%d/index.html", s.port))
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return ""
	}
	return string(b)
}

// servePoll is how often waitServing asks: the served time is known to
// this resolution, small beside a build of seconds.
const servePoll = 10 * time.Millisecond

// waitServing polls until the container serves want and returns when.
func (s stack) waitServing(want string, limit time.Duration) (time.Time, error) {
	return s.waitServingEvery(want, limit, servePoll)
}

// waitServingEvery is waitServing asking every poll.
func (s stack) waitServingEvery(want string, limit, poll time.Duration) (time.Time, error) {
	end := time.Now().Add(limit)
	for time.Now().Before(end) {
		if s.get() == want {
			return time.Now(), nil
		}
		time.Sleep(poll)
	}
	return time.Time{}, fmt.Errorf("127.0.0.1:%d did not serve %q within %v (last: %q)", s.port, want, limit, s.get())
}

// waitAny waits until the container answers 200 with any content.
func (s stack) waitAny(limit time.Duration) (string, error) {
	end := time.Now().Add(limit)
	for time.Now().Before(end) {
		if b := s.get(); b != "" {
			return b, nil
		}
		time.Sleep(servePoll)
	}
	return "", fmt.Errorf("127.0.0.1:%d serves nothing after %v", s.port, limit)
}
