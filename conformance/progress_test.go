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
	name  string // for FROM: the AS name, lower-case ("" when unnamed)
	base  string // for FROM: the image or stage it starts from
	from  string // for COPY: the --from value ("" when none)
	// mountFrom are the from= values of a RUN's mounts; ctxMount says a
	// RUN binds the context (a type=bind mount without from=).
	mountFrom []string
	ctxMount  bool
	mark      string // the generator's unique marker (see mark), "" for FROM and ARG
}

// instructions lists the Dockerfile's instructions in order, with BuildKit's
// own parser so line numbers match what the dockerfile package reports.
func instructions(src string) ([]instr, error) {
	res, err := parser.Parse(strings.NewReader(src))
	if err != nil {
		return nil, fmt.Errorf("parse generated Dockerfile: %w", err)
	}
	var out []instr
	stage := -1
	for _, n := range res.AST.Children {
		cmd := strings.ToLower(n.Value)
		if cmd == "from" {
			stage++
		}
		in := instr{line: n.StartLine, cmd: cmd, stage: stage}
		if cmd != "from" && cmd != "arg" {
			in.mark = mark(n.Original)
		}
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
			if v, ok := strings.CutPrefix(fl, "--mount="); ok {
				in.readMount(v)
			}
		}
		out = append(out, in)
	}
	return out, nil
}

// readMount reads one --mount value (type=bind,from=s0,source=/o,...):
// the stage it reads, or that it binds the context (a bind, the default
// type, without from=).
func (in *instr) readMount(v string) {
	typ, from := "bind", ""
	for _, kv := range strings.Split(v, ",") {
		k, val, _ := strings.Cut(kv, "=")
		switch strings.ToLower(k) {
		case "type":
			typ = val
		case "from":
			from = val
		}
	}
	switch {
	case from != "":
		in.mountFrom = append(in.mountFrom, from)
	case typ == "bind":
		in.ctxMount = true
	}
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
	bkVertex = regexp.MustCompile(`^#(\d+) \[[^\]]*\] (.*)$`)
	bkStatus = regexp.MustCompile(`^#(\d+) (CACHED|DONE|ERROR)`)
	marker   = regexp.MustCompile(`/[wafrb]\d+`)
)

// mark returns the last of the unique markers dfGen puts in every
// instruction it writes (/w3/, /a4/, /f5/, /r6, /b7): a destination or an
// output file, which BuildKit's ARG expansion never touches.
func mark(text string) string {
	m := marker.FindAllString(text, -1)
	if len(m) == 0 {
		return ""
	}
	return m[len(m)-1]
}

// buildkitReruns reads BuildKit's plain progress ("#6 [svc s0 2/3] COPY src
// /w1/", later "#6 CACHED" or "#6 DONE 0.4s") and returns the lines of the
// steps that ran. Steps are matched to lines by their marker, not by
// BuildKit's "k/n" numbering: that numbering drops the stage label when the
// target builds alone, and counts an ARG in some stages and not in others,
// so it cannot be trusted to name a line. A step whose marker is in no
// instruction fails loudly.
func buildkitReruns(out string, st stages) (map[int]bool, error) {
	lines := map[string]int{}
	for _, in := range st.ins {
		if in.mark != "" {
			lines[in.mark] = in.line
		}
	}
	vertex := map[string]int{} // #N -> line
	ran, cached := map[string]bool{}, map[string]bool{}
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		if m := bkVertex.FindStringSubmatch(line); m != nil {
			mk := mark(m[2])
			if mk == "" {
				continue // FROM, [internal] loads, exporting: not steps of ours
			}
			l, ok := lines[mk]
			if !ok {
				return nil, fmt.Errorf("BuildKit step %q matches no instruction of the Dockerfile", line)
			}
			vertex[m[1]] = l
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
		if ran[id] && !cached[id] {
			rerun[l] = true
		}
	}
	return rerun, nil
}
