package conformance

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/rebuildd/rebuildd/dockerfile"
)

// stages is what the oracle knows about a Dockerfile's stages from the
// builders' point of view, read from the file itself (not from the package
// under test): which stage each instruction belongs to and what each stage
// builds on.
type stages struct {
	ins    []instr
	byLine map[int]instr
	index  map[string]int // stage name or index (as a string) -> index
	bases  map[int]int    // stage -> the stage its FROM names (absent: an image)
}

// newStages reads the stages of ins.
func newStages(ins []instr) stages {
	s := stages{ins: ins, byLine: map[int]instr{}, index: map[string]int{}, bases: map[int]int{}}
	names := map[string]int{} // FROM names stages by name only: "FROM 0" is an image
	for _, in := range ins {
		s.byLine[in.line] = in
		if in.cmd != "from" {
			continue
		}
		if j, ok := names[strings.ToLower(in.base)]; ok {
			s.bases[in.stage] = j
		}
		if in.name != "" {
			names[in.name] = in.stage
			s.index[in.name] = in.stage
		}
		s.index[strconv.Itoa(in.stage)] = in.stage
	}
	return s
}

// checkReruns compares the steps a builder re-ran after rel changed (lines,
// already limited to the chain stages) with what the model says:
//
//   - ignored or unused: nothing re-runs;
//   - deps or source: every chain input that reads rel re-ran, the deciding
//     input Classify names is one of them, the first re-run step is the
//     first of them, and every other re-run step follows from one (later in
//     its stage, or in a stage built FROM or COPY --from a re-run stage).
//
// It returns one sentence per problem.
func checkReruns(an *dockerfile.Analysis, st stages, res dockerfile.Result, rel string, rerun map[int]bool) []string {
	lines := sortedLines(rerun)
	switch res.Impact {
	case dockerfile.ImpactIgnored, dockerfile.ImpactUnused:
		if len(lines) > 0 {
			return []string{fmt.Sprintf("rebuildd says %s, but Docker re-ran lines %v", res.Impact, lines)}
		}
		return nil
	case dockerfile.ImpactDeps, dockerfile.ImpactSource:
	default:
		return []string{fmt.Sprintf("impact %s is not expected for a context file", res.Impact)}
	}
	var problems []string
	readers := map[int]bool{}
	for _, in := range an.Inputs {
		if in.Reads(rel) {
			readers[in.Line] = true
			if !rerun[in.Line] {
				problems = append(problems, fmt.Sprintf("rebuildd says %s at line %d reads it, but Docker kept it cached", in.Kind, in.Line))
			}
		}
	}
	if res.Input == nil || !readers[res.Input.Line] {
		problems = append(problems, fmt.Sprintf("Classify's deciding input %v does not read the path", res.Input))
	}
	if len(lines) == 0 {
		return append(problems, fmt.Sprintf("rebuildd says %s, but Docker re-ran nothing", res.Impact))
	}
	if first := sortedLines(readers); len(first) > 0 && first[0] != lines[0] {
		problems = append(problems, fmt.Sprintf("the first re-run step is line %d, rebuildd's first reader is line %d", lines[0], first[0]))
	}
	for _, l := range lines {
		if !readers[l] && !st.follows(l, rerun) {
			problems = append(problems, fmt.Sprintf("Docker re-ran line %d, which neither reads the path (says rebuildd) nor follows a re-run step", l))
		}
	}
	return problems
}

// follows reports whether the step at line l re-running is explained by
// another re-run step: an earlier one in its stage, one in the stage its
// FROM builds on, or one in the stage it copies --from.
func (s stages) follows(l int, rerun map[int]bool) bool {
	in := s.byLine[l]
	stageRan := func(stage int) bool {
		for _, o := range s.ins {
			if o.stage == stage && rerun[o.line] {
				return true
			}
		}
		return false
	}
	for _, o := range s.ins {
		if o.stage == in.stage && o.line < l && rerun[o.line] {
			return true
		}
	}
	for st := in.stage; ; {
		b, ok := s.bases[st]
		if !ok {
			break
		}
		if stageRan(b) {
			return true
		}
		st = b
	}
	if j, ok := s.index[in.from]; ok && in.from != "" {
		return stageRan(j)
	}
	return false
}

// chainOnly keeps the re-run lines of chain stages: the legacy builder also
// builds the stages before the target that the target never uses, and what
// happens there does not reach the image.
func chainOnly(rerun map[int]bool, st stages, an *dockerfile.Analysis) map[int]bool {
	chain := map[int]bool{}
	for _, s := range an.Stages {
		chain[s.Index] = true
	}
	out := map[int]bool{}
	for l := range rerun {
		if chain[st.byLine[l].stage] {
			out[l] = true
		}
	}
	return out
}

func sortedLines(m map[int]bool) []int {
	out := make([]int, 0, len(m))
	for l := range m {
		out = append(out, l)
	}
	slices.Sort(out)
	return out
}
