package dockerfile

import "fmt"

// following summarises what follows one position of the Dockerfile
// (docs/design.md, Layer stack and "follows"): later instructions
// of its stage, every chain stage built FROM that stage, and every
// instruction that reads the stage's result (COPY --from, RUN
// --mount=from) with everything that follows that one, transitively.
type following struct {
	ctx     bool // a context input follows
	run     *cmd // the first RUN that follows; nil when none
	depsRun *cmd // the first RUN that follows and is itself followed by a context input
}

// merge adds what follows in another place. Of two RUNs the earlier line
// is kept, so the answer does not depend on the order stages are visited.
func (f *following) merge(o following) {
	f.ctx = f.ctx || o.ctx
	f.run = earlier(f.run, o.run)
	f.depsRun = earlier(f.depsRun, o.depsRun)
}

func earlier(a, b *cmd) *cmd {
	if a == nil || b != nil && b.step.Line < a.step.Line {
		return b
	}
	return a
}

// reader is one chain stage that takes another's result: at instruction
// entry and after (0 for FROM, which stacks the whole stage on it). line
// is the reading instruction's (the FROM line for FROM), for errors.
type reader struct{ stage, entry, line int }

// assignLayers sets Layer, DepsRun and RunAfter of every chain input
// (docs/design.md, "Layer of an input" and "Action"). It is linear in the
// size of the Dockerfile: stages are visited readers first, each with one
// backwards pass that knows what follows its end (the readers' answers,
// merged), and hands its own answer at each entry point on to the stage
// read there. A cycle of stages is BuildKit's "circular dependency" error.
func (a *analyzer) assignLayers() error {
	readers := a.readers()
	order, err := a.readersFirst(readers)
	if err != nil {
		return err
	}
	tail := make([]following, len(a.stages)) // what follows the end of each stage
	entries := a.entries(readers)            // reading stage -> the stages it reads, and where
	for _, s := range order {
		// tail[s] is complete: every reader of s came before it.
		at := a.passBack(a.stages[s], tail[s], entries[s])
		for u, from := range entries[s] {
			for _, e := range from {
				tail[u].merge(at[e])
			}
		}
	}
	return nil
}

// readers lists, for each chain stage, the chain stages that read its
// result and where.
func (a *analyzer) readers() [][]reader {
	out := make([][]reader, len(a.stages))
	for _, t := range a.stages {
		if !a.chain[t.Index] {
			continue
		}
		if t.parent >= 0 {
			out[t.parent] = append(out[t.parent], reader{t.Index, 0, t.Line})
		}
		for j, c := range t.cmds {
			for _, u := range c.uses {
				out[u] = append(out[u], reader{t.Index, j, c.step.Line})
			}
		}
	}
	return out
}

// entries turns readers around: for each reading stage t, the stages it
// reads and the entry points in t, so t's pass can hand its answer there.
func (a *analyzer) entries(readers [][]reader) []map[int][]int {
	out := make([]map[int][]int, len(a.stages))
	for u, rs := range readers {
		for _, r := range rs {
			if out[r.stage] == nil {
				out[r.stage] = map[int][]int{}
			}
			out[r.stage][u] = append(out[r.stage][u], r.entry)
		}
	}
	return out
}

// readersFirst orders the chain stages so that every stage comes after all
// the stages that read it (Kahn's algorithm on the reversed graph). A stage
// left over is on a cycle: BuildKit refuses such a Dockerfile.
func (a *analyzer) readersFirst(readers [][]reader) ([]int, error) {
	waiting := make([]int, len(a.stages)) // readers of each stage not yet visited
	var order, ready []int
	for u, rs := range readers {
		waiting[u] = len(rs)
		if a.chain[u] && len(rs) == 0 {
			ready = append(ready, u)
		}
	}
	for len(ready) > 0 {
		t := ready[len(ready)-1]
		ready = ready[:len(ready)-1]
		order = append(order, t)
		for _, c := range a.stages[t].readsFrom() {
			if waiting[c]--; waiting[c] == 0 {
				ready = append(ready, c)
			}
		}
	}
	for u := range a.stages {
		if a.chain[u] && waiting[u] > 0 {
			return nil, a.cycleErr(readers, waiting, u)
		}
	}
	return order, nil
}

// cycleErr names a reading on a cycle of stages. A stage left over by
// readersFirst waits for a reader left over too; following such readers
// from u comes back to a stage already seen, which is on the cycle.
func (a *analyzer) cycleErr(readers [][]reader, waiting []int, u int) error {
	next := func(u int) reader {
		for _, r := range readers[u] {
			if waiting[r.stage] > 0 {
				return r
			}
		}
		return reader{} // not reached: u would not be waiting
	}
	seen := map[int]bool{}
	for !seen[u] {
		seen[u] = true
		u = next(u).stage
	}
	r := next(u)
	return inputErr(a.file, r.line, fmt.Sprintf(
		"circular dependency detected on stage %s: stage %s reads it here, and stage %s is built from stage %s's result in turn (through FROM, COPY --from or RUN --mount=from); fix the Dockerfile",
		a.stageName(u), a.stageName(r.stage), a.stageName(u), a.stageName(r.stage)), nil)
}

// readsFrom lists the stages s reads, once per reading (as readers counts
// them): the stage its FROM names, then each COPY --from and RUN
// --mount=from.
func (s *stage) readsFrom() []int {
	var out []int
	if s.parent >= 0 {
		out = append(out, s.parent)
	}
	for _, c := range s.cmds {
		out = append(out, c.uses...)
	}
	return out
}

// passBack walks stage s backwards from what follows its end (tail),
// setting the layer of each input, and returns what follows each entry
// point that other stages' results enter at (the entry instruction
// included: a RUN --mount=from re-runs with the stage it reads).
func (a *analyzer) passBack(s *stage, tail following, entries map[int][]int) map[int]following {
	want := map[int]bool{}
	for _, from := range entries {
		for _, e := range from {
			want[e] = true
		}
	}
	at := make(map[int]following, len(want))
	f := tail // what follows instruction i, once i is done
	for i := len(s.cmds) - 1; i >= 0; i-- {
		c := s.cmds[i]
		if c.input != nil {
			c.input.setLayer(c, f)
		}
		if c.isRun {
			if f.ctx {
				f.depsRun = c
			}
			f.run = c
		}
		f.ctx = f.ctx || c.input != nil
		if want[i] {
			at[i] = f
		}
	}
	return at
}

// setLayer applies "Layer of an input" and the action rule's "RUN after"
// to the input of c, given what follows c. A RUN is its own first RUN
// after (a bind mount into the container does not redo it) and its own
// deps RUN when a context input follows it.
func (in *Input) setLayer(c *cmd, f following) {
	run, deps := f.run, f.depsRun
	if c.isRun {
		run = c
		if f.ctx {
			deps = c
		}
	}
	if run != nil {
		in.RunAfter = &run.step
	}
	if deps != nil {
		in.Layer, in.DepsRun = LayerDeps, &deps.step
	}
}
