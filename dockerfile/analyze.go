package dockerfile

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/frontend/dockerfile/shell"

	"github.com/rebuildd/rebuildd/config"
)

// stage is one FROM block of the Dockerfile while it is analysed.
type stage struct {
	Stage
	parent   int // index of the stage FROM names; -1 when FROM names an image
	cmds     []*cmd
	triggers []string    // ONBUILD expressions: they run in stages built FROM this one
	notes    *stageNotes // what its instructions write, for Sync (syncnote.go)
	proc     *procNotes  // what it leaves in the image config's process (process.go)
	// triggerNodes are the triggers parsed, once (triggerNodes()); triggerErr
	// is the first that does not parse.
	triggerNodes []*parser.Node
	triggerErr   error
}

// cmd is one instruction of a stage.
type cmd struct {
	step Step
	name string // upper-case instruction
	// node is the instruction as BuildKit parsed it; for a plain COPY of
	// a large Dockerfile it has no Name, String or Location (plainCopy):
	// use name and step.
	node  instructions.Command
	from  string // COPY --from, as written
	uses  []int  // stages this instruction reads: COPY --from, RUN --mount=from
	isRun bool
	input *Input // the context input it is (COPY, ADD or a context-binding RUN); nil when none
	stmt  *Stmt
}

// analyzer holds the state of one Analyze call.
type analyzer struct {
	file   string
	args   map[string]string
	lex    *shell.Lex
	escape rune // the Dockerfile's escape character (\ or `)
	// expanded counts the bytes ARG/ENV expansion produced, up to budget
	// (expandBudget); triggered the instructions ONBUILD triggers added
	// (maxTriggered).
	expanded, budget, triggered int
	// byName maps a lower-case stage name to the first stage of that name.
	byName map[string]int
	global *env // meta ARGs (before the first FROM) plus BuildKit's platform args
	stages []*stage
	chain  []bool // chain[i]: stage i is in the target's chain
	large  bool   // a large Dockerfile: plain COPYs are built by plainCopy (parseall.go)
}

// Analyze parses src (named file, for messages) with BuildKit's parser and
// instructions packages and computes the stage chain for target ("" = last
// stage), every context input of the chain and its layer. args are the
// compose build args; they override the Dockerfile's ARG defaults. Errors are
// *config.InputError naming file and line.
func Analyze(src []byte, file, target string, args map[string]string) (*Analysis, error) {
	if len(src) > MaxSize {
		return nil, inputErr(file, 0, fmt.Sprintf("the Dockerfile is larger than %d MiB, the most rebuildd analyses; check that this is the right file", MaxSize>>20), nil)
	}
	src, err := textOf(src, file)
	if err != nil {
		return nil, err
	}
	res, err := parseFile(src)
	if err != nil {
		return nil, locErr(file, err)
	}
	a := &analyzer{file: file, args: args, lex: shell.NewLex(res.EscapeToken), escape: res.EscapeToken, budget: expandBudget(len(src)), large: len(src) >= fastParseFrom}
	metaArgs, err := a.parseStages(res.AST)
	if err != nil {
		return nil, err
	}
	t, err := a.resolveTarget(target)
	if err != nil {
		return nil, err
	}
	if err := a.expandBases(metaArgs, a.stageName(t)); err != nil {
		return nil, err
	}
	if err := a.markChain(t); err != nil {
		return nil, err
	}
	if err := a.expandChain(); err != nil {
		return nil, err
	}
	an := &Analysis{File: file, Target: a.stageName(t), Names: a.names()}
	if syntax, _, _, ok := parser.DetectSyntax(src); ok {
		an.Syntax = syntax
	}
	if err := a.assignLayers(); err != nil {
		return nil, err
	}
	a.collect(an)
	an.plan = a.syncPlan(t)
	an.proc = a.finishProcess(t)
	return an, nil
}

// parseStages turns the AST into stages, returning the meta ARGs that
// precede the first FROM.
func (a *analyzer) parseStages(ast *parser.Node) ([]*instructions.ArgCommand, error) {
	var meta []*instructions.ArgCommand
	all := parseAll(ast.Children, a.large)
	for i, n := range ast.Children {
		v, err := all[i].v, all[i].err
		if err != nil {
			return nil, locErr(a.file, err)
		}
		step := Step{Line: n.StartLine, Text: strings.TrimSpace(n.Original)}
		switch c := v.(type) {
		case *instructions.Stage:
			s := &stage{Stage: Stage{Name: c.Name, Index: len(a.stages), Line: n.StartLine, Base: c.BaseName}, parent: -1}
			a.stages = append(a.stages, s)
		case *instructions.ArgCommand:
			if len(a.stages) == 0 {
				meta = append(meta, c)
				continue
			}
			a.addCmd(c, all[i].name, step)
		case *instructions.OnbuildCommand:
			if len(a.stages) == 0 {
				return nil, inputErr(a.file, n.StartLine, "ONBUILD before the first FROM: only ARG may come before FROM", nil)
			}
			s := a.stages[len(a.stages)-1]
			s.triggers = append(s.triggers, c.Expression)
		case instructions.Command:
			if len(a.stages) == 0 {
				return nil, inputErr(a.file, n.StartLine, fmt.Sprintf("%s before the first FROM: only ARG may come before FROM", strings.ToUpper(n.Value)), nil)
			}
			a.addCmd(c, all[i].name, step)
		}
	}
	if len(a.stages) == 0 {
		return nil, inputErr(a.file, 0, "no FROM instruction: a Dockerfile needs at least one stage", nil)
	}
	return meta, nil
}

