package dockerfile

import (
	"bytes"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"unicode"

	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

// Parsing a large Dockerfile (issue 17: "Analysis is near-linear in
// Dockerfile size", 200,000 COPY lines in under a second). BuildKit's
// parser.Parse runs three regular expressions over every line; on a
// generated Dockerfile of one-line COPY instructions that is most of the
// analysis. parseFile gives exactly parser.Parse's result (the AST, the
// escape token and the warnings; any error is parser.Parse's own, from a
// plain parse of the whole file) but builds the nodes of long runs of
// plain one-line instructions itself, and hands everything else, in
// pieces, to parser.Parse.
//
// Why a piece parses alone as it does inside the whole file. A plain line
// (plainLine) is taken as an instruction of its own only when the line
// before it ends an instruction for certain: it is neither empty nor a
// comment, and does not end in an escape character (`\` or “`”), so no
// line continuation runs past it. parser.Parse's state there is then
// known: no continuation open, no comments gathered for the next node,
// parser directives over (that line was not one), the file's escape
// token. Two cases remain, and both make the piece before the plain line
// fail to parse alone, which sends the whole file to parser.Parse: that
// line opened heredocs (their bodies would start at the plain line:
// "unterminated heredoc"), or it lies in the body of a heredoc opened
// earlier in the same piece (the same error). A plain line itself opens
// no heredoc and continues nothing, so the line after it is an
// instruction boundary too. A piece after the first is parsed behind
// "# escape=X" and an empty comment: the file's escape token, parser
// directives over, no comments gathered, and line numbers moved by the
// piece's place in the file.

// fastParseFrom is the size from which parseFile looks for plain lines;
// below it a Dockerfile is parsed by parser.Parse alone (a real one has
// tens of instructions). A variable for the tests.
var fastParseFrom = 64 << 10

// minPlainRun is the fewest plain lines in a row that parseFile builds
// itself: each piece left to parser.Parse costs ~10 µs of set-up, so a
// file of plain lines between other instructions is not cut line by line.
// A variable for the tests.
var minPlainRun = 32

// maxPlainLine bounds a plain line, far below bufio.Scanner's 64 KiB
// token limit that parser.Parse fails on.
const maxPlainLine = 4096

// parseFile is parser.Parse(bytes.NewReader(src)), faster on large files.
func parseFile(src []byte) (*parser.Result, error) {
	if len(src) >= fastParseFrom {
		if res, ok := parsePieces(src, minPlainRun); ok {
			return res, nil
		}
	}
	return parser.Parse(bytes.NewReader(src))
}

// parsePieces parses src as described above. ok is false when a piece
// does not parse alone: the caller then parses the whole file, which
// gives parser.Parse's own error or (a plain line in a heredoc body) its
// own reading.
func parsePieces(src []byte, minRun int) (res *parser.Result, ok bool) {
	off := lineOffsets(src)
	lines := make([][]byte, len(off)-1)
	for i := range lines {
		lines[i] = src[off[i]:off[i+1]]
	}
	plain := make([]bool, len(lines))
	var heredocs [][]byte // terminators the lines may be waiting for, in order
	for i, l := range lines {
		if len(heredocs) > 0 {
			if bytes.Equal(bytes.TrimLeft(trimNewline(l), "\t"), heredocs[0]) {
				heredocs = heredocs[1:]
			}
			continue
		}
		if i > 0 && plainLine(l) && endsInstruction(lines[i-1]) {
			plain[i] = true
			continue
		}
		heredocs = heredocNames(trimNewline(l))
	}
	// Runs of at least minRun plain lines are built here; every other line
	// goes to parser.Parse, in pieces between those runs.
	type piece struct {
		lo, hi int // lines[lo:hi]
		built  bool
	}
	var pieces []piece
	lo := 0
	for i := 0; i < len(lines); {
		if !plain[i] {
			i++
			continue
		}
		j := i
		for j < len(lines) && plain[j] {
			j++
		}
		if j-i >= minRun {
			if lo < i {
				pieces = append(pieces, piece{lo, i, false})
			}
			pieces = append(pieces, piece{i, j, true})
			lo = j
		}
		i = j
	}
	if lo < len(lines) {
		pieces = append(pieces, piece{lo, len(lines), false})
	}
	if len(pieces) < 2 {
		return nil, false // no plain run (line 0 never is one): parse it whole
	}

	// The first piece is parsed first: it holds the parser directives, so
	// its escape token is the file's. The others, built or parsed, are
	// independent of each other then and are done on every core, a built
	// piece in parts of at most plainTask lines.
	first, err := parsePiece(src[off[0]:off[pieces[0].hi]], 0, 0)
	if err != nil {
		return nil, false
	}
	type task struct {
		piece  piece
		nodes  []*parser.Node
		warned []parser.Warning
		err    error
	}
	var tasks []task
	for _, p := range pieces[1:] {
		for lo := p.lo; lo < p.hi; lo += plainTask {
			hi := p.hi
			if p.built {
				hi = min(hi, lo+plainTask)
			}
			tasks = append(tasks, task{piece: piece{lo, hi, p.built}})
			if !p.built {
				break
			}
		}
	}
	text := string(src) // the nodes' strings share it
	run := func(t *task) {
		p := t.piece
		switch {
		case p.built:
			t.nodes = plainNodes(text, off[p.lo:p.hi+1], p.lo+1)
		case p.hi == len(lines) && onlyComments(lines[p.lo:p.hi]):
			// trailing comments and blank lines make no node
		default:
			var r *parser.Result
			r, t.err = parsePiece(src[off[p.lo]:off[p.hi]], p.lo, first.EscapeToken)
			if t.err == nil {
				t.nodes, t.warned = r.AST.Children, r.Warnings
			}
		}
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(tasks)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1)) - 1; i < len(tasks); i = int(next.Add(1)) - 1 {
				run(&tasks[i])
			}
		}()
	}
	wg.Wait()

	n := len(first.AST.Children)
	for _, t := range tasks {
		if t.err != nil {
			return nil, false
		}
		n += len(t.nodes)
	}
	root := &parser.Node{Children: make([]*parser.Node, 0, n)}
	root.Children = append(root.Children, first.AST.Children...)
	warnings := first.Warnings
	for _, t := range tasks {
		root.Children = append(root.Children, t.nodes...)
		warnings = append(warnings, t.warned...)
	}
	root.StartLine = root.Children[0].StartLine
	root.EndLine = root.Children[len(root.Children)-1].EndLine
	return &parser.Result{AST: root, Warnings: warnings, EscapeToken: first.EscapeToken}, true
}

