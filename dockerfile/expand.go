package dockerfile

import (
	"fmt"
	"runtime"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

// env is an ordered set of variables, the shell.EnvGetter that BuildKit's
// word expansion reads ARG and ENV values from.
type env struct {
	m    map[string]string
	keys []string
}

func newEnv() *env { return &env{m: map[string]string{}} }

func (e *env) Get(k string) (string, bool) { v, ok := e.m[k]; return v, ok }
func (e *env) Keys() []string              { return e.keys }

func (e *env) set(k, v string) {
	if _, ok := e.m[k]; !ok {
		e.keys = append(e.keys, k)
	}
	e.m[k] = v
}

func (e *env) clone() *env {
	c := &env{m: make(map[string]string, len(e.m)), keys: append([]string(nil), e.keys...)}
	for k, v := range e.m {
		c.m[k] = v
	}
	return c
}

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
			v, _, err := a.lex.ProcessWord(*kv.Value, a.global)
			if err != nil {
				return inputErr(a.file, c.Location()[0].Start.Line, fmt.Sprintf("ARG %s: %v", kv.Key, err), err)
			}
			a.global.set(kv.Key, v)
		}
	}
	for _, s := range a.stages {
		base, _, err := a.lex.ProcessWord(s.Base, a.global)
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

// runTriggers puts the ONBUILD triggers of the stage s is built FROM at the
// start of s, as BuildKit does (at s's FROM line). An ONBUILD COPY in a base
// stage reads the context when a stage built on it runs. Triggers are not
// inherited further: the child image no longer carries them.
func (a *analyzer) runTriggers(s *stage) error {
	var cmds []*cmd
	for _, expr := range a.stages[s.parent].triggers {
		res, err := parser.Parse(strings.NewReader(expr))
		if err == nil && len(res.AST.Children) != 1 {
			err = fmt.Errorf("an ONBUILD trigger must be a single instruction")
		}
		var ic instructions.Command
		if err == nil {
			ic, err = instructions.ParseCommand(res.AST.Children[0])
		}
		if err != nil {
			return inputErr(a.file, s.Line, fmt.Sprintf("ONBUILD %s of stage %s: %v (fix the Dockerfile)", expr, a.stageName(s.parent), err), err)
		}
		k := newCmd(ic, Step{Stage: a.stageName(s.Index), Line: s.Line, Text: "ONBUILD " + strings.TrimSpace(expr)})
		cmds = append(cmds, k)
	}
	s.cmds = append(cmds, s.cmds...)
	return nil
}

// expandChain walks the chain stages in order, tracking ARG and ENV as
// BuildKit's dispatch does, expanding each instruction and recording its
// context input. A stage built FROM another stage starts with that stage's
// variables; a stage FROM an image starts empty (the image's ENV is unknown
// without pulling it, and unset variables expand to "" as in BuildKit).
func (a *analyzer) expandChain() error {
	for _, s := range a.stages {
		if !a.chain[s.Index] {
			continue
		}
		s.env = newEnv()
		if s.parent >= 0 {
			s.env = a.stages[s.parent].env.clone()
		}
		for _, c := range s.cmds {
			if err := a.expandCmd(s, c); err != nil {
				return err
			}
		}
	}
	return nil
}

func (a *analyzer) expandCmd(s *stage, c *cmd) error {
	expand := func(w string) (string, error) {
		if a.plainWord(w) {
			return w, nil
		}
		v, _, err := a.lex.ProcessWord(w, s.env)
		return v, err
	}
	c.stmt = &Stmt{Step: c.step, Cmd: c.name, From: c.from}
	a.noteWrite(s, c) // before the instruction is expanded in place
	var err error
	switch n := c.node.(type) {
	case *instructions.ArgCommand:
		err = a.dispatchArg(s, n)
	case *instructions.EnvCommand:
		if err = n.Expand(expand); err == nil {
			for _, kv := range n.Env {
				s.env.set(kv.Key, kv.Value)
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
	return nil
}

// plainWord reports whether BuildKit's word expansion leaves w as it is:
// no variable, quote, heredoc or escape character in it. Most COPY sources
// are such words, and skipping the expansion keeps a huge Dockerfile fast
// (BenchmarkAnalyzeHuge).
func (a *analyzer) plainWord(w string) bool {
	return !strings.ContainsAny(w, "$'\"<") && !strings.ContainsRune(w, a.escape)
}

// dispatchArg mirrors BuildKit's dispatchArg: a build arg wins, then the
// ARG's default (expanded), then the global value of a meta ARG that the
// stage re-declares without a default.
func (a *analyzer) dispatchArg(s *stage, n *instructions.ArgCommand) error {
	for _, kv := range n.Args {
		if v, ok := a.args[kv.Key]; ok {
			s.env.set(kv.Key, v)
			continue
		}
		if kv.Value != nil {
			v, _, err := a.lex.ProcessWord(*kv.Value, s.env)
			if err != nil {
				return err
			}
			s.env.set(kv.Key, v)
			continue
		}
		if v, ok := a.global.Get(kv.Key); ok {
			s.env.set(kv.Key, v)
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
	seen := map[string]bool{}
	for _, src := range srcs {
		p := cleanSource(src)
		if !seen[p] {
			seen[p] = true
			in.Sources = append(in.Sources, p)
		}
	}
	for _, x := range excludes {
		in.Excludes = append(in.Excludes, strings.TrimPrefix(cleanSource(x), "./"))
	}
	if err := in.compile(); err != nil {
		return nil, err
	}
	return in, nil
}
