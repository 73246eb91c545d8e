package dockerfile

import "sort"

// span is a run of instructions: stage s from instruction start to its end.
type span struct{ s, start int }

// assignLayers sets Layer, DepsRun and RunAfter of every chain input
// (docs/design.md, "Layer of an input" and "Action").
func (a *analyzer) assignLayers() {
	for _, s := range a.stages {
		if !a.chain[s.Index] {
			continue
		}
		for i, c := range s.cmds {
			if c.input == nil {
				continue
			}
			if r := a.depsRun(s.Index, i); r != nil {
				c.input.Layer, c.input.DepsRun = LayerDeps, &r.step
			}
			if r := a.runAfter(s.Index, i); r != nil {
				c.input.RunAfter = &r.step
			}
		}
	}
}

// depsRun finds the RUN that puts the input at (s, i) in the deps layer: a
// RUN that follows it (or is the input itself) and is followed by a COPY, ADD
// or context-binding RUN. "Follows" is the layer stack: later in the stage,
// or anywhere in a chain stage built FROM it, directly or transitively.
func (a *analyzer) depsRun(s, i int) *cmd {
	if c := a.stages[s].cmds[i]; c.isRun && a.anyIn(a.stacked(s, i+1), func(k *cmd) bool { return k.adds }) {
		return c
	}
	var found *cmd
	a.each(a.stacked(s, i+1), func(t, j int, k *cmd) bool {
		if k.isRun && a.anyIn(a.stacked(t, j+1), func(k *cmd) bool { return k.adds }) {
			found = k
			return false
		}
		return true
	})
	return found
}

// runAfter finds the first RUN that runs after the input at (s, i): later in
// its stage, or in a chain stage that builds on that stage through FROM,
// COPY --from or RUN --mount=from (after the instruction that brings it in).
// A RUN that bind-mounts the context runs with the files it reads, so it is
// its own "RUN after": a bind mount into the container does not redo it.
func (a *analyzer) runAfter(s, i int) *cmd {
	if c := a.stages[s].cmds[i]; c.isRun {
		return c
	}
	var found *cmd
	a.each(a.builtOn(s, i+1), func(_, _ int, k *cmd) bool {
		if k.isRun {
			found = k
			return false
		}
		return true
	})
	return found
}

// stacked lists the instructions that follow position (s, start-1) on the
// layer stack: the rest of s, and every chain stage whose FROM names s,
// transitively.
func (a *analyzer) stacked(s, start int) []span {
	out := []span{{s, start}}
	for _, t := range a.stages[s+1:] {
		if !a.chain[t.Index] || t.parent < 0 {
			continue
		}
		for _, sp := range out {
			if sp.s == t.parent {
				out = append(out, span{t.Index, 0})
				break
			}
		}
	}
	return out
}

// builtOn lists what runs after position (s, start-1): the rest of s, and
// every chain stage that takes s's result through FROM (all of it), COPY
// --from (after the COPY) or RUN --mount=from (from that RUN), transitively.
func (a *analyzer) builtOn(s, start int) []span {
	best := map[int]int{s: start}
	queue := []int{s}
	for len(queue) > 0 {
		u := queue[0]
		queue = queue[1:]
		for _, t := range a.stages {
			if !a.chain[t.Index] || t.Index == u {
				continue
			}
			from, ok := a.entryPoint(t, u)
			if !ok {
				continue
			}
			if old, seen := best[t.Index]; !seen || from < old {
				best[t.Index] = from
				queue = append(queue, t.Index)
			}
		}
	}
	out := make([]span, 0, len(best))
	for st, from := range best {
		out = append(out, span{st, from})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].s < out[j].s })
	return out
}

// entryPoint is the first instruction of t that sees stage u's result.
func (a *analyzer) entryPoint(t *stage, u int) (int, bool) {
	if t.parent == u {
		return 0, true
	}
	for j, c := range t.cmds {
		for _, x := range c.uses {
			if x != u {
				continue
			}
			if c.isRun {
				return j, true
			}
			return j + 1, true
		}
	}
	return 0, false
}

// each calls fn for every instruction in spans, in order, until fn returns false.
func (a *analyzer) each(spans []span, fn func(s, j int, c *cmd) bool) {
	for _, sp := range spans {
		cmds := a.stages[sp.s].cmds
		for j := sp.start; j < len(cmds); j++ {
			if !fn(sp.s, j, cmds[j]) {
				return
			}
		}
	}
}

func (a *analyzer) anyIn(spans []span, pred func(*cmd) bool) bool {
	found := false
	a.each(spans, func(_, _ int, c *cmd) bool {
		found = pred(c)
		return !found
	})
	return found
}