// plainTask is the most plain lines one task of parsePieces builds.
const plainTask = 8192

// parsePiece runs parser.Parse on the piece of the file that starts at
// line index lo. A piece after the first (lo > 0) is parsed behind
// "# escape=X" and an empty comment: the file's escape token, parser
// directives over (the empty comment ends them), no comments gathered.
// Line numbers are the file's.
func parsePiece(piece []byte, lo int, escape rune) (*parser.Result, error) {
	shift := 0
	if lo > 0 {
		head := "# escape=" + string(escape) + "\n#\n"
		piece = append([]byte(head), piece...)
		shift = lo - 2 // the piece's first line is line 3 of what is parsed
	}
	r, err := parser.Parse(bytes.NewReader(piece))
	if err != nil || shift == 0 {
		return r, err
	}
	for _, n := range r.AST.Children {
		n.StartLine += shift
		n.EndLine += shift
	}
	for _, w := range r.Warnings {
		if w.Location != nil {
			w.Location.Start.Line += shift
			w.Location.End.Line += shift
		}
	}
	r.AST.StartLine += shift
	r.AST.EndLine += shift
	return r, nil
}

// lineOffsets gives where each line of src starts, as parser.Parse reads
// lines (each with its "\n"; the last may have none), and len(src) last.
func lineOffsets(src []byte) []int {
	off := make([]int, 1, bytes.Count(src, []byte("\n"))+2)
	for i := 0; i < len(src); {
		j := bytes.IndexByte(src[i:], '\n')
		if j < 0 {
			i = len(src)
		} else {
			i += j + 1
		}
		off = append(off, i)
	}
	return off
}

// trimNewline is parser.Parse's: a line without its line ending.
func trimNewline(line []byte) []byte { return bytes.TrimRight(line, "\r\n") }

// endsInstruction reports whether a line ends the instruction it belongs
// to whatever the escape token, unless it is part of a heredoc: a line
// that is not empty (parser.Parse skips empty lines, also inside a line
// continuation), not a comment (skipped inside a continuation too) and
// does not end in `\` or “`” followed by spaces and tabs (the line
// continuation of either escape token).
func endsInstruction(line []byte) bool {
	t := trimNewline(line)
	lt := bytes.TrimLeftFunc(t, unicode.IsSpace)
	if len(lt) == 0 || lt[0] == '#' {
		return false
	}
	t = bytes.TrimRight(t, " \t")
	last := t[len(t)-1]
	return last != '\\' && last != '`'
}

