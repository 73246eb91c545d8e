package docker

import (
	"bytes"
	"io"
	"regexp"
	"strconv"
	"strings"
)

// Progress hears what a compose command is doing, so a person watching a
// long build sees the step it is on (docs/design.md, "Conventions":
// logging). Begin and End bracket one command for one service; Step
// reports each build step once, as it starts. Calls for one service come
// from one goroutine at a time; calls for different services may overlap.
type Progress interface {
	Begin(service string, phase Phase)
	Step(service string, s Step)
	End(service string)
}

// Phase is what a compose command does to a service.
type Phase string

const (
	PhaseBuild    Phase = "building"
	PhaseRecreate Phase = "recreating"
	PhaseRestart  Phase = "restarting"
)

// Step is one build step, read from the builder's output.
type Step struct {
	// Stage is the stage as BuildKit numbers its steps per stage: its name,
	// "stage N" for an unnamed one (BuildKit says "stage-N"), "" for a
	// one-stage build and for the classic builder, which numbers the
	// steps of the whole file at once.
	Stage string
	N     int    // 3 in [3/7]; 0 for a step without a number (exporting)
	Total int    // 7 in [3/7]
	Text  string // the instruction as the builder prints it: "RUN npm ci"
}

// Label is the step's position, "[3/7]" or "[dev 3/7]"; "" when it has none.
func (s Step) Label() string {
	if s.N == 0 {
		return ""
	}
	pos := strconv.Itoa(s.N) + "/" + strconv.Itoa(s.Total)
	if s.Stage != "" {
		pos = s.Stage + " " + pos
	}
	return "[" + pos + "]"
}

// BuildKit's plain progress (what it prints when its output is not a
// terminal, as under rebuildd): "#7 [api dev 3/5] RUN npm ci". Compose v2
// puts the service name first inside the brackets; `docker build` does not.
// A vertex is printed again when its output resumes, so only the first
// line of each #N counts.
var buildkitStep = regexp.MustCompile(`^#(\d+) \[([^\]]*?) ?(\d+)/(\d+)\] (.+)$`)

// buildkitExport is the export vertex: "#12 [api] exporting to image" (or
// without the brackets): on a large image it takes seconds of its own.
var buildkitExport = regexp.MustCompile(`^#(\d+) (?:\[[^\]]*\] )?(exporting to image)$`)

// The classic builder (Compose v1, DOCKER_BUILDKIT=0): "Step 5/11 : RUN npm ci".
var classicStep = regexp.MustCompile(`^Step (\d+)/(\d+) : (.+)$`)

// StepParser turns one build's output lines into steps.
type StepParser struct {
	service string
	seen    map[string]bool // BuildKit vertices already reported
}

// NewStepParser reads the output of service's build.
func NewStepParser(service string) *StepParser {
	return &StepParser{service: service, seen: map[string]bool{}}
}

// Line returns the step a line starts, if it starts one.
func (p *StepParser) Line(line string) (Step, bool) {
	line = strings.TrimRight(line, "\r")
	if m := classicStep.FindStringSubmatch(line); m != nil {
		n, _ := strconv.Atoi(m[1])
		total, _ := strconv.Atoi(m[2])
		return Step{N: n, Total: total, Text: m[3]}, true
	}
	if m := buildkitStep.FindStringSubmatch(line); m != nil {
		if !p.first(m[1]) {
			return Step{}, false
		}
		n, _ := strconv.Atoi(m[3])
		total, _ := strconv.Atoi(m[4])
		return Step{Stage: p.stage(m[2]), N: n, Total: total, Text: m[5]}, true
	}
	if m := buildkitExport.FindStringSubmatch(line); m != nil && p.first(m[1]) {
		return Step{Text: m[2]}, true
	}
	return Step{}, false
}

// first reports whether vertex id is seen for the first time.
func (p *StepParser) first(id string) bool {
	if p.seen[id] {
		return false
	}
	p.seen[id] = true
	return true
}

// stage is the stage part of a BuildKit step label: the words before k/n
// without Compose's service name; "stage-N" (an unnamed stage) as "stage N".
func (p *StepParser) stage(words string) string {
	if rest, ok := strings.CutPrefix(words, p.service); ok && (rest == "" || rest[0] == ' ') {
		words = strings.TrimSpace(rest)
	}
	if n, ok := strings.CutPrefix(words, "stage-"); ok {
		if _, err := strconv.Atoi(n); err == nil {
			return "stage " + n
		}
	}
	return words
}

// stepWriter passes a build's output on to out and tells p about each
// step it starts. Like PrefixWriter it is written by one goroutine (the
// command's stdout and stderr are the same writer).
type stepWriter struct {
	out     io.Writer
	parser  *StepParser
	p       Progress
	service string
	part    []byte
}

func (w *stepWriter) Write(b []byte) (int, error) {
	w.part = append(w.part, b...)
	for {
		i := bytes.IndexByte(w.part, '\n')
		if i < 0 {
			break
		}
		if s, ok := w.parser.Line(string(w.part[:i])); ok {
			w.p.Step(w.service, s)
		}
		w.part = w.part[i+1:]
	}
	if w.out == nil {
		return len(b), nil
	}
	return w.out.Write(b)
}

// track brackets one command for services with Begin and End, and for a
// build reads its steps from the output on the way to out. Without a
// Progress it changes nothing.
func (c *ComposeCLI) track(services []string, phase Phase, out io.Writer) (io.Writer, func()) {
	if c.Progress == nil {
		return out, func() {}
	}
	for _, s := range services {
		c.Progress.Begin(s, phase)
	}
	end := func() {
		for _, s := range services {
			c.Progress.End(s)
		}
	}
	if phase != PhaseBuild || len(services) != 1 {
		return out, end
	}
	return &stepWriter{out: out, parser: NewStepParser(services[0]), p: c.Progress, service: services[0]}, end
}

// buildkitError is the line BuildKit prints when a vertex fails.
var buildkitError = regexp.MustCompile(`^#(\d+) ERROR`)

// FailureLines is the part of a failed build's last lines a person needs:
// from the failing step's first line on (BuildKit's vertex that printed
// ERROR, the classic builder's last "Step k/n"), without blank lines.
// When the step's start is not among the lines, all of them.
func FailureLines(tail []string) []string {
	from := 0
	for i := len(tail) - 1; i >= 0; i-- {
		if m := buildkitError.FindStringSubmatch(tail[i]); m != nil {
			from = i
			for j := i; j >= 0; j-- {
				if strings.HasPrefix(tail[j], "#"+m[1]+" ") {
					from = j
				}
			}
			break
		}
		if classicStep.MatchString(tail[i]) {
			from = i
			break
		}
	}
	var out []string
	for _, l := range tail[from:] {
		if strings.TrimSpace(l) != "" {
			out = append(out, l)
		}
	}
	return out
}
