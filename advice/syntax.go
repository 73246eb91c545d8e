package advice

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// feature is Dockerfile syntax that needs a newer frontend than some
// engines have built in.
type feature struct {
	what      string
	line      int
	minor     int // docker/dockerfile:1.<minor> parses it
	labsMinor int // docker/dockerfile:1.<labsMinor>-labs parses it; 0: as minor
}

// flagFeatures are the instruction flags newer than some built-in
// frontend, with the Dockerfile version that made each stable (BuildKit's
// Dockerfile reference, "Minimum Dockerfile version") and, for those that
// were in the labs channel first, the labs version.
var flagFeatures = []struct {
	instr, flag      string // instr "" : any instruction
	minor, labsMinor int
}{
	{"RUN", "mount", 2, 0},
	{"RUN", "network", 3, 0},
	{"RUN", "security", 20, 1},
	{"RUN", "device", 27, 14},
	{"", "chmod", 2, 0},
	{"", "link", 4, 0},
	{"ADD", "checksum", 6, 5},
	{"ADD", "unpack", 17, 0},
	{"", "exclude", 19, 7},
	{"COPY", "parents", 20, 7},
}

// syntaxLine reports syntax the engine's built-in Dockerfile frontend does
// not parse when no "# syntax=" line names one that does, and a line that
// names a frontend too old for the file. It recommends the line only then:
// the line makes every build fetch the frontend from a registry, which
// breaks offline builds that the built-in frontend would have done.
func syntaxLine(s *subject) []Finding {
	fe, assumed := builtinFrontend(s.engine)
	feats := s.features()
	if s.doc.syntax == "" {
		var beyond []feature
		for _, f := range feats {
			if f.minor > fe.minor {
				beyond = append(beyond, f)
			}
		}
		if len(beyond) == 0 {
			return nil
		}
		file, line := s.at(beyond[0].line)
		return []Finding{{Code: CodeSyntaxLine, Severity: Warn, File: file, Line: line,
			Message: fmt.Sprintf("the Dockerfile uses %s without a `# syntax=` line, and %s does not parse it%s",
				s.listFeatures(beyond), fe.describe(), assumedNote(assumed)),
			Fix: syntaxFix(beyond)}}
	}
	var old []feature
	for _, f := range feats {
		if ok, known := syntaxSatisfies(s.doc.syntax, f); known && !ok {
			old = append(old, f)
		}
	}
	if len(old) == 0 {
		return nil
	}
	file, line := s.at(s.doc.syntaxLine)
	return []Finding{{Code: CodeSyntaxLine, Severity: Warn, File: file, Line: line,
		Message: fmt.Sprintf("`# syntax=%s` is older than %s needs", s.doc.syntax, s.listFeatures(old)),
		Fix:     "change it to:\n# syntax=docker/dockerfile:1"}}
}

// syntaxFix is the line to add, what it costs, and the way without it.
func syntaxFix(beyond []feature) string {
	need := 0
	for _, f := range beyond {
		need = max(need, f.minor)
	}
	fix := "make this the first line of the Dockerfile:\n# syntax=docker/dockerfile:1\n" +
		"(BuildKit then fetches the docker/dockerfile frontend image from a registry, Docker Hub, at every build;\n" +
		"without registry access the build fails"
	if engine := firstBuiltin(need); engine != "" {
		fix += "; " + engine + " and later parse it without the line"
	}
	return fix + ")"
}

func (s *subject) listFeatures(fs []feature) string {
	var whats []string
	for _, f := range fs {
		whats = append(whats, fmt.Sprintf("%s (line %d)", f.what, s.ln(f.line)))
	}
	return strings.Join(whats, ", ")
}

// features lists, in file order, the syntax that needs a newer frontend
// than the oldest engines have. The whole file counts, not just the chain:
// the frontend parses it all.
func (s *subject) features() []feature {
	var out []feature
	for _, st := range s.doc.stages {
		for _, in := range st.instrs {
			if in.heredoc {
				out = append(out, feature{what: "a heredoc", line: in.line, minor: 4, labsMinor: 3})
			}
			for _, f := range flagFeatures {
				if (f.instr == "" || f.instr == in.name) && in.hasFlag(f.flag) {
					out = append(out, feature{what: in.name + " --" + f.flag, line: in.line, minor: f.minor, labsMinor: f.labsMinor})
				}
			}
			for _, m := range in.mounts {
				if m.Env != nil {
					out = append(out, feature{what: "RUN --mount=type=secret,env=", line: in.line, minor: 10})
				}
			}
		}
	}
	return out
}

// dockerfileRef parses the official frontend's references:
// docker/dockerfile, docker/dockerfile:1, :1.4, :1.4.3, :1.7-labs, with an
// optional docker.io/ prefix and @digest.
var dockerfileRef = regexp.MustCompile(`^(?:docker\.io/)?docker/dockerfile(?:-upstream)?(?::([0-9]+)(?:\.([0-9]+))?(?:\.[0-9]+)?(-labs)?|:(latest|labs))?(?:@sha256:[0-9a-f]+)?$`)

// syntaxSatisfies reports whether the syntax directive has the feature;
// known is false for a frontend it cannot judge (a custom image).
func syntaxSatisfies(syntax string, f feature) (ok, known bool) {
	m := dockerfileRef.FindStringSubmatch(syntax)
	if m == nil {
		return false, false
	}
	if m[4] != "" || m[1] == "" {
		return true, true // latest, labs, or no tag: the newest 1.x
	}
	major, _ := strconv.Atoi(m[1])
	if major > 1 || m[2] == "" {
		return true, true // "1" follows the newest 1.x
	}
	minor, _ := strconv.Atoi(m[2])
	if m[3] != "" && f.labsMinor > 0 {
		return minor >= f.labsMinor, true
	}
	return minor >= f.minor, true
}
