package main

import (
	"strings"
	"time"
)

// env is what the scenarios share: the binaries, the stack and where the
// rebuildd state and stamps go.
type env struct {
	self, rebuildd string // the harness (stamp wrapper) and the rebuildd binary
	work           string // harness working directory
	stack          stack
	stamps         string // stamp file of the compose wrapper
	config         string // rebuild.yaml given to rebuildd with -c (on_source: auto)
	rebuildConfig  string // the same with on_source: rebuild for the service (row 2)
	stateDir       string
	wrapper        time.Duration // the stamp wrapper's own start-up (calibrated)
}

// readyLimit bounds start-up: the initial reconcile of an up-to-date
// project and the watch set-up take seconds, but a step after a reset
// starts with a build of the whole context (minutes at 50,000 files on
// a loaded machine); compose watch without --no-up would build first.
const readyLimit = 10 * time.Minute

// rebuilddWatch starts rebuildd in watch mode with JSON logs and waits
// for its "ready" line.
func (e *env) rebuilddWatch(dir string, extra ...string) (*proc, line, error) {
	return e.rebuilddWatchWith(e.config, nil, dir, extra...)
}

// rebuilddWatchWith is rebuilddWatch with another rebuild.yaml and
// environment added.
func (e *env) rebuilddWatchWith(config string, env []string, dir string, extra ...string) (*proc, line, error) {
	argv := append([]string{e.rebuildd, "-p", e.stack.name, "-c", config, "--log-format", "json",
		"--state-dir", e.stateDir}, extra...)
	p, err := spawn("rebuildd", dir, append(append([]string(nil), composeEnv...), env...), argv...)
	if err != nil {
		return nil, line{}, err
	}
	l, _, err := p.wait(0, readyLimit, func(l line) bool { return l.msg == "ready" })
	if err != nil {
		p.stop()
		return nil, line{}, err
	}
	return p, l, nil
}

// watchWith starts one tool watching the stack's project, ready: rebuildd
// with on_source: auto, compose watch with the rebuild rules.
func (e *env) watchWith(tool string) (*proc, error) {
	if tool == toolRebuildd {
		p, _, err := e.rebuilddWatch(e.stack.dir)
		return p, err
	}
	p, _, err := e.composeWatch(watchFile)
	return p, err
}

// The develop.watch files of the generated project (project.go).
const (
	watchFile = "compose.watch.yaml" // rebuild rules
	syncFile  = "compose.sync.yaml"  // a sync rule for src
)

// composeWatch starts `docker compose watch --no-up` with the
// develop.watch rules of rules and waits for "Watch enabled". --no-up: the
// stack is already up; without it compose builds and recreates first.
func (e *env) composeWatch(rules string) (*proc, line, error) {
	p, err := spawn("docker compose watch", e.stack.dir, composeEnv, "docker", "compose", "-p", e.stack.name,
		"-f", "compose.yaml", "-f", rules, "watch", "--no-up", "--quiet")
	if err != nil {
		return nil, line{}, err
	}
	l, _, err := p.wait(0, readyLimit, func(l line) bool { return strings.Contains(l.text, "Watch enabled") })
	if err != nil {
		p.stop()
		return nil, line{}, err
	}
	return p, l, nil
}

// rebuildStarted recognises the line each tool prints when it starts a
// build; rebuildFinished the line that ends one.
func rebuildStarted(tool string) func(line) bool {
	if tool == toolRebuildd {
		return func(l line) bool { return l.msg == "build" }
	}
	return func(l line) bool { return strings.Contains(l.text, "Rebuilding service(s)") }
}

const (
	toolRebuildd = "rebuildd"
	toolCompose  = "compose watch"
)

// pending is the number of requests a tool started and has not finished:
// rebuildd logs a "decision" for each action and a "result" when it ends;
// compose watch "Rebuilding ..." and then "successfully built" or "Build
// failed".
func pending(tool string, ls []line) int {
	n := 0
	for _, l := range ls {
		switch {
		case tool == toolRebuildd && l.msg == "decision",
			tool == toolCompose && strings.Contains(l.text, "Rebuilding service(s)"):
			n++
		case tool == toolRebuildd && l.msg == "result",
			tool == toolCompose && (strings.Contains(l.text, "successfully built") || strings.Contains(l.text, "Build failed")):
			n--
		}
	}
	return n
}

// settleQuiet is how long a tool must print nothing, with nothing pending,
// before a session counts as over: above rebuildd's 2 s max_wait and
// compose's 0.5-1 s debounce, so a batch still being collected is not cut.
const settleQuiet = 3 * time.Second

// settleLimit bounds one session: a few builds of the default project.
const settleLimit = 5 * time.Minute

// settle waits until the tool is idle after the lines from mark on, then
// until the container serves again (compose recreates after its log line).
func (e *env) settle(p *proc, tool string, mark int) error {
	end := time.Now().Add(settleLimit)
	for time.Now().Before(end) {
		p.quiet(settleQuiet, time.Until(end))
		if pending(tool, p.since(mark)) <= 0 {
			break
		}
	}
	_, err := e.stack.waitAny(time.Until(end))
	return err
}
