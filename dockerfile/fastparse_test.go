package dockerfile

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

// parseCorpus is every Dockerfile the tests know: the golden cases and
// projects, FuzzAnalyze's seeds and kept corpus, the hostile inputs.
func parseCorpus(t *testing.T) map[string]string {
	out := map[string]string{}
	files, _ := filepath.Glob("../testdata/dockerfile/*/*Dockerfile*")
	more, _ := filepath.Glob("../testdata/projects/*/services/*/Dockerfile")
	for _, f := range append(files, more...) {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out[f] = string(src)
	}
	fuzz, _ := filepath.Glob("testdata/fuzz/FuzzAnalyze/*")
	for _, f := range fuzz {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(fh)
		sc.Buffer(nil, 16<<20)
		for sc.Scan() {
			if q, ok := strings.CutPrefix(sc.Text(), "string("); ok {
				if s, err := strconv.Unquote(strings.TrimSuffix(q, ")")); err == nil {
					out[f] = s
				}
				break
			}
		}
		fh.Close()
	}
	for i, s := range hostileDockerfiles() {
		out[fmt.Sprintf("hostile %d", i)] = s
	}
	return out
}

// genDockerfile writes a Dockerfile of n random parts, each a shape
// parsePieces must get right: runs of plain lines, and next to them line
// continuations (`\` or “`”, with comments and empty lines inside),
// heredocs whose bodies hold lines that look plain, comments, parser
// directives, a byte-order mark, CRLF line ends, JSON forms, ONBUILD.
func genDockerfile(r *rand.Rand, n int) string {
	var b strings.Builder
	esc := `\`
	switch r.Intn(6) {
	case 0:
		b.WriteString("# escape=`\n")
		esc = "`"
	case 1:
		b.WriteString("# syntax=docker/dockerfile:1\n# escape=\\\n")
	case 2:
		b.WriteString("\xef\xbb\xbf# check=skip=all\n")
	case 3:
		b.WriteString("#!/bin/sh\n# escape=`\n")
		esc = "`"
	}
	b.WriteString("FROM base AS s0\n")
	plain := func() string {
		switch r.Intn(10) {
		case 0:
			return fmt.Sprintf("ADD --chown=1:1 --link f%d /x/", r.Intn(100))
		case 1:
			return fmt.Sprintf("run make t%d", r.Intn(100))
		case 2:
			return fmt.Sprintf("RUN --mount=type=bind,source=d%d,target=/m cc -o /x", r.Intn(100))
		case 3:
			return fmt.Sprintf("COPY --from=s0 /a%d /b", r.Intn(100))
		case 4:
			return fmt.Sprintf("copy ${A}/f%d $A/g%d ./", r.Intn(100), r.Intn(100))
		case 5:
			return []string{"COPY a", "COPY ../x ./y/../z /d", "COPY http://h/x /d", "COPY a/*.go b?/ /d/"}[r.Intn(4)]
		default:
			return fmt.Sprintf("COPY src/f%d.txt src/g%d /app/", r.Intn(1000), r.Intn(1000))
		}
	}
	for range n {
		switch r.Intn(20) {
		case 0: // heredoc whose body looks like instructions
			tag := []string{"EOF", "'EOF'", "\"END\"", "-EOF"}[r.Intn(4)]
			name := strings.Trim(tag, "'\"-")
			fmt.Fprintf(&b, "RUN <<%s\n", tag)
			for range r.Intn(80) {
				b.WriteString(plain() + "\n")
			}
			if strings.HasPrefix(tag, "-") {
				b.WriteString("\t")
			}
			b.WriteString(name + "\n")
		case 1: // two heredocs on one COPY
			b.WriteString("COPY <<A <<B /dst/\n" + plain() + "\nA\nCOPY x y\nB\n")
		case 2: // continuation with comments and empty lines inside
			fmt.Fprintf(&b, "RUN echo a %s\n# inside\n\n  %s  %s\n%s\n", esc, plain(), esc, plain())
		case 3: // continuation with the other escape character
			other := map[string]string{`\`: "`", "`": `\`}[esc]
			fmt.Fprintf(&b, "%s %s\n%s\n", plain(), other, plain())
		case 4:
			b.WriteString("# a comment\n#\n# rebuildd:ignore x\n")
		case 5:
			b.WriteString("\n   \n\t\n")
		case 6:
			b.WriteString(plain() + "\r\n")
		case 7:
			b.WriteString(`COPY ["a b", "/c/"]` + "\n")
		case 8:
			b.WriteString("ONBUILD " + plain() + "\n")
		case 9:
			b.WriteString("# escape=`\n# syntax=x\n")
		case 10:
			b.WriteString("  " + plain() + "  \n")
		case 11:
			fmt.Fprintf(&b, "FROM s0 AS s%d\n", r.Intn(1000)+1)
		case 12:
			b.WriteString("ENV A=1 B=\"2 3\"\nARG C\nWORKDIR /w\n")
		case 13:
			b.WriteString("COPY -- a b\nCOPY --from=s0\n")
		case 14:
			fmt.Fprintf(&b, "RUN a %s\n", esc) // continues into the next part
		default:
			for range r.Intn(3 * minRunFor(r)) {
				b.WriteString(plain() + "\n")
			}
		}
	}
	if r.Intn(2) == 0 {
		b.WriteString("# trailing\n\n")
	}
	return b.String()
}

