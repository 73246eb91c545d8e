package dockerfile

import (
	"slices"
	"strconv"
	"strings"
)

// syncPlan is what Model.Sync reads: every chain stage's instructions as
// writes, and the final image's layer stack. Analyze builds it once; it is
// never changed afterwards, so concurrent Sync calls share it freely.
type syncPlan struct {
	stack  []int        // the target and the stages it is built FROM, root first
	stages []*planStage // by stage index; nil for stages outside the chain
	at     map[*Input]wpos
}

// planStage is one chain stage.
type planStage struct {
	name    string // as reasons show it: its name, or its index when unnamed
	base    string // the FROM argument, expanded
	parent  int    // the stage FROM names; -1 for an image
	writes  []*write
	workdir bool // it has a WORKDIR instruction of its own
	inStack bool // part of the final image's layer stack
}

// wpos is where an instruction is: stage index and position in the stage.
type wpos struct{ stage, i int }

// syncPlan collects the notes of every chain stage (noteWrite) into the
// plan, for the target stage t.
func (a *analyzer) syncPlan(t int) *syncPlan {
	inputs := 0
	for _, s := range a.stages {
		if a.chain[s.Index] {
			for _, c := range s.cmds {
				if c.input != nil {
					inputs++
				}
			}
		}
	}
	p := &syncPlan{stages: make([]*planStage, len(a.stages)), at: make(map[*Input]wpos, inputs)}
	for _, s := range a.stages {
		if !a.chain[s.Index] {
			continue
		}
		n := a.notesFor(s) // a stage without instructions has no notes yet
		ps := &planStage{name: a.stageName(s.Index), base: s.Base, parent: s.parent, writes: n.writes, workdir: n.workdir}
		for i, c := range s.cmds {
			if i >= len(n.writes) {
				break // cannot happen: noteWrite runs for every instruction
			}
			w := n.writes[i]
			w.input, w.uses, w.stmt = c.input, c.uses, c.stmt
			if c.input != nil {
				p.at[c.input] = wpos{s.Index, i}
			}
		}
		p.stages[s.Index] = ps
	}
	for s := t; s >= 0; s = a.stages[s].parent {
		p.stack = append(p.stack, s)
		if p.stages[s] != nil {
			p.stages[s].inStack = true
		}
	}
	slices.Reverse(p.stack) // root first; prepending was quadratic in a long FROM chain
	return p
}

// fromStage is the chain stage a COPY --from reads, -1 for an image (or
// a named context).
func (w *write) fromStage() int {
	if w.from == "" || len(w.uses) == 0 {
		return -1
	}
	return w.uses[0]
}

// stageNamed finds a chain stage by name (case-insensitive, as BuildKit) or
// index, -1 when it is none (an image).
func (p *syncPlan) stageNamed(name string) int {
	if i, err := strconv.Atoi(name); err == nil {
		if i >= 0 && i < len(p.stages) && p.stages[i] != nil {
			return i
		}
		return -1
	}
	for i, s := range p.stages {
		if s != nil && strings.EqualFold(s.name, name) {
			return i
		}
	}
	return -1
}

// stackWorkdir reports whether any stage of the final image's stack has a
// WORKDIR instruction: then the image's WorkingDir is no longer the base
// image's, and a destination relative to the base image's cannot be found
// from the built image either.
func (p *syncPlan) stackWorkdir() bool {
	for _, s := range p.stack {
		if p.stages[s] != nil && p.stages[s].workdir {
			return true
		}
	}
	return false
}

// stackPos is the position of stage s in the stack, -1 when it is not in it.
func (p *syncPlan) stackPos(s int) int {
	for i, x := range p.stack {
		if x == s {
			return i
		}
	}
	return -1
}

// each calls fn for every write of the stack in build order, with its
// position, until fn returns false.
func (p *syncPlan) each(fn func(at wpos, w *write) bool) {
	for _, s := range p.stack {
		ps := p.stages[s]
		if ps == nil {
			continue
		}
		for i, w := range ps.writes {
			if !fn(wpos{s, i}, w) {
				return
			}
		}
	}
}

// before reports whether a comes before b in the stack's build order.
func (p *syncPlan) before(a, b wpos) bool {
	if a.stage != b.stage {
		return p.stackPos(a.stage) < p.stackPos(b.stage)
	}
	return a.i < b.i
}

// downstream lists the chain stages that hold stage s's file system as it
// is at s's end: s, and every chain stage built FROM one of them.
func (p *syncPlan) downstream(s int) map[int]bool {
	out := map[int]bool{s: true}
	for i, ps := range p.stages {
		if ps != nil && ps.parent >= 0 && out[ps.parent] {
			out[i] = true
		}
	}
	return out
}
