package advice

import (
	"bytes"
	"path"
	"regexp"
	"strconv"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

// dockerfileDoc is what advice reads from a Dockerfile beyond the layer
// model: the words of every RUN, its mounts, heredocs, WORKDIRs, ARGs and
// which stage builds FROM which. The stage chain and the layer of every
// context input stay in package dockerfile (one layer model); this is only
// the surface the findings quote.
type dockerfileDoc struct {
	syntax     string // the "# syntax=" directive, "" when absent
	syntaxLine int
	stages     []*stageInfo
	ignoreAll  map[string]bool // codes silenced for the file: "# rebuildd:ignore-file CODE"
}

// stageInfo is one FROM block.
type stageInfo struct {
	name   string // AS name, "" when unnamed
	index  int
	line   int
	base   string // the FROM argument as written
	parent int    // index of the stage FROM names; -1 for an image
	instrs []*instr
}

// instr is one instruction of a stage.
type instr struct {
	stage   int
	line    int
	end     int    // the last line, continuations and heredocs included
	name    string // upper-case: RUN, COPY, ARG, ...
	text    string // the instruction as written, continuations joined
	shell   string // RUN: the command words and heredoc bodies, for matching
	flags   []string
	heredoc bool
	mounts  []*instructions.Mount
	workdir string          // the WORKDIR in effect, "/" when none was set
	ignore  map[string]bool // codes silenced by "# rebuildd:ignore CODE" just above
	args    []instructions.KeyValuePairOptional
	from    string // COPY --from
}

// parseDockerfile reads src with BuildKit's parser and instructions
// packages. The caller has already loaded the same file through package
// dockerfile, so an error here only means no advice for it.
func parseDockerfile(src []byte) (*dockerfileDoc, error) {
	res, err := parser.Parse(bytes.NewReader(src))
	if err != nil {
		return nil, err
	}
	d := &dockerfileDoc{ignoreAll: map[string]bool{}}
	for _, m := range ignoreFileRE.FindAllSubmatch(src, -1) {
		addCodes(d.ignoreAll, string(m[1]))
	}
	if syntax, _, loc, ok := parser.DetectSyntax(src); ok {
		d.syntax = syntax
		d.syntaxLine = 1
		if len(loc) > 0 {
			d.syntaxLine = loc[0].Start.Line
		}
	}
	for _, n := range res.AST.Children {
		v, err := instructions.ParseInstruction(n)
		if err != nil {
			return nil, err
		}
		if st, ok := v.(*instructions.Stage); ok {
			d.addStage(st, n.StartLine)
			continue
		}
		if c, ok := v.(instructions.Command); ok && len(d.stages) > 0 {
			d.addInstr(c, n)
		}
	}
	return d, nil
}

func (d *dockerfileDoc) addStage(st *instructions.Stage, line int) {
	s := &stageInfo{name: st.Name, index: len(d.stages), line: line, base: st.BaseName, parent: -1}
	s.parent = d.find(st.BaseName, len(d.stages))
	d.stages = append(d.stages, s)
}

// find resolves a stage reference (name, case-insensitive as BuildKit does,
// or index) among the stages before limit; -1 when it names an image.
func (d *dockerfileDoc) find(ref string, limit int) int {
	if i, err := strconv.Atoi(ref); err == nil && i >= 0 && i < limit {
		return i
	}
	for i := 0; i < limit && i < len(d.stages); i++ {
		if d.stages[i].name != "" && strings.EqualFold(d.stages[i].name, ref) {
			return i
		}
	}
	return -1
}

func (d *dockerfileDoc) addInstr(c instructions.Command, n *parser.Node) {
	s := d.stages[len(d.stages)-1]
	in := &instr{
		stage:   s.index,
		line:    n.StartLine,
		end:     n.EndLine,
		name:    strings.ToUpper(n.Value),
		text:    strings.TrimSpace(n.Original),
		flags:   n.Flags,
		heredoc: len(n.Heredocs) > 0,
		workdir: d.workdir(s),
		ignore:  map[string]bool{},
	}
	for _, c := range n.PrevComment {
		if rest, ok := strings.CutPrefix(c, "rebuildd:ignore "); ok {
			addCodes(in.ignore, rest)
		}
	}
	switch c := c.(type) {
	case *instructions.RunCommand:
		in.shell = runText(c)
		// BuildKit parses --mount values only once it can expand them;
		// advice matches literal targets, so the words stay as written.
		if c.Expand(func(w string) (string, error) { return w, nil }) == nil {
			in.mounts = instructions.GetMounts(c)
		}
	case *instructions.WorkdirCommand:
		in.workdir = path.Join(in.workdir, c.Path)
		if path.IsAbs(c.Path) {
			in.workdir = path.Clean(c.Path)
		}
	case *instructions.ArgCommand:
		in.args = c.Args
	case *instructions.CopyCommand:
		in.from = c.From
	}
	s.instrs = append(s.instrs, in)
}

// workdir is the WORKDIR in effect at the end of stage s so far: a stage
// built FROM another inherits its WORKDIR, one FROM an image starts at "/"
// (the image's own WORKDIR is unknown without pulling it).
func (d *dockerfileDoc) workdir(s *stageInfo) string {
	if n := len(s.instrs); n > 0 {
		return s.instrs[n-1].workdir
	}
	if s.parent >= 0 {
		return d.workdir(d.stages[s.parent])
	}
	return "/"
}

// ignoreFileRE finds file-wide silencing comments anywhere in the file.
var ignoreFileRE = regexp.MustCompile(`(?m)^[ \t]*#[ \t]*rebuildd:ignore-file[ \t]+(.*)$`)

// addCodes adds the codes of a silencing comment, separated by commas or
// spaces; text after " -- " is the reason, for people.
func addCodes(set map[string]bool, list string) {
	list, _, _ = strings.Cut(list, " -- ")
	for _, c := range strings.FieldsFunc(list, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' }) {
		set[c] = true
	}
}

// runText is what a RUN executes, for matching package-manager commands:
// the command words plus the bodies of its heredocs.
func runText(c *instructions.RunCommand) string {
	parts := append([]string(nil), c.CmdLine...)
	for _, f := range c.Files {
		parts = append(parts, f.Data)
	}
	return strings.Join(parts, " ")
}

// builtOn reports whether stage s is stage base or builds FROM it, directly
// or transitively: base's layers continue into s (docs/design.md, layer stack).
func (d *dockerfileDoc) builtOn(s, base int) bool {
	for i := s; i >= 0; i = d.stages[i].parent {
		if i == base {
			return true
		}
	}
	return false
}

// follows reports whether instruction b runs on top of the layers of a:
// later in the same stage, or anywhere in a stage built FROM a's stage.
func (d *dockerfileDoc) follows(b, a *instr) bool {
	if b.stage == a.stage {
		return b.line > a.line
	}
	return d.builtOn(b.stage, a.stage)
}

// instrAt returns the instruction that starts at line, nil when none.
func (d *dockerfileDoc) instrAt(line int) *instr {
	for _, s := range d.stages {
		for _, in := range s.instrs {
			if in.line == line {
				return in
			}
		}
	}
	return nil
}

// runs returns the RUN instructions of the stages in chain, in file order.
func (d *dockerfileDoc) runs(chain map[int]bool) []*instr {
	var out []*instr
	for _, s := range d.stages {
		if !chain[s.index] {
			continue
		}
		for _, in := range s.instrs {
			if in.name == "RUN" {
				out = append(out, in)
			}
		}
	}
	return out
}

// hasFlag reports whether the instruction was written with --name.
func (in *instr) hasFlag(name string) bool {
	for _, f := range in.flags {
		if f == "--"+name || strings.HasPrefix(f, "--"+name+"=") {
			return true
		}
	}
	return false
}

// brief is the instruction for a message: a RUN as its command alone (its
// --mount flags are noise there), cut to one readable line.
func (in *instr) brief() string {
	if in.name == "RUN" && in.shell != "" {
		return shortInstr("RUN " + in.shell)
	}
	return shortInstr(in.text)
}

// full is the instruction for a fix, whitespace collapsed but whole, so it
// can be pasted.
func (in *instr) full() string {
	return strings.Join(strings.Fields(in.text), " ")
}

// stageLabel is how a stage is named in messages.
func (s *stageInfo) label() string {
	if s.name != "" {
		return s.name
	}
	return strconv.Itoa(s.index)
}