func minRunFor(r *rand.Rand) int { return 1 + r.Intn(40) }

// checkParse compares parsePieces with parser.Parse on src: where
// parser.Parse fails parsePieces must give up (parseFile then returns
// parser.Parse's error); where it succeeds, parsePieces either gives up or
// gives exactly its result. It reports whether parsePieces answered.
func checkParse(t *testing.T, name, src string, minRun int) bool {
	t.Helper()
	text, err := textOf([]byte(src), name) // as Analyze parses it
	if err != nil {
		return false
	}
	want, werr := parser.Parse(strings.NewReader(string(text)))
	got, ok := parsePieces(text, minRun)
	switch {
	case werr != nil && ok:
		t.Fatalf("%s: parser.Parse fails (%v), parsePieces does not", name, werr)
	case ok && !reflect.DeepEqual(got, want):
		t.Fatalf("%s: parsePieces differs from parser.Parse (min run %d):\n got %s\nwant %s\nsource:\n%s", name, minRun, dumpResult(got), dumpResult(want), src)
	}
	return ok
}

func dumpResult(r *parser.Result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "escape %q, %d warnings\n", r.EscapeToken, len(r.Warnings))
	fmt.Fprintf(&b, "root %d-%d\n", r.AST.StartLine, r.AST.EndLine)
	for _, n := range r.AST.Children {
		j, _ := json.Marshal(n)
		fmt.Fprintf(&b, "%d-%d %s\n", n.StartLine, n.EndLine, j)
	}
	return b.String()
}

// TestParsePiecesCorpus: on every known Dockerfile, cut wherever a plain
// line allows, the pieces give parser.Parse's result.
func TestParsePiecesCorpus(t *testing.T) {
	for name, src := range parseCorpus(t) {
		checkParse(t, name, src, minPlainRun)
		if len(src) < 256<<10 { // cut line by line, the large hostile inputs take seconds
			checkParse(t, name, src, 1)
		}
	}
	// The benchmark's Dockerfile, with the escape directive too, takes the
	// fast path: the speed is not lost to a silent fallback.
	huge := string(hugeDockerfile(20_000))
	for _, src := range []string{huge, "# escape=`\n" + huge} {
		if !checkParse(t, "huge", src, minPlainRun) {
			t.Errorf("parsePieces gave up on BenchmarkAnalyzeHuge's Dockerfile")
		}
	}
}

