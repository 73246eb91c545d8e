package advice

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/rebuildd/rebuildd/dockerfile"
)

// installAfterSource reports a RUN that installs dependencies on top of a
// COPY/ADD that brings in source files: BuildKit re-runs a step whenever a
// layer below it changes, so every source edit re-runs the whole install
// (the article's "cache busted by trivial line changes").
func installAfterSource(s *subject) []Finding {
	var out []Finding
	for _, run := range s.doc.runs(s.chain) {
		mgrs := installsIn(run.shell)
		if len(mgrs) == 0 {
			continue
		}
		in, copyInstr := s.sourceInputBelow(run)
		if in == nil {
			continue
		}
		file, line := s.at(run.line)
		f := Finding{
			Code: CodeInstallAfterSource, Severity: Warn, File: file, Line: line,
			Message: fmt.Sprintf("%s (line %d) runs after %s (line %d), which copies source files: every source edit re-runs the %s install",
				run.brief(), s.ln(run.line), copyInstr.brief(), s.ln(copyInstr.line), managerNames(mgrs)),
			Fix: s.installFix(run, copyInstr, in, mgrs),
		}
		// Live update (docs/design.md): the same move may be all that
		// keeps source edits from syncing into the running containers.
		if gain := s.syncGain(run, copyInstr, s.manifestsFor(in, mgrs)); gain != "" {
			f.Message += "; moved above it, source edits would sync into the running containers instead of rebuilding (" + gain + ")"
		}
		out = append(out, f)
	}
	return out
}

// sourceInputBelow returns the first chain input that run follows and that
// reads more than dependency manifests, with its instruction.
func (s *subject) sourceInputBelow(run *instr) (*dockerfile.Input, *instr) {
	for _, in := range s.an.Inputs {
		ci := s.doc.instrAt(in.Line)
		if ci == nil || ci == run || !s.doc.follows(run, ci) {
			continue
		}
		if s.bringsSource(in) {
			return in, ci
		}
	}
	return nil, nil
}

// bringsSource reports whether the input reads a file that is not a
// dependency manifest. With the context walked, that is decided on the files
// the engine would really receive; a context that cannot be walked falls
// back to the source patterns. The Dockerfile and ignore files are not
// source: editing them re-runs everything whatever the order.
func (s *subject) bringsSource(in *dockerfile.Input) bool {
	if scan := s.files(); scan != nil && len(scan.files) > 0 {
		df, _ := filepath.Rel(s.context, s.dockerfile)
		for _, f := range scan.files {
			base := path.Base(f.rel)
			if f.rel == filepath.ToSlash(df) || strings.HasSuffix(base, ".dockerignore") || isManifest(base) {
				continue
			}
			if in.Reads(f.rel) {
				return true
			}
		}
		return false
	}
	for _, src := range in.Sources {
		if src == "." || !isManifest(path.Base(src)) {
			return true
		}
	}
	return false
}

// installFix spells out the reordering: the manifests the context holds,
// the install, then the source. A manager that reads no manifest (apt) only
// needs to move above the COPY.
func (s *subject) installFix(run, copyInstr *instr, in *dockerfile.Input, mgrs []*manager) string {
	manifests := s.manifestsFor(in, mgrs)
	if len(manifests) == 0 {
		return fmt.Sprintf("move %s (line %d) above %s (line %d): it reads nothing from the context",
			run.brief(), s.ln(run.line), copyInstr.brief(), s.ln(copyInstr.line))
	}
	return fmt.Sprintf("copy the dependency manifests first and move %s (line %d) above %s (line %d):\nCOPY %s ./\n%s\n%s",
		run.brief(), s.ln(run.line), copyInstr.brief(), s.ln(copyInstr.line), strings.Join(manifests, " "), run.full(), copyInstr.full())
}

// manifestsFor lists the manifests of the managers that the context holds
// where the input copies from, in each manager's order; when none is there,
// the manager's usual names, so the fix is still concrete.
func (s *subject) manifestsFor(in *dockerfile.Input, mgrs []*manager) []string {
	dir := ""
	for _, src := range in.Sources {
		if st, err := os.Stat(s.abs(src)); err == nil && st.IsDir() && src != "." {
			dir = src
			break
		}
	}
	entries, _ := os.ReadDir(s.abs(dir))
	seen := map[string]bool{}
	var out, usual []string
	add := func(list *[]string, name string) {
		if !seen[name] {
			seen[name] = true
			*list = append(*list, name)
		}
	}
	for _, m := range mgrs {
		for _, g := range m.manifests {
			for _, e := range entries {
				if globMatch(g, e.Name()) {
					add(&out, path.Join(dir, e.Name()))
				}
			}
		}
	}
	for _, m := range mgrs {
		for _, g := range m.manifests {
			if !strings.ContainsAny(g, "*?[") && len(usual) < 2 {
				usual = append(usual, path.Join(dir, g))
			}
		}
	}
	if len(out) == 0 {
		return usual
	}
	return out
}

// abs turns a context-relative slash path into an absolute one.
func (s *subject) abs(rel string) string {
	if rel == "" || rel == "." {
		return s.context
	}
	return path.Join(s.context, rel)
}

func managerNames(mgrs []*manager) string {
	names := make([]string, len(mgrs))
	for i, m := range mgrs {
		names[i] = m.name
	}
	return strings.Join(names, " and ")
}

// shortInstr is an instruction for a message: whitespace collapsed, long
// commands cut, so a finding stays one readable line.
func shortInstr(text string) string {
	const max = 72
	t := strings.Join(strings.Fields(text), " ")
	if len(t) > max {
		t = t[:max-3] + "..."
	}
	return t
}
