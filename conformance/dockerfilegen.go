package conformance

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
)

// dfGen writes one random multi-stage Dockerfile. Every instruction carries
// a fresh number n (in a destination or a command) so no two instructions
// of the file are identical: BuildKit merges identical vertices, and a
// merged step could not be told apart in the build output.
//
// Every instruction writes below /o, and every RUN writes a random UUID
// there, so whenever a step of a stage re-runs, the stage's /o differs
// afterwards. Reading a stage (COPY --from, RUN --mount=from) always reads
// its whole /o: a builder compares what it copies by content, and a read
// of a part the change did not touch would stay cached although the model
// (rightly, by its rules) says it follows. With this, what re-runs is
// exactly what follows the changed inputs, and the oracle can check the
// deps/source answer and the "RUN after" against Docker (checkLayer).
type dfGen struct {
	r       *rand.Rand
	mounts  bool     // RUN --mount allowed (BuildKit)
	cross   bool     // a cross-stage case: most stages start by reading an earlier one
	sources []string // COPY sources that exist in the context
	used    []string // the sources the Dockerfile names, for choosing a change
	b       strings.Builder
	n       int
	stages  []genStage
}

// genStage is what later stages may refer to.
type genStage struct {
	name string // "" when unnamed
	runs bool   // it (or the stage its FROM names) has a RUN
}

// dockerfile returns the Dockerfile and the target ("" = last stage).
func (g *dfGen) dockerfile(base string) (string, string) {
	n := 1 + g.r.IntN(4)
	if g.cross {
		n = 2 + g.r.IntN(3)
	}
	for i := range n {
		g.stage(i, base)
	}
	var named []string
	for _, s := range g.stages {
		if s.name != "" {
			named = append(named, s.name)
		}
	}
	target := ""
	if len(named) > 0 && chance(g.r, 0.4) && !g.cross {
		target = pick(g.r, named)
	}
	return g.b.String(), target
}

// stage writes FROM and one to five instructions; in a cross-stage case,
// a read of an earlier stage first (most of the time) and one to three
// more.
func (g *dfGen) stage(i int, base string) {
	s := genStage{}
	from := base
	var named []int
	for j, p := range g.stages {
		if p.name != "" {
			named = append(named, j)
		}
	}
	if len(named) > 0 && chance(g.r, 0.4) {
		j := pick(g.r, named)
		from = g.stages[j].name
		s.runs = g.stages[j].runs
	}
	line := "FROM " + from
	if i == 0 || chance(g.r, 0.75) || g.cross && len(named) == 0 {
		s.name = "s" + strconv.Itoa(i)
		line += " AS " + s.name
	}
	g.line(line)
	count := 1 + g.r.IntN(5)
	if g.cross {
		if i > 0 && chance(g.r, 0.8) {
			g.n++
			g.readStage(&s, g.n)
		}
		count = 1 + g.r.IntN(3)
	}
	for range count {
		g.instruction(&s)
	}
	g.stages = append(g.stages, s)
}

func (g *dfGen) line(s string) { g.b.WriteString(s + "\n") }

// instruction writes one instruction of stage s.
func (g *dfGen) instruction(s *genStage) {
	g.n++
	n := g.n
	switch x := g.r.IntN(10); {
	case x < 4:
		g.copyContext("COPY", n)
	case x < 5:
		g.copyContext("ADD", n)
	case x < 7:
		g.run(s, "", fmt.Sprintf("/o/r%d", n))
	case x < 8 && g.mounts:
		g.runMount(s, n)
	case x < 9 && len(g.stages) > 0:
		g.readStage(s, n)
	default:
		src := g.plainSource()
		g.line(fmt.Sprintf("ARG F%d=%s", n, src))
		g.line(fmt.Sprintf("COPY ${F%d} /o/a%d/", n, n))
	}
}

// run writes a RUN (with flags) that writes a random UUID to out, so its
// result differs each time it runs. /o may not exist yet (a COPY makes
// it).
func (g *dfGen) run(s *genStage, flags, out string) {
	s.runs = true
	g.line(fmt.Sprintf("RUN %smkdir -p /o && cat /proc/sys/kernel/random/uuid > %s", flags, out))
}

// copyContext writes COPY or ADD of one to three context sources.
func (g *dfGen) copyContext(kind string, n int) {
	srcs := make([]string, 1+g.r.IntN(3))
	for i := range srcs {
		srcs[i] = pick(g.r, g.sources)
	}
	g.used = append(g.used, srcs...)
	g.line(kind + " " + args(append(srcs, fmt.Sprintf("/o/w%d/", n))))
}

// runMount writes a RUN with a bind mount of the context: a source path, or
// none (the whole context).
func (g *dfGen) runMount(s *genStage, n int) {
	src := ""
	if chance(g.r, 0.7) {
		src = ",source=" + g.plainSource()
	}
	// A target of its own: a file mounted where an earlier mount left a
	// directory fails ("not a directory"), in Docker, not in rebuildd.
	g.run(s, fmt.Sprintf("--mount=type=bind%s,target=/m%d ", src, n), fmt.Sprintf("/o/b%d && ls /m%d >> /o/b%d", n, n, n))
}

// readStage writes a read of an earlier stage's /o: RUN --mount=from (with
// BuildKit, by name: BuildKit takes a mount's from= as a stage name only)
// or COPY --from, by name or index. A cross-stage case prefers stages with
// a RUN, whose change flows on.
func (g *dfGen) readStage(s *genStage, n int) {
	j := g.r.IntN(len(g.stages))
	if g.cross {
		for range 3 {
			if g.stages[j].runs {
				break
			}
			j = g.r.IntN(len(g.stages))
		}
	}
	if g.mounts && g.stages[j].name != "" && chance(g.r, 0.4) {
		g.run(s, fmt.Sprintf("--mount=type=bind,from=%s,source=/o,target=/m%d ", g.stages[j].name, n),
			fmt.Sprintf("/o/b%d && ls /m%d >> /o/b%d", n, n, n))
		return
	}
	from := strconv.Itoa(j)
	if g.stages[j].name != "" && chance(g.r, 0.6) {
		from = g.stages[j].name
	}
	g.line(fmt.Sprintf("COPY --from=%s /o/ /o/f%d/", from, n))
}

// args writes instruction arguments, in JSON form when one has a space.
func args(a []string) string {
	for _, s := range a {
		if strings.Contains(s, " ") {
			b, _ := json.Marshal(a)
			return string(b)
		}
	}
	return strings.Join(a, " ")
}

// plainSource picks a source with no glob and no space: bind mount sources
// cannot be globs, and an ARG value with a space would be split into two
// sources after expansion. "." is always there to fall back on.
func (g *dfGen) plainSource() string {
	for range 10 {
		if c := pick(g.r, g.sources); !strings.ContainsAny(c, "*?[ ") {
			g.used = append(g.used, c)
			return c
		}
	}
	g.used = append(g.used, ".")
	return "."
}
