package conformance

import (
	"bufio"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

// instr is one instruction of a Dockerfile as the builders number it.
type instr struct {
	line  int    // 1-based line of its first line
	cmd   string // lower-case instruction: from, copy, run, ...
	stage int    // index of its stage (the FROM before it)
	k     int    // 1-based position in its stage, FROM = 1 (BuildKit's [stage k/n])
	name  string // for FROM: the AS name, lower-case ("" when unnamed)
	base  string // for FROM: the image or stage it starts from
	from  string // for COPY: the --from value ("" when none)
}

// instructions lists the Dockerfile's instructions in order, with BuildKit's
// own parser so line numbers match what the dockerfile package reports.
func instructions(src string) ([]instr, error) {
	res, err := parser.Parse(strings.NewReader(src))
	if err != nil {
		return nil, fmt.Errorf("parse generated Dockerfile: %w", err)
	}
	var out []instr
	stage, k := -1, 0
	for _, n := range res.AST.Children {
		cmd := strings.ToLower(n.Value)
		if cmd == "from" {
			stage, k = stage+1, 0
		}
		k++
		in := instr{line: n.StartLine, cmd: cmd, stage: stage, k: k}
		if f := strings.Fields(n.Original); cmd == "from" && len(f) >= 2 {
			in.base = f[1]
			if len(f) >= 4 && strings.EqualFold(f[2], "as") {
				in.name = strings.ToLower(f[3])
			}
		}
		for _, fl := range n.Flags {
			if v, ok := strings.CutPrefix(fl, "--from="); ok {
				in.from = v
			}
		}
		out = append(out, in)
	}
	return out, nil
}

var legacyStep = regexp.MustCompile(`^Step (\d+)/\d+ : `)

// legacyReruns reads `docker build` output of the legacy builder and returns
// the lines of the instructions that missed the cache. Each step prints
// "Step N/M : ..." (N counts instructions from the top of the file, FROM
// included) and " ---> Using cache" when it hit; FROM steps never print it
// and are not counted.
func legacyReruns(out string, ins []instr) (map[int]bool, error) {
	rerun := map[int]bool{}
	step, cached := 0, false
	flush := func() error {
		if step == 0 {
			return nil
		}
		if step > len(ins) {
			return fmt.Errorf("legacy output names step %d of a %d-instruction Dockerfile", step, len(ins))
		}
		if in := ins[step-1]; in.cmd != "from" && !cached {
			rerun[in.line] = true
		}
		return nil
	}
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		if m := legacyStep.FindStringSubmatch(line); m != nil {
			if err := flush(); err != nil {
				return nil, err
			}
			step, _ = strconv.Atoi(m[1])
			cached = false
		} else if strings.TrimSpace(line) == "---> Using cache" {
			cached = true
		}
	}
	return rerun, flush()
}

var (
	bkVertex = regexp.MustCompile(`^#(\d+) \[(?:\S+ )?(?:(\S+) )?(\d+)/(\d+)\] `)
	bkStatus = regexp.MustCompile(`^#(\d+) (CACHED|DONE|ERROR)`)
)

// buildkitReruns reads BuildKit's plain progress ("#6 [svc s0 2/3] COPY src
// /w1/", later "#6 CACHED" or "#6 DONE 0.4s"; Compose puts the service name
// first in the brackets) and returns the lines of the steps that ran. When
// the target is the only stage it builds (no other stage in its chain),
// BuildKit prints no stage label ("[svc 2/5]").
// BuildKit numbers the steps of each stage ("stage-N" when unnamed) without
// ARG, and without FROM when the stage builds on another stage; the
// numbering is checked against the stage's total so a change in it fails
// loudly instead of pointing at the wrong line.
func buildkitReruns(out string, st stages) (map[int]bool, error) {
	steps := bkSteps(st)
	vertex := map[string]int{} // #N -> line
	ran, cached := map[string]bool{}, map[string]bool{}
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		if m := bkVertex.FindStringSubmatch(line); m != nil {
			if strings.HasPrefix(line[len(m[0]):], "FROM ") {
				// FROM never counts as a re-run, and BuildKit numbers the
				// FROM of a stage the target does not use against a total
				// of its own ([s0 1/2] for a 4-instruction stage).
				continue
			}
			k, _ := strconv.Atoi(m[3])
			n, _ := strconv.Atoi(m[4])
			list, ok := steps[m[2]]
			if !ok || len(list) != n || k < 1 || k > n {
				return nil, fmt.Errorf("BuildKit step [%s %d/%d] does not fit the Dockerfile (stage steps %v)", m[2], k, n, steps[m[2]])
			}
			vertex[m[1]] = list[k-1]
		} else if m := bkStatus.FindStringSubmatch(line); m != nil {
			if m[2] == "CACHED" {
				cached[m[1]] = true
			} else {
				ran[m[1]] = true
			}
		}
	}
	rerun := map[int]bool{}
	for id, l := range vertex {
		if ran[id] && !cached[id] && st.byLine[l].cmd != "from" {
			rerun[l] = true
		}
	}
	return rerun, nil
}

// bkSteps returns, per BuildKit stage label, the lines of the steps it
// numbers; "" is the target's, for builds of one stage.
func bkSteps(st stages) map[string][]int {
	names := map[string]bool{}
	label := map[int]string{}
	steps := map[string][]int{}
	for _, in := range st.ins {
		if in.cmd == "from" {
			label[in.stage] = "stage-" + strconv.Itoa(in.stage)
			if in.name != "" {
				label[in.stage] = in.name
			}
			onStage := names[strings.ToLower(in.base)]
			if in.name != "" {
				names[in.name] = true
			}
			if onStage {
				steps[label[in.stage]] = []int{}
				continue
			}
		}
		if in.cmd == "arg" {
			continue
		}
		steps[label[in.stage]] = append(steps[label[in.stage]], in.line)
	}
	steps[""] = steps[label[st.target]]
	return steps
}