// TestParsePiecesGenerated: the same on generated Dockerfiles, most of
// which parsePieces must answer (not give up on).
func TestParsePiecesGenerated(t *testing.T) {
	r := rand.New(rand.NewSource(17))
	cases, answered := 1000, 0
	if testing.Short() {
		cases = 300
	}
	for i := range cases {
		src := genDockerfile(r, 1+r.Intn(40))
		if checkParse(t, fmt.Sprintf("generated %d", i), src, minRunFor(r)) {
			answered++
		}
	}
	if answered < cases/2 {
		t.Errorf("parsePieces answered %d of %d generated Dockerfiles; the fast path is not tested", answered, cases)
	}
}

var didYouMean = regexp.MustCompile(`(?i) \(did you mean [a-z]+\?\)`)

// TestAnalyzeFastParse: Analyze gives the same model (or the same error)
// with the pieced parse and plainCopy at every size as with parser.Parse
// and instructions.ParseInstruction alone.
func TestAnalyzeFastParse(t *testing.T) {
	all := map[string]string{}
	for name, src := range parseCorpus(t) {
		if len(src) < 64<<10 { // the large ones: TestParsePiecesCorpus (the same AST)
			all[name] = src
		}
	}
	r := rand.New(rand.NewSource(18))
	for i := range 300 {
		all[fmt.Sprintf("generated %d", i)] = genDockerfile(r, 1+r.Intn(40))
	}
	all["huge"] = string(hugeDockerfile(20_000))
	for name, src := range all {
		checkFastAnalysis(t, name, src)
	}
}

// FuzzAnalyzeFastParse: the same on any text.
func FuzzAnalyzeFastParse(f *testing.F) {
	r := rand.New(rand.NewSource(20))
	for range 20 {
		f.Add(genDockerfile(r, 1+r.Intn(10)))
	}
	f.Fuzz(func(t *testing.T, src string) {
		checkFastAnalysis(t, "fuzzed", src)
	})
}

// checkFastAnalysis analyses src with the fast paths for large files on
// (at any size, cut line by line) and off, and fails when the models or
// the errors differ.
func checkFastAnalysis(t *testing.T, name, src string) {
	t.Helper()
	from, run := fastParseFrom, minPlainRun
	defer func() { fastParseFrom, minPlainRun = from, run }()
	var plans []*syncPlan
	analyze := func(fast bool) string {
		fastParseFrom, minPlainRun = 1<<62, 32
		if fast {
			fastParseFrom, minPlainRun = 0, 1
		}
		an, err := Analyze([]byte(src), "Dockerfile", "", map[string]string{"A": "b"})
		if err != nil {
			// BuildKit's "did you mean" picks one of two equally near
			// instructions at random.
			return "error: " + didYouMean.ReplaceAllString(err.Error(), "")
		}
		j, err := json.Marshal(an)
		if err != nil {
			t.Fatal(err)
		}
		// Sync's plan: by value (the positions by input, not by pointer).
		var at []wpos
		for _, in := range an.Inputs {
			at = append(at, an.plan.at[in])
		}
		plans = append(plans, an.plan)
		return string(j) + fmt.Sprintf("\n%v %v", an.plan.stack, at)
	}
	got, want := analyze(true), analyze(false)
	if got == want && len(plans) == 2 && !reflect.DeepEqual(plans[0].stages, plans[1].stages) {
		got += " (and Sync's plan differs)"
	}
	if got != want {
		t.Fatalf("%s: the fast paths change the analysis:\n got %.2000s\nwant %.2000s", name, got, want)
	}
}

// FuzzParsePieces: on any text, parsePieces cut line by line either gives
// up or gives parser.Parse's result, and gives up where parser.Parse fails.
func FuzzParsePieces(f *testing.F) {
	r := rand.New(rand.NewSource(19))
	for range 20 {
		f.Add(genDockerfile(r, 1+r.Intn(10)))
	}
	f.Add("FROM a\nCOPY a b\nRUN <<EOF\nCOPY c d\nEOF\nCOPY e f\n")
	f.Add("# escape=`\nFROM a\nCOPY a b `\nCOPY c d\n")
	f.Fuzz(func(t *testing.T, src string) {
		checkParse(t, "fuzzed", src, 1)
	})
}
