package advice

import (
	"fmt"
	"path"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
)

// missingCacheMounts reports package-manager RUNs without a BuildKit cache
// mount: when the step re-runs, the manager downloads everything again
// instead of reusing what the last build fetched (the article: "cache
// mounts are essential"). It is a warn when the RUN sits on top of context
// files, because then it re-runs in the dev loop whenever they change; an
// info when only a Dockerfile edit above it re-runs it.
func missingCacheMounts(s *subject) []Finding {
	var out []Finding
	for _, run := range s.doc.runs(s.chain) {
		mgrs := cachedIn(run.shell)
		for _, m := range mgrs {
			if covered(run, m, len(mgrs)) {
				continue
			}
			out = append(out, s.cacheFinding(run, m))
		}
	}
	return out
}

// covered reports whether the RUN already caches the manager's downloads: a
// cache mount on one of its usual targets, or, when the RUN uses only this
// manager, any cache mount at all (the user may have moved the cache with
// an environment variable; guessing otherwise would nag).
func covered(run *instr, m *manager, managersInRun int) bool {
	caches := 0
	for _, mt := range run.mounts {
		if mt.Type != instructions.MountTypeCache {
			continue
		}
		caches++
		for _, t := range m.mountTargets() {
			if path.Clean(mt.Target) == t {
				return true
			}
		}
	}
	return managersInRun == 1 && caches > 0
}

func (s *subject) cacheFinding(run *instr, m *manager) Finding {
	file, line := s.at(run.line)
	f := Finding{Code: CodeMissingCacheMount, Severity: Info, File: file, Line: line}
	when := "only when the Dockerfile above it changes"
	if below := s.inputBelow(run); below != nil {
		f.Severity = Warn
		when = fmt.Sprintf("whenever a file that %s (line %d) copies changes", below.brief(), s.ln(below.line))
	}
	f.Message = fmt.Sprintf("%s (line %d) has no cache mount for %s: it re-runs %s, and %s then downloads everything again",
		run.brief(), s.ln(run.line), m.name, when, m.name)
	f.Fix = s.cacheFix(run, m)
	return f
}

// inputBelow returns the nearest context input the RUN runs on top of:
// the one whose changes most often re-run it.
func (s *subject) inputBelow(run *instr) *instr {
	var below *instr
	for _, in := range s.an.Inputs {
		ci := s.doc.instrAt(in.Line)
		if ci != nil && ci != run && s.doc.follows(run, ci) {
			below = ci
		}
	}
	return below
}

// cacheFix is the RUN with the manager's mounts added, plus what else the
// mount needs to work.
func (s *subject) cacheFix(run *instr, m *manager) string {
	rest := run.full()
	if len(rest) >= 3 && strings.EqualFold(rest[:3], "RUN") {
		rest = strings.TrimSpace(rest[3:])
	}
	var b strings.Builder
	b.WriteString("add the cache mount to the RUN:\nRUN ")
	for _, mt := range m.mounts {
		b.WriteString(mt + " \\\n    ")
	}
	b.WriteString(rest)
	if m.note != "" {
		b.WriteString("\n" + m.note)
	}
	// Docker 20.10 and later parse RUN --mount with their built-in
	// frontend; only older engines need a syntax line for it, and that line
	// costs a registry fetch at every build (syntax.go).
	if fe, _ := builtinFrontend(s.engine); fe.minor < 2 && s.doc.syntax == "" && !s.doc.ignoreAll[CodeSyntaxLine] {
		fmt.Fprintf(&b, "\nand, since %s has no RUN --mount, make `# syntax=docker/dockerfile:1` the first line"+
			" (fetched from a registry at every build), or build with Docker 20.10 or later", fe.describe())
	}
	b.WriteString("\n(cache mounts need BuildKit; docker-compose v1 uses it with DOCKER_BUILDKIT=1 COMPOSE_DOCKER_CLI_BUILD=1)")
	return b.String()
}
