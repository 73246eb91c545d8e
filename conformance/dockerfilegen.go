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
type dfGen struct {
	r       *rand.Rand
	mounts  bool     // RUN --mount=type=bind allowed
	sources []string // COPY sources that exist in the context
	used    []string // the sources the Dockerfile names, for choosing a change
	b       strings.Builder
	n       int
	stages  []genStage
}

// genStage is what later stages may refer to.
type genStage struct {
	name  string   // "" when unnamed
	dests []string // directories its instructions (and its FROM stage's) wrote
}

// dockerfile returns the Dockerfile and the target ("" = last stage).
func (g *dfGen) dockerfile(base string) (string, string) {
	n := 1 + g.r.IntN(4)
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
	if len(named) > 0 && chance(g.r, 0.4) {
		target = pick(g.r, named)
	}
	return g.b.String(), target
}

// stage writes FROM and one to five instructions.
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
		s.dests = append(s.dests, g.stages[j].dests...)
	}
	line := "FROM " + from
	if i == 0 || chance(g.r, 0.75) {
		s.name = "s" + strconv.Itoa(i)
		line += " AS " + s.name
	}
	g.line(line)
	for range 1 + g.r.IntN(5) {
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
		g.copyContext(s, "COPY", n)
	case x < 5:
		g.copyContext(s, "ADD", n)
	case x < 7:
		g.line(fmt.Sprintf("RUN echo %d > /r%d", n, n))
	case x < 8 && g.mounts:
		g.runMount(n)
	case x < 9 && len(g.stages) > 0:
		g.copyFrom(s, n)
	default:
		src := g.plainSource()
		g.line(fmt.Sprintf("ARG F%d=%s", n, src))
		dst := fmt.Sprintf("/a%d/", n)
		g.line(fmt.Sprintf("COPY ${F%d} %s", n, dst))
		s.dests = append(s.dests, dst)
	}
}

// copyContext writes COPY or ADD of one to three context sources.
func (g *dfGen) copyContext(s *genStage, kind string, n int) {
	srcs := make([]string, 1+g.r.IntN(3))
	for i := range srcs {
		srcs[i] = pick(g.r, g.sources)
	}
	g.used = append(g.used, srcs...)
	dst := fmt.Sprintf("/w%d/", n)
	g.line(kind + " " + args(append(srcs, dst)))
	s.dests = append(s.dests, dst)
}

// runMount writes a RUN with a bind mount of the context: a source path, or
// none (the whole context).
func (g *dfGen) runMount(n int) {
	src := ""
	if chance(g.r, 0.7) {
		src = ",source=" + g.plainSource()
	}
	// A target of its own: a file mounted where an earlier mount left a
	// directory fails ("not a directory"), in Docker, not in rebuildd.
	g.line(fmt.Sprintf("RUN --mount=type=bind%s,target=/m%d ls /m%d > /b%d", src, n, n, n))
}

// copyFrom writes COPY --from an earlier stage, by name or by index,
// copying a directory that stage wrote (or a file every stage has).
func (g *dfGen) copyFrom(s *genStage, n int) {
	j := g.r.IntN(len(g.stages))
	from := strconv.Itoa(j)
	if g.stages[j].name != "" && chance(g.r, 0.6) {
		from = g.stages[j].name
	}
	src := "/etc/group"
	if d := g.stages[j].dests; len(d) > 0 {
		src = pick(g.r, d)
	}
	dst := fmt.Sprintf("/f%d/", n)
	g.line(fmt.Sprintf("COPY --from=%s %s %s", from, src, dst))
	s.dests = append(s.dests, dst)
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
