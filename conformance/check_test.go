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
//     its stage, or in a stage built FROM or reading a re-run stage);
//   - and the layer and the RUN after it agree with what re-ran (checkLayer).
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
	return append(problems, checkLayer(st, res, rerun)...)
}

// follows reports whether the step at line l re-running is explained by
// another re-run step: an earlier one in its stage, one in the stage its
// FROM builds on, or one in a stage it reads (COPY --from, RUN
// --mount=from).
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
	for _, j := range s.reads(in) {
		if stageRan(j) {
			return true
		}
	}
	return false
}

// reads lists the stages an instruction reads: COPY --from a stage's name
// or index, RUN --mount=from a stage's name (BuildKit looks a mount's from=
// up by name only; "0" there is an image).
func (s stages) reads(in instr) []int {
	var out []int
	if j, ok := s.index[strings.ToLower(in.from)]; ok && in.from != "" {
		out = append(out, j)
	}
	for _, f := range in.mountFrom {
		if _, err := strconv.Atoi(f); err == nil {
			continue
		}
		if j, ok := s.index[strings.ToLower(f)]; ok {
			out = append(out, j)
		}
	}
	return out
}

// entry is where stage u's result enters another stage: at line (its
// FROM line when the stage is built FROM u).
type entry struct{ u, line int }

// entries lists what enters stage v: the stage its FROM names, and each
// stage one of its instructions reads.
func (s stages) entries(v int) []entry {
	var out []entry
	for _, in := range s.ins {
		if in.stage != v {
			continue
		}
		if b, ok := s.bases[v]; ok && in.cmd == "from" {
			out = append(out, entry{b, in.line})
		}
		for _, j := range s.reads(in) {
			out = append(out, entry{j, in.line})
		}
	}
	return out
}

// flowsInto reports whether stage u's result reaches stage v's: u is v, or
// enters v, or a stage it flows into does. Generated Dockerfiles read
// earlier stages only, so the recursion ends.
func (s stages) flowsInto(u, v int) bool {
	if u == v {
		return true
	}
	for _, e := range s.entries(v) {
		if e.u != v && s.flowsInto(u, e.u) {
			return true
		}
	}
	return false
}

// after reports whether the step at line x follows the step at line y, as
// docs/design.md defines "follows", written here from the Dockerfile
// alone: later in y's stage, or at or after a point where the result of
// y's stage (or of a stage it flows into) enters x's stage.
func (s stages) after(x, y int) bool {
	sx, sy := s.byLine[x].stage, s.byLine[y].stage
	if sx == sy && x > y {
		return true
	}
	for _, e := range s.entries(sx) {
		if e.line <= x && s.flowsInto(sy, e.u) {
			return true
		}
	}
	return false
}

// isContext reports whether an instruction reads the build context: COPY
// or ADD without --from (dfGen writes no URLs or heredocs), or a RUN with
// a context bind mount.
func isContext(in instr) bool {
	return (in.cmd == "copy" || in.cmd == "add") && in.from == "" || in.cmd == "run" && in.ctxMount
}

// checkLayer compares the model's layer and "RUN after" with the steps
// Docker re-ran (dfGen makes every re-run step change what later stages
// read, so the re-run steps are exactly what follows the changed inputs):
//
//   - deps exactly when Docker re-ran a RUN and, after it, a context
//     input; then the deps RUN Classify names re-ran, and a context input
//     after it did;
//   - source: the deciding input has a RUN after it exactly when Docker
//     re-ran a RUN, and that RUN re-ran.
func checkLayer(st stages, res dockerfile.Result, rerun map[int]bool) []string {
	var runs, ctxs []int
	for _, l := range sortedLines(rerun) {
		in := st.byLine[l]
		if in.cmd == "run" {
			runs = append(runs, l)
		}
		if isContext(in) {
			ctxs = append(ctxs, l)
		}
	}
	ctxAfter := func(r int) (int, bool) {
		for _, x := range ctxs {
			if st.after(x, r) {
				return x, true
			}
		}
		return 0, false
	}
	evidence := ""
	for _, r := range runs {
		if x, ok := ctxAfter(r); ok {
			evidence = fmt.Sprintf("Docker re-ran RUN at line %d and then context input at line %d", r, x)
			break
		}
	}
	in := res.Input
	switch {
	case in == nil:
		return nil // checkReruns has said so
	case res.Impact == dockerfile.ImpactDeps && evidence == "":
		return []string{fmt.Sprintf("rebuildd says deps (RUN at line %d), but Docker re-ran no RUN followed by a re-run context input (re-ran RUNs %v, context inputs %v)", in.DepsRun.Line, runs, ctxs)}
	case res.Impact == dockerfile.ImpactDeps:
		if _, ok := ctxAfter(in.DepsRun.Line); !rerun[in.DepsRun.Line] || !ok {
			return []string{fmt.Sprintf("rebuildd's deps RUN at line %d did not re-run, or no re-run context input follows it", in.DepsRun.Line)}
		}
	case evidence != "":
		return []string{"rebuildd says source, but " + evidence}
	case (in.RunAfter != nil) != (len(runs) > 0):
		return []string{fmt.Sprintf("rebuildd's RUN after the input is %v, but the RUNs Docker re-ran are %v", in.RunAfter, runs)}
	case in.RunAfter != nil && !rerun[in.RunAfter.Line]:
		return []string{fmt.Sprintf("rebuildd's RUN after the input (line %d) did not re-run", in.RunAfter.Line)}
	}
	return nil
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
