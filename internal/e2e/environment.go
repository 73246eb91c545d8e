package e2e

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"syscall"
	"testing"
)

// A test that fails because of the machine (the engine went away, the disk
// filled up, someone removed an image while a build used it) must say so,
// or the first run of the suite reads as a rebuildd bug. Errors of docker
// and compose commands are classified here (run wraps every one), and a
// project whose test failed checks the machine at cleanup (diagnose).

// EnvError is a failure caused by the machine, not by the code under test.
type EnvError struct {
	Cause string // what happened to the machine, in words
	Err   error
}

func (e *EnvError) Error() string {
	return fmt.Sprintf("ENVIRONMENT, not a rebuildd failure: %s: %v", e.Cause, e.Err)
}

func (e *EnvError) Unwrap() error { return e.Err }

// causeVanished is the cause of every sign of an image removed while a
// build or a container needed it: on a shared engine, a concurrent prune
// or cleanup. Project.Compose runs a build that failed so once more.
const causeVanished = "an image was removed while a build used it (a concurrent prune or cleanup)"

// envSigns are output fragments that mean the machine failed, with the
// cause to report. Matched case-insensitively.
var envSigns = []struct{ sign, cause string }{
	{"cannot connect to the docker daemon", "the Docker engine stopped answering"},
	{"is the docker daemon running", "the Docker engine stopped answering"},
	{"error during connect", "the Docker engine stopped answering"},
	{"no space left on device", "the disk is full"},
	{"unable to find image \"sha256:", causeVanished},
	{"unknown parent image id", causeVanished},
	{"failed to get digest sha256:", causeVanished},
	{"no such image: sha256:", causeVanished},
	{"reference does not exist", causeVanished},
	{"no such image: " + BaseRepository, "a base image was removed while in use (a concurrent prune or cleanup)"},
	{"too many open files", "the machine ran out of file descriptors"},
}

// Classify returns err as an *EnvError when its text shows the machine
// failed, else err itself.
func Classify(err error) error {
	if err == nil {
		return nil
	}
	var env *EnvError
	if errors.As(err, &env) {
		return err
	}
	if cause := envCause(err.Error()); cause != "" {
		return &EnvError{Cause: cause, Err: err}
	}
	return err
}

// envCause is the machine failure output shows, "" when none.
func envCause(output string) string {
	low := strings.ToLower(output)
	for _, s := range envSigns {
		if strings.Contains(low, s.sign) {
			return s.cause
		}
	}
	return ""
}

// Explain returns a line saying the machine failed when output (a failed
// command's, or rebuildd's log) shows it, "" otherwise. Tests that run
// rebuildd add it to their failure message.
func Explain(output string) string {
	if cause := envCause(output); cause != "" {
		return "ENVIRONMENT, not a rebuildd failure: " + cause
	}
	return ""
}

// minFreeBytes is the free space below which a failed test blames the disk:
// a test image is 2 MB, but the engine needs room for layers, containers
// and its own metadata; under 1 GiB builds start to fail on the
// fuse-overlayfs storage seen here.
const minFreeBytes = 1 << 30

// diagnose checks the machine after t failed and logs what it finds, so the
// failure says whether the engine, the disk or someone's cleanup was the
// cause.
func diagnose(t testing.TB) {
	t.Helper()
	for _, finding := range machineProblems() {
		t.Logf("e2e: ENVIRONMENT (may be why this test failed): %s", finding)
	}
}

// machineProblems lists what is wrong with the machine now: no engine, a
// full disk under the engine's root, base images someone removed during
// the run.
func machineProblems() []string {
	var out []string
	ctx, cancel := context.WithTimeout(context.Background(), engineTimeout)
	defer cancel()
	root, err := run(ctx, nil, "", "docker", "info", "--format", "{{.DockerRootDir}}")
	if err != nil {
		return append(out, fmt.Sprintf("the Docker engine does not answer now: %v", err))
	}
	var fs syscall.Statfs_t
	if dir := strings.TrimSpace(root); syscall.Statfs(dir, &fs) == nil {
		if free := fs.Bavail * uint64(fs.Bsize); free < minFreeBytes {
			out = append(out, fmt.Sprintf("only %d MiB free under the engine's root %s", free>>20, dir))
		}
	}
	bases.mu.Lock()
	restored := append([]string(nil), bases.restored...)
	bases.mu.Unlock()
	if len(restored) > 0 {
		out = append(out, fmt.Sprintf("someone removed base images while tests ran (restored: %s); "+
			"a build between the removal and the restore fails", strings.Join(restored, ", ")))
	}
	return out
}
