package dockerfile

import (
	"fmt"
	"runtime"
	"slices"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

// platformArgs are the automatic platform ARGs BuildKit defines in the global
// scope. rebuildd builds for the local engine, so build and target platform
// are the machine's own.
func platformArgs(target string) *env {
	p := "linux/" + runtime.GOARCH
	e := newEnv()
	for _, kv := range [][2]string{
		{"BUILDPLATFORM", p}, {"BUILDOS", "linux"}, {"BUILDOSVERSION", ""}, {"BUILDARCH", runtime.GOARCH}, {"BUILDVARIANT", ""},
		{"TARGETPLATFORM", p}, {"TARGETOS", "linux"}, {"TARGETOSVERSION", ""}, {"TARGETARCH", runtime.GOARCH}, {"TARGETVARIANT", ""},
		{"TARGETSTAGE", target},
	} {
		e.set(kv[0], kv[1])
	}
	return e
}

// expandBases computes the global (meta) ARGs as BuildKit's buildMetaArgs
// does, expands every FROM with them and links each stage to the earlier
// stage its FROM names.
func (a *analyzer) expandBases(meta []*instructions.ArgCommand, target string) error {
	a.global = platformArgs(target)
	for k, v := range a.args {
		if _, ok := a.global.m[k]; ok {
			a.global.set(k, v)
		}
	}
	for _, c := range meta {
		for _, kv := range c.Args {
			if v, ok := a.args[kv.Key]; ok {
				a.global.set(kv.Key, v)
				continue
			}
			if kv.Value == nil {
				continue
			}
			v, err := a.expandWord(*kv.Value, a.global)
			if err != nil {
				return inputErr(a.file, c.Location()[0].Start.Line, fmt.Sprintf("ARG %s: %v", kv.Key, err), err)
			}
			a.global.set(kv.Key, v)
		}
	}
	for _, s := range a.stages {
		base, err := a.expandWord(s.Base, a.global)
		if err != nil {
			return inputErr(a.file, s.Line, fmt.Sprintf("FROM %s: %v", s.Base, err), err)
		}
		if base == "" {
			return inputErr(a.file, s.Line, fmt.Sprintf("FROM %s: the base name is empty after expanding build args (set the ARG or give it a default)", s.Base), nil)
		}
		s.Base = base
		s.parent = a.findStage(base, s.Index)
		if s.parent >= 0 {
			if err := a.runTriggers(s); err != nil {
				return err
			}
		}
	}
	return nil
}

// maxTriggered bounds the instructions ONBUILD triggers add. Every stage
// built FROM a stage runs all of its triggers, so a few kilobytes of
// Dockerfile (many triggers, many stages FROM that one) can ask for a
// number of instructions quadratic in its size; real Dockerfiles add a
// handful. 65,536 is about a second of parsing on the test machine.
const maxTriggered = 1 << 16

// runTriggers puts the ONBUILD triggers of the stage s is built FROM at the
// start of s, as BuildKit does (at s's FROM line). An ONBUILD COPY in a base
// stage reads the context when a stage built on it runs. Triggers are not
// inherited further: the child image no longer carries them.
func (a *analyzer) runTriggers(s *stage) error {
	p := a.stages[s.parent]
	if len(p.triggers) == 0 {
		return nil
	}
	if a.triggered += len(p.triggers); a.triggered > maxTriggered {
		return inputErr(a.file, s.Line, fmt.Sprintf("ONBUILD triggers of stage %s make more than %d instructions in the stages built FROM it; a Dockerfile this large is not one rebuildd can analyse", a.stageName(s.parent), maxTriggered), nil)
	}
	nodes, err := a.triggerNodes(p)
	cmds := make([]*cmd, 0, len(p.triggers)+len(s.cmds))
	for i, expr := range p.triggers {
		var ic instructions.Command
		if err == nil {
			// A command of its own per stage: Expand changes it in place.
			ic, err = instructions.ParseCommand(nodes[i])
		}
		if err != nil {
			return inputErr(a.file, s.Line, fmt.Sprintf("ONBUILD %s of stage %s: %v (fix the Dockerfile)", quoteShort(expr), a.stageName(s.parent), err), err)
		}
		cmds = append(cmds, newCmd(ic, Step{Stage: a.stageName(s.Index), Line: s.Line, Text: "ONBUILD " + strings.TrimSpace(expr)}))
	}
	s.cmds = append(cmds, s.cmds...)
	return nil
}

// triggerNodes parses the ONBUILD triggers of p once, however many stages
// are built FROM it (the parser's set-up alone costs ~10 µs a call).
func (a *analyzer) triggerNodes(p *stage) ([]*parser.Node, error) {
	if p.triggerNodes != nil || p.triggerErr != nil {
		return p.triggerNodes, p.triggerErr
	}
	nodes := make([]*parser.Node, len(p.triggers))
	for i, expr := range p.triggers {
		res, err := parser.Parse(strings.NewReader(expr))
		if err == nil && len(res.AST.Children) != 1 {
			err = fmt.Errorf("an ONBUILD trigger must be a single instruction")
		}
		if err != nil {
			p.triggerErr = err
			return nil, err
		}
		nodes[i] = res.AST.Children[0]
	}
	p.triggerNodes = nodes
	return nodes, nil
}

// expandChain walks the chain stages, tracking ARG and ENV as BuildKit's
// dispatch does, expanding each instruction and recording its context
// input. A stage built FROM another stage starts with that stage's
// variables; a stage FROM an image starts empty (the image's ENV is unknown
// without pulling it, and unset variables expand to "" as in BuildKit).
//
// Stages are visited depth first along FROM, with one set of variables
// that a stage's changes are undone from when its subtree is done: copying
// the variables into every stage would be quadratic in a long FROM chain
// (issue 17: hostile Dockerfiles must not hang).
func (a *analyzer) expandChain() error {
	children := make([][]int, len(a.stages))
	var roots []int
	for _, s := range a.stages {
		switch {
		case !a.chain[s.Index]:
		case s.parent >= 0:
			children[s.parent] = append(children[s.parent], s.Index)
		default:
			roots = append(roots, s.Index)
		}
	}
	e := newEnv()
	type frame struct{ stage, next, undo int }
	for _, root := range roots {
		stack := []frame{{root, 0, e.mark()}}
		if err := a.expandStage(a.stages[root], e); err != nil {
			return err
		}
		for len(stack) > 0 {
			f := &stack[len(stack)-1]
			if f.next == len(children[f.stage]) {
				e.undo(f.undo)
				stack = stack[:len(stack)-1]
				continue
			}
			c := children[f.stage][f.next]
			f.next++
			stack = append(stack, frame{c, 0, e.mark()})
			if err := a.expandStage(a.stages[c], e); err != nil {
				return err
			}
		}
	}
	return nil
}

// expandStage expands the instructions of s, with e holding the variables
// s starts with; e ends with those it ends with.
func (a *analyzer) expandStage(s *stage, e *env) error {
	for _, c := range s.cmds {
		if err := a.expandCmd(s, c, e); err != nil {
			return err
		}
	}
	return nil
}

func (a *analyzer) expandCmd(s *stage, c *cmd, e *env) error {
	expand := func(w string) (string, error) { return a.expandWord(w, e) }
	c.stmt = &Stmt{Step: c.step, Cmd: c.name, From: c.from}
	a.noteWrite(s, c, e) // before the instruction is expanded in place
	var err error
	switch n := c.node.(type) {
	case *instructions.ArgCommand:
		err = a.dispatchArg(e, n)
	case *instructions.EnvCommand:
		if err = n.Expand(expand); err == nil {
			for _, kv := range n.Env {
				e.set(kv.Key, kv.Value)
			}
		}
	case *instructions.CopyCommand:
		if err = n.Expand(expand); err == nil && n.From == "" {
			c.input, err = a.copyInput(c, "COPY", n.SourcePaths, n.ExcludePatterns, n.Parents)
		}
	case *instructions.AddCommand:
		if err = n.Expand(expand); err == nil {
			c.input, err = a.copyInput(c, "ADD", n.SourcePaths, n.ExcludePatterns, false)
		}
	case *instructions.RunCommand:
		if err = n.Expand(expand); err == nil {
			err = a.runMounts(c, n)
		}
	}
	if err != nil {
		return inputErr(a.file, c.step.Line, fmt.Sprintf("%s: %v (fix the Dockerfile or the build args)", c.name, err), err)
	}
	a.noteProcess(s, c, e)
	return nil
}

// dispatchArg mirrors BuildKit's dispatchArg: a build arg wins, then the
// ARG's default (expanded), then the global value of a meta ARG that the
// stage re-declares without a default.
func (a *analyzer) dispatchArg(e *env, n *instructions.ArgCommand) error {
	for _, kv := range n.Args {
		if v, ok := a.args[kv.Key]; ok {
			e.set(kv.Key, v)
			continue
		}
		if kv.Value != nil {
			v, err := a.expandWord(*kv.Value, e)
			if err != nil {
				return err
			}
			e.set(kv.Key, v)
			continue
		}
		if v, ok := a.global.Get(kv.Key); ok {
			e.set(kv.Key, v)
		}
	}
	return nil
}

// runMounts records a RUN's mounts and, for binds of the build context
// (type=bind without from=), its context input.
func (a *analyzer) runMounts(c *cmd, n *instructions.RunCommand) error {
	var srcs []string
	for _, m := range instructions.GetMounts(n) {
		c.stmt.Mounts = append(c.stmt.Mounts, Mount{Type: string(m.Type), From: m.From, Source: m.Source, Target: m.Target})
		if m.Type == instructions.MountTypeBind && m.From == "" {
			srcs = append(srcs, m.Source) // "" = the whole context
		}
	}
	if len(srcs) == 0 {
		return nil
	}
	var err error
	c.input, err = a.newInput(c, "RUN", srcs, nil, false)
	return err
}

// copyInput makes the context input of a COPY or ADD without --from. URLs and
// git refs are not read from the context; heredoc sources were already split
// off by the instructions parser (SourceContents).
func (a *analyzer) copyInput(c *cmd, kind string, srcs, excludes []string, parents bool) (*Input, error) {
	var local []string
	for _, src := range srcs {
		if !isRemote(src) {
			local = append(local, src)
		}
	}
	if len(local) == 0 {
		return nil, nil
	}
	return a.newInput(c, kind, local, excludes, parents)
}

func (a *analyzer) newInput(c *cmd, kind string, srcs, excludes []string, parents bool) (*Input, error) {
	in := &Input{Step: c.step, Kind: kind, Layer: LayerSource, spanStars: parents}
	in.Sources = make([]string, 0, len(srcs))
	var seen map[string]bool // past a few sources; a scan of Sources before
	for _, src := range srcs {
		p := cleanSource(src)
		switch {
		case seen != nil:
			if seen[p] {
				continue
			}
			seen[p] = true
		case slices.Contains(in.Sources, p):
			continue
		case len(in.Sources) == 8:
			seen = map[string]bool{}
			for _, s := range in.Sources {
				seen[s] = true
			}
			seen[p] = true
		}
		in.Sources = append(in.Sources, p)
	}
	for _, x := range excludes {
		in.Excludes = append(in.Excludes, strings.TrimPrefix(cleanSource(x), "./"))
	}
	if err := in.compile(); err != nil {
		return nil, err
	}
	return in, nil
}