// plainLine reports whether a line is a plain one-line COPY, ADD or RUN:
// the instruction word at the start of the line, words of printable ASCII
// apart from quotes, escape characters, '[', '#' and '<', one space
// between words, flags ("--x...") first and at least one argument after
// them. parser.Parse makes of it what plainNode does.
func plainLine(line []byte) bool {
	t := trimNewline(line)
	if len(t) == 0 || len(t) > maxPlainLine {
		return false
	}
	for i, c := range t {
		switch {
		case c < 0x20 || c > 0x7e:
			return false
		case c == '\\' || c == '`' || c == '\'' || c == '"' || c == '[' || c == '#' || c == '<':
			return false
		case c == ' ' && (i == 0 || t[i-1] == ' ' || i == len(t)-1):
			return false
		}
	}
	kw, rest, ok := bytes.Cut(t, []byte(" "))
	if !ok {
		return false
	}
	switch strings.ToLower(string(kw)) {
	case "copy", "add", "run":
	default:
		return false
	}
	for {
		w, r, more := bytes.Cut(rest, []byte(" "))
		if !bytes.HasPrefix(w, []byte("--")) {
			return true // the first argument
		}
		if len(w) == 2 || !more {
			return false // "--" ends the flags; or flags and no argument
		}
		rest = r
	}
}

// plainNodes are the nodes parser.Parse makes of plain lines (plainLine)
// of text: line i is text[off[i]:off[i+1]], line number line+i of the
// file. Each is splitCommand's instruction word,
// flags and arguments, then parseMaybeJSONToList's word list (COPY, ADD)
// or parseMaybeJSON's single string (RUN); never JSON, as no '[' is in the
// line. The nodes are allocated together and their strings are parts of
// text.
func plainNodes(text string, off []int, line int) []*parser.Node {
	lines := len(off) - 1
	words := 0
	for i := range lines {
		words += strings.Count(text[off[i]:off[i+1]], " ")
	}
	slab := make([]parser.Node, 0, lines+words)
	out := make([]*parser.Node, lines)
	for i := range lines {
		t := text[off[i]:off[i+1]]
		t = t[:len(strings.TrimRight(t, "\r\n"))]
		kw, rest, _ := strings.Cut(t, " ")
		flags := []string{}
		for strings.HasPrefix(rest, "--") {
			w, r, _ := strings.Cut(rest, " ")
			flags = append(flags, w)
			rest = r
		}
		n := len(slab)
		slab = append(slab, parser.Node{Value: kw, Original: t, Flags: flags, StartLine: line + i, EndLine: line + i})
		if strings.EqualFold(kw, "run") {
			slab = append(slab, parser.Node{Value: rest})
		} else {
			for {
				w, r, more := strings.Cut(rest, " ")
				slab = append(slab, parser.Node{Value: w})
				if !more {
					break
				}
				rest = r
			}
		}
		for j := n + 1; j < len(slab)-1; j++ {
			slab[j].Next = &slab[j+1]
		}
		slab[n].Next = &slab[n+1]
		out[i] = &slab[n]
	}
	return out
}

// heredocNames guesses the terminators of the heredocs a line opens, so
// that the lines of their bodies are not taken for plain lines: each word
// after a "<<" (and an optional '-'), without quotes. A wrong guess costs
// only speed: a body line taken for a plain line makes its piece fail to
// parse alone ("unterminated heredoc"), and a line not taken for one is
// left to parser.Parse.
func heredocNames(line []byte) [][]byte {
	var names [][]byte
	for {
		i := bytes.Index(line, []byte("<<"))
		if i < 0 {
			return names
		}
		line = line[i+2:]
		w := bytes.TrimLeft(bytes.TrimPrefix(line, []byte("-")), " \t")
		if end := bytes.IndexAny(w, " \t<"); end >= 0 {
			w = w[:end]
		}
		w = bytes.Map(func(r rune) rune {
			if r == '\'' || r == '"' {
				return -1
			}
			return r
		}, w)
		if len(w) > 0 {
			names = append(names, w)
		}
	}
}

// onlyComments reports whether lines hold nothing parser.Parse makes a
// node of: empty lines and comments, each well below its line limit.
func onlyComments(lines [][]byte) bool {
	for _, l := range lines {
		if len(l) > maxPlainLine {
			return false
		}
		lt := bytes.TrimLeftFunc(trimNewline(l), unicode.IsSpace)
		if len(lt) > 0 && lt[0] != '#' {
			return false
		}
	}
	return true
}
