package dockerfile

import (
	"path"
	"slices"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
)

// ImageProcess is what the built image's config says its containers run, as
// far as the Dockerfile settles it: the ENTRYPOINT, CMD, ENV and WORKDIR of
// the final image's layer stack (the target stage and the stages it is
// built FROM), applied as BuildKit's dispatcher applies them. explain reads
// it to say whether a synced file needs a restart without asking an engine
// (docs/design.md, "Live update"); watch mode asks the container instead.
type ImageProcess struct {
	// Base is the image the stack starts FROM ("scratch" when it starts
	// from nothing): it holds every value the Dockerfile leaves unset.
	Base string
	// Entrypoint and Cmd, a shell form already wrapped in the shell
	// (SHELL, else /bin/sh -c). EntrypointSet and CmdSet say the
	// Dockerfile settles them: an instruction of the stack sets them, an
	// ENTRYPOINT with no CMD before it in its stage empties CMD (as
	// BuildKit does), or the stack starts FROM scratch. Otherwise they are
	// the base image's, which only the engine knows.
	Entrypoint, Cmd       []string
	EntrypointSet, CmdSet bool
	// Env is the stack's ENV, "KEY=value", in order; the base image may
	// hold more.
	Env []string
	// Workdir is absolute when WorkdirSet: a WORKDIR of the stack (or
	// FROM scratch) settles it. Otherwise it is the base image's.
	Workdir    string
	WorkdirSet bool
	// Volumes are the stack's VOLUME paths (absolute, expanded): a
	// container gets a volume there, so the image is not what it sees.
	// The base image may declare more.
	Volumes []string
}

// procNotes is an ImageProcess while a stage is expanded, with the state
// BuildKit's dispatcher keeps beside the image config.
type procNotes struct {
	ImageProcess
	shell    []string // SHELL of the stack; nil: the base image's
	cmdInStg bool     // a CMD of this stage (BuildKit's cmd.IsSet is per stage)
}

// Process returns what the image's config says its containers run, as far
// as the Dockerfile settles it.
func (m *Model) Process() ImageProcess {
	if m.an.proc == nil {
		return ImageProcess{}
	}
	p := *m.an.proc
	p.Entrypoint, p.Cmd, p.Env = slices.Clone(p.Entrypoint), slices.Clone(p.Cmd), slices.Clone(p.Env)
	p.Volumes = slices.Clone(p.Volumes)
	return p
}

// procFor starts the process notes of s: a stage built FROM another stage
// continues that stage's config (BuildKit copies the image config); FROM
// scratch sets nothing; FROM an image has the image's, unknown here.
func (a *analyzer) procFor(s *stage) *procNotes {
	if s.proc != nil {
		return s.proc
	}
	p := &procNotes{ImageProcess: ImageProcess{Base: s.Base}}
	switch {
	case s.parent >= 0:
		pp := a.procFor(a.stages[s.parent])
		p.ImageProcess = pp.ImageProcess
		p.Entrypoint, p.Cmd, p.Env = slices.Clone(pp.Entrypoint), slices.Clone(pp.Cmd), slices.Clone(pp.Env)
		p.Volumes, p.shell = slices.Clone(pp.Volumes), pp.shell
	case s.Base == "scratch":
		p.EntrypointSet, p.CmdSet = true, true
	}
	s.proc = p
	return p
}

// noteProcess records what instruction c of chain stage s does to the image
// config's process, after expandCmd expanded it (ENV values are expanded;
// CMD, ENTRYPOINT and SHELL never are), with the variables e of that point.
func (a *analyzer) noteProcess(s *stage, c *cmd, e *env) {
	p := a.procFor(s)
	switch x := c.node.(type) {
	case *instructions.CmdCommand:
		p.Cmd, p.CmdSet, p.cmdInStg = p.withShell(x.ShellDependantCmdLine), true, true
	case *instructions.EntrypointCommand:
		p.Entrypoint, p.EntrypointSet = p.withShell(x.ShellDependantCmdLine), true
		if !p.cmdInStg {
			p.Cmd, p.CmdSet = nil, true
		}
	case *instructions.VolumeCommand:
		for _, v := range x.Volumes {
			if v, err := a.expandWord(v, e); err == nil && path.IsAbs(v) && !slices.Contains(p.Volumes, path.Clean(v)) {
				p.Volumes = append(p.Volumes, path.Clean(v))
			}
		}
	case *instructions.ShellCommand:
		p.shell = slices.Clone(x.Shell)
	case *instructions.EnvCommand:
		for _, kv := range x.Env {
			p.Env = slices.DeleteFunc(p.Env, func(e string) bool { k, _, _ := strings.Cut(e, "="); return k == kv.Key })
			p.Env = append(p.Env, kv.Key+"="+kv.Value)
		}
	}
}

// withShell is BuildKit's withShell: a shell form runs in the SHELL, else
// in /bin/sh -c (a base image could set another SHELL; Linux images
// practically never do).
func (p *procNotes) withShell(c instructions.ShellDependantCmdLine) []string {
	if !c.PrependShell {
		return slices.Clone(c.CmdLine)
	}
	sh := []string{"/bin/sh", "-c"}
	if p.shell != nil {
		sh = slices.Clone(p.shell)
	}
	return append(sh, strings.Join(c.CmdLine, " "))
}

// finishProcess is the target stage's process, with its WORKDIR from the
// Sync notes, which already follow WORKDIR chains and their variables.
func (a *analyzer) finishProcess(t int) *ImageProcess {
	s := a.stages[t]
	p := a.procFor(s).ImageProcess
	if n := a.notesFor(s); !n.wdRel && n.wdWhy == "" {
		p.Workdir, p.WorkdirSet = n.wd, true
	}
	return &p
}
