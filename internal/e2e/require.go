package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// StrictEnv is the environment variable that turns e2e skips into failures.
// CI sets it to 1 when an engine answers, so a broken rig cannot pass as
// "all skipped".
const StrictEnv = "REBUILDD_E2E"

// engineTimeout bounds the "is there an engine?" probe. An absent engine
// fails at once (no socket, connection refused); the bound only matters for a
// socket that accepts but never answers, and 10s is far above the ~50ms a
// healthy local engine needs even on a loaded 2-core machine.
const engineTimeout = 10 * time.Second

// Strict reports whether REBUILDD_E2E=1 is set: missing prerequisites are
// failures, not skips.
func Strict() bool { return os.Getenv(StrictEnv) == "1" }

// skipOrFail skips the test, or fails it in strict mode, with one message
// that says what is missing and how to get it.
func skipOrFail(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if Strict() {
		t.Fatalf("%s (%s=1 is set, so this is a failure, not a skip)", msg, StrictEnv)
	}
	t.Skip(msg)
}

var engine struct {
	once    sync.Once
	version string
	err     error
}

// EngineVersion returns the engine's version, probing it once per test
// binary. The error says why no engine answered.
func EngineVersion() (string, error) {
	engine.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), engineTimeout)
		defer cancel()
		out, err := run(ctx, nil, "", "docker", "version", "--format", "{{.Server.Version}}")
		engine.version, engine.err = strings.TrimSpace(out), err
		if err == nil && engine.version == "" {
			engine.err = errors.New("docker version printed no server version")
		}
	})
	return engine.version, engine.err
}

// Require skips the test when no Docker engine answers (fails it when
// REBUILDD_E2E=1) and when -short is given.
func Require(t testing.TB) {
	t.Helper()
	if testing.Short() {
		t.Skip("e2e test skipped in -short mode")
	}
	if _, err := EngineVersion(); err != nil {
		skipOrFail(t, "e2e: no Docker engine reachable (start dockerd or set DOCKER_HOST): %v", err)
	}
}

// Docker runs the docker CLI and returns its combined output, failing the
// test with that output when the command fails.
func Docker(t testing.TB, args ...string) string {
	t.Helper()
	out, err := TryDocker(args...)
	if err != nil {
		t.Fatalf("%v", err)
	}
	return out
}

// TryDocker runs the docker CLI and returns its combined output; the error
// names the command and carries its output.
func TryDocker(args ...string) (string, error) {
	return run(context.Background(), nil, "", "docker", args...)
}

// run executes name args in dir with env appended to the process
// environment and returns the combined output. The error quotes the command
// line and the output's tail so a failed test shows why without a second
// run, and says when the machine, not the code, failed (Classify).
func run(ctx context.Context, env []string, dir, name string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	err := cmd.Run()
	out := buf.String()
	if err != nil {
		err = fmt.Errorf("run %q: %w\n%s", strings.Join(append([]string{name}, args...), " "), err, tail(out, 40))
		return out, Classify(err)
	}
	return out, nil
}

// tail returns the last n lines of s: build output is long and the cause of a
// failure is at its end.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = append([]string{fmt.Sprintf("... (%d lines cut)", len(lines)-n)}, lines[len(lines)-n:]...)
	}
	return strings.Join(lines, "\n")
}