// addCmd adds c to the last stage; name is its name when c has none
// (plainCopy), else "".
func (a *analyzer) addCmd(c instructions.Command, name string, step Step) {
	s := a.stages[len(a.stages)-1]
	step.Stage = a.stageName(s.Index)
	k := newCmd(c, step)
	if name != "" {
		k.name = name
	}
	s.cmds = append(s.cmds, k)
}

func newCmd(c instructions.Command, step Step) *cmd {
	k := &cmd{step: step, name: upperName(c.Name()), node: c}
	switch n := c.(type) {
	case *instructions.CopyCommand:
		k.from = n.From
	case *instructions.RunCommand:
		k.isRun = true
	}
	return k
}

// upperName is strings.ToUpper of an instruction's name, without a new
// string for each instruction of a large Dockerfile.
func upperName(name string) string {
	switch name {
	case "copy":
		return "COPY"
	case "add":
		return "ADD"
	case "run":
		return "RUN"
	case "env":
		return "ENV"
	case "arg":
		return "ARG"
	}
	return strings.ToUpper(name)
}

// stageName is how a stage is shown: its name, or its index when unnamed.
func (a *analyzer) stageName(i int) string {
	if a.stages[i].Name != "" {
		return a.stages[i].Name
	}
	return strconv.Itoa(i)
}

func (a *analyzer) names() []string {
	var out []string
	for _, s := range a.stages {
		if s.Name != "" {
			out = append(out, s.Name)
		}
	}
	return out
}

// findStage finds a stage by name the way BuildKit does (names are
// compared lower-case), among the stages before limit.
func (a *analyzer) findStage(name string, limit int) int {
	if a.byName == nil {
		a.byName = map[string]int{}
		for i := len(a.stages) - 1; i >= 0; i-- {
			if n := a.stages[i].Name; n != "" {
				a.byName[strings.ToLower(n)] = i
			}
		}
	}
	if i, ok := a.byName[strings.ToLower(name)]; ok && i < limit {
		return i
	}
	return -1
}

func (a *analyzer) resolveTarget(target string) (int, error) {
	if target == "" {
		return len(a.stages) - 1, nil
	}
	if i := a.findStage(target, len(a.stages)); i >= 0 {
		return i, nil
	}
	msg := fmt.Sprintf("target stage %q not found; stages are: %s", target, strings.Join(a.names(), ", "))
	if len(a.names()) == 0 {
		msg = fmt.Sprintf("target stage %q not found; no stage is named (name one with FROM ... AS %s)", target, target)
	}
	return 0, inputErr(a.file, 0, msg, nil)
}

// markChain marks the target and, transitively, every stage it builds on:
// the stage its FROM names, COPY --from and RUN --mount=from.
func (a *analyzer) markChain(target int) error {
	a.chain = make([]bool, len(a.stages))
	queue := []int{target}
	a.chain[target] = true
	for len(queue) > 0 {
		s := a.stages[queue[0]]
		queue = queue[1:]
		deps := []int{}
		if s.parent >= 0 {
			deps = append(deps, s.parent)
		}
		for _, c := range s.cmds {
			if err := a.resolveUses(c); err != nil {
				return err
			}
			deps = append(deps, c.uses...)
		}
		for _, d := range deps {
			if !a.chain[d] {
				a.chain[d] = true
				queue = append(queue, d)
			}
		}
	}
	return nil
}

// resolveUses finds the stages a COPY --from or RUN --mount=from reads.
// A name that is no stage is an image (or a named context): not a stage.
func (a *analyzer) resolveUses(c *cmd) error {
	if c.from != "" {
		if idx, err := strconv.Atoi(c.from); err == nil {
			if idx < 0 || idx >= len(a.stages) {
				return inputErr(a.file, c.step.Line, fmt.Sprintf("COPY --from=%d: there is no stage %d (stages are numbered from 0; this Dockerfile has %d)", idx, idx, len(a.stages)), nil)
			}
			c.uses = append(c.uses, idx)
		} else if i := a.findStage(c.from, len(a.stages)); i >= 0 {
			c.uses = append(c.uses, i)
		}
	}
	if run, ok := c.node.(*instructions.RunCommand); ok {
		for _, m := range instructions.GetMounts(run) {
			if m.From == "" {
				continue
			}
			if i := a.findStage(m.From, len(a.stages)); i >= 0 {
				c.uses = append(c.uses, i)
			}
		}
	}
	return nil
}

// collect fills the analysis with the chain's stages, statements and inputs.
func (a *analyzer) collect(an *Analysis) {
	n := 0
	for _, s := range a.stages {
		if a.chain[s.Index] {
			n += len(s.cmds)
		}
	}
	an.Stmts = make([]Stmt, 0, n)
	for _, s := range a.stages {
		if !a.chain[s.Index] {
			continue
		}
		an.Stages = append(an.Stages, s.Stage)
		for _, c := range s.cmds {
			an.Stmts = append(an.Stmts, *c.stmt)
			if c.input != nil {
				an.Inputs = append(an.Inputs, c.input)
			}
		}
	}
	// Stages and their instructions come in file order, so inputs are
	// sorted already but for the ONBUILD triggers placed at a FROM line.
	byLine := func(x, y *Input) int { return x.Line - y.Line }
	if !slices.IsSortedFunc(an.Inputs, byLine) {
		slices.SortStableFunc(an.Inputs, byLine)
	}
}

// locErr turns a BuildKit error carrying a source location into an
// InputError naming file and line.
func locErr(file string, err error) error {
	line := 0
	var le *parser.LocationError
	if errors.As(err, &le) && len(le.Locations) > 0 && len(le.Locations[0]) > 0 {
		line = le.Locations[0][0].Start.Line
	}
	return inputErr(file, line, err.Error()+" (fix the Dockerfile)", err)
}

func inputErr(file string, line int, msg string, err error) error {
	return &config.InputError{File: file, Line: line, Msg: msg, Err: err}
}
