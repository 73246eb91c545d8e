package main

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/rebuildd/rebuildd/config"
)

// quietWindow is the debounce rebuild.yaml is given (the default), which
// rebuildd's own part is compared against.
const quietWindow = 200 * time.Millisecond

type harness struct {
	opts  options
	root  string // module root
	env   *env
	built time.Duration // first compose up --build
	log   func(format string, args ...any)

	cleaned sync.Once // cleanup runs once: at the end or on a signal
}

func setup(o options) (*harness, error) {
	h := &harness{opts: o, log: func(f string, a ...any) { fmt.Fprintf(os.Stderr, "bench: "+f+"\n", a...) }}
	root, err := moduleRoot()
	if err != nil {
		return nil, err
	}
	h.root = root
	if err := os.MkdirAll(o.dir, 0o755); err != nil {
		return nil, fmt.Errorf("mkdir %q: %w", o.dir, err)
	}
	if err := checkEngine(); err != nil {
		return nil, err
	}
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	e := &env{self: self, work: o.dir, rebuildd: filepath.Join(o.dir, "rebuildd"),
		stamps: filepath.Join(o.dir, "compose.stamps"), config: filepath.Join(o.dir, "rebuild.yaml")}
	h.env = e
	h.log("building rebuildd")
	if _, err := runCmd(root, nil, "go", "build", "-o", e.rebuildd, "./cmd/rebuildd"); err != nil {
		return nil, err
	}
	if e.stateDir, err = os.MkdirTemp(o.dir, "state-"); err != nil {
		return nil, err
	}
	_ = os.Remove(e.stamps)
	// The stamping wrapper is not a Compose CLI, which rebuild.yaml may not
	// name (config/command.go): it is the user's choice, so it goes in the
	// environment every rebuildd the harness starts inherits.
	wrapper := []string{self, stampFlag, e.stamps, "--", "docker", "compose"}
	if err := os.Setenv(config.EnvComposeCommand, strings.Join(wrapper, " ")); err != nil {
		return nil, err
	}
	cfg := fmt.Sprintf("debounce: %v\n", quietWindow)
	if err := os.WriteFile(e.config, []byte(cfg), 0o644); err != nil {
		return nil, err
	}
	// Row 2 times the build path, which live update (row 7) now replaces
	// for this project's source edits: on_source: rebuild keeps it.
	e.rebuildConfig = filepath.Join(o.dir, "rebuild.rebuild-path.yaml")
	if err := os.WriteFile(e.rebuildConfig, []byte(cfg+"services:\n  web:\n    on_source: rebuild\n"), 0o644); err != nil {
		return nil, err
	}
	if e.wrapper, err = calibrateStamp(self, o.dir, 21); err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	e.stack = stack{dir: filepath.Join(o.dir, "project"), name: "rbbench" + randomHex(4), port: port}
	h.log("generating %s (%s)", e.stack.dir, o.layout)
	if err := generate(e.stack.dir, o.layout, port); err != nil {
		return nil, err
	}
	h.log("docker compose up --build (%s)", e.stack.name)
	t := time.Now()
	if _, err := e.stack.compose("up", "-d", "--build", "--quiet-pull"); err != nil {
		h.cleanup()
		return nil, err
	}
	h.built = time.Since(t)
	return h, nil
}

// cleanup removes the project's containers, networks, volumes and images,
// including the images earlier rebuilds left dangling.
func (h *harness) cleanup() {
	h.cleaned.Do(h.removeProject)
}

func (h *harness) removeProject() {
	s := h.env.stack
	if err := s.down(); err != nil {
		h.log("cleanup: %v", err)
	}
	out, _ := runCmd("", nil, "docker", "image", "ls", "-a", "-q", "--filter", "label=com.docker.compose.project="+s.name)
	if ids := strings.Fields(out); len(ids) > 0 {
		_, _ = runCmd("", nil, append([]string{"docker", "image", "rm", "-f"}, ids...)...)
	}
	_ = os.RemoveAll(h.env.stateDir)
}

// reset puts the project tree back on branch main, clean, and with up the
// stack back in step with it (compose watch needs that done for it;
// rebuildd does it itself at start).
func (h *harness) reset(up bool) error {
	d := h.env.stack.dir
	if err := git(d, "checkout", "-q", "-f", "main"); err != nil {
		return err
	}
	if err := git(d, "clean", "-q", "-f", "-d", "-e", "node_modules", "-e", "compose.yaml", "-e", "compose.watch.yaml", "-e", "compose.sync.yaml"); err != nil {
		return err
	}
	if !up {
		return nil
	}
	_, err := h.env.stack.compose("up", "-d", "--build")
	return err
}

func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	mod := strings.TrimSpace(string(out))
	if err != nil || mod == "" || mod == os.DevNull {
		return "", fmt.Errorf("run bench from inside the rebuildd module (go env GOMOD: %q, %v)", mod, err)
	}
	return filepath.Dir(mod), nil
}

func checkEngine() error {
	if _, err := runCmd("", nil, "docker", "info", "--format", "{{.ServerVersion}}"); err != nil {
		return fmt.Errorf("no Docker engine answers; start one (or set DOCKER_HOST): %w", err)
	}
	if _, err := runCmd("", nil, "docker", "image", "inspect", baseImage); err != nil {
		return fmt.Errorf("base image %s is missing: run scripts/install-test-deps.sh as root", baseImage)
	}
	return nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
