package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// stampFlag makes the harness binary a transparent wrapper around the
// Compose CLI: REBUILDD_COMPOSE_COMMAND (setup.go) is
// `<harness> -stamp FILE -- docker compose`, so every command rebuildd runs
// appends "<unix ns> <argv>" to FILE and then becomes the real command
// through execve (same pid, environment, directory and output). The stamp
// is the moment rebuildd's build command started, seen from outside
// rebuildd; calibrateStamp measures what the wrapper itself adds.
const stampFlag = "-stamp"

// runStamp is the whole wrapper. It runs before flag parsing so that
// nothing but the Go runtime's start-up sits between exec and the stamp.
func runStamp(args []string) error {
	now := time.Now()
	if len(args) < 3 || args[1] != "--" {
		return fmt.Errorf("usage: %s FILE -- COMMAND [ARG...]", stampFlag)
	}
	file, argv := args[0], args[2:]
	f, err := os.OpenFile(file, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("stamp %q: %w", file, err)
	}
	// One write per line with O_APPEND: concurrent wrappers never interleave.
	_, err = fmt.Fprintf(f, "%d %s\n", now.UnixNano(), strings.Join(argv, " "))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("stamp %q: %w", file, err)
	}
	path, err := exec.LookPath(argv[0])
	if err != nil {
		return fmt.Errorf("stamp: %w", err)
	}
	return syscall.Exec(path, argv, os.Environ())
}

// stamp is one command the wrapper saw.
type stamp struct {
	at   time.Time
	argv []string
}

// sub is the compose subcommand of the stamp ("build", "up", "version"):
// the first argument after the project options that is not a flag value.
func (s stamp) sub() string {
	for i := 0; i < len(s.argv); i++ {
		a := s.argv[i]
		switch {
		case a == "-f" || a == "-p" || a == "--project-directory" || a == "--profile" || a == "--env-file":
			i++
		case a == "docker" || a == "compose" || a == "docker-compose" || strings.HasPrefix(a, "-"):
		default:
			return a
		}
	}
	return ""
}

// readStamps parses the stamp file; a missing file is no stamps.
func readStamps(file string) ([]stamp, error) {
	f, err := os.Open(file)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read stamps %q: %w", file, err)
	}
	defer f.Close()
	return parseStamps(bufio.NewScanner(f))
}

func parseStamps(sc *bufio.Scanner) ([]stamp, error) {
	var out []stamp
	for n := 1; sc.Scan(); n++ {
		f := strings.Fields(sc.Text())
		if len(f) < 2 {
			continue
		}
		ns, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("stamp line %d: %w", n, err)
		}
		out = append(out, stamp{at: time.Unix(0, ns), argv: f[1:]})
	}
	return out, sc.Err()
}

// builds returns the build commands stamped in [from, to).
func builds(ss []stamp, from, to time.Time) []stamp {
	var out []stamp
	for _, s := range ss {
		if s.sub() == "build" && !s.at.Before(from) && s.at.Before(to) {
			out = append(out, s)
		}
	}
	return out
}

// calibrateStamp measures the wrapper's own cost: from the harness calling
// exec to the stamp, for `-stamp FILE -- true`, median of n runs. It is
// reported beside rebuildd's own part, which includes it.
func calibrateStamp(self, dir string, n int) (time.Duration, error) {
	file := dir + "/calibrate.stamps"
	defer os.Remove(file)
	var ds []time.Duration
	for i := 0; i < n; i++ {
		start := time.Now()
		if err := exec.Command(self, stampFlag, file, "--", "true").Run(); err != nil {
			return 0, fmt.Errorf("calibrate stamp wrapper: %w", err)
		}
		ss, err := readStamps(file)
		if err != nil || len(ss) != i+1 {
			return 0, fmt.Errorf("calibrate stamp wrapper: %d stamps after %d runs (%v)", len(ss), i+1, err)
		}
		ds = append(ds, ss[i].at.Sub(start))
	}
	return median(ds), nil
}
