package advice

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// feature is Dockerfile syntax that needs a newer frontend than some
// engines still in use build with.
type feature struct {
	what  string
	line  int
	minor int  // needs docker/dockerfile:1.<minor>
	labs  bool // only in the -labs channel
}

// Engines build with the Dockerfile frontend they ship unless a
// "# syntax=" line names one. Docker 20.10 (still common, and what CI here
// runs) ships 1.2: RUN --mount works, heredocs (1.4), COPY --link (1.4) and
// ADD --checksum (1.6) fail to parse. So: warn when a feature needs 1.4 or
// later, info when only --mount is used (it fails on Docker 19.03 and older).
const warnFromMinor = 4

// syntaxLine reports features used without a "# syntax=" line that
// guarantees a frontend that has them, or with one that is too old.
func syntaxLine(s *subject) []Finding {
	feats := s.features()
	if len(feats) == 0 {
		return nil
	}
	need := feats[0]
	for _, f := range feats[1:] {
		if f.labs && !need.labs || f.minor > need.minor {
			need = f
		}
	}
	var whats []string
	for _, f := range feats {
		whats = append(whats, fmt.Sprintf("%s (line %d)", f.what, s.ln(f.line)))
	}
	want := "docker/dockerfile:1"
	if need.labs {
		want = "docker/dockerfile:1.7-labs"
	}
	if s.doc.syntax == "" {
		sev := Info
		if need.labs || need.minor >= warnFromMinor {
			sev = Warn
		}
		file, line := s.at(need.line)
		return []Finding{{Code: CodeSyntaxLine, Severity: sev, File: file, Line: line,
			Message: fmt.Sprintf("the Dockerfile uses %s without a `# syntax=` line: %s", strings.Join(whats, ", "), whoFails(need)),
			Fix:     fmt.Sprintf("make this the first line of the Dockerfile:\n# syntax=%s\n(BuildKit fetches that frontend image from Docker Hub; an offline builder needs it cached)", want)}}
	}
	if ok, known := syntaxSatisfies(s.doc.syntax, need); !known || ok {
		return nil
	}
	file, line := s.at(s.doc.syntaxLine)
	return []Finding{{Code: CodeSyntaxLine, Severity: Warn, File: file, Line: line,
		Message: fmt.Sprintf("`# syntax=%s` is older than %s needs", s.doc.syntax, strings.Join(whats, ", ")),
		Fix:     fmt.Sprintf("change it to:\n# syntax=%s", want)}}
}

// whoFails says which engines cannot build the feature with their
// built-in frontend.
func whoFails(f feature) string {
	switch {
	case f.labs:
		return "only the docker/dockerfile:1.7-labs frontend (or a newer labs one) parses it, so every engine's built-in frontend fails"
	case f.minor >= warnFromMinor:
		return fmt.Sprintf("an engine whose built-in frontend predates 1.%d, such as Docker 20.10 (1.2), fails to parse it", f.minor)
	}
	return "Docker 20.10 and later build it, Docker 19.03 and older fail to parse it"
}

// features lists, in file order, the syntax that needs a newer frontend.
// The whole file counts, not just the chain: the frontend parses it all.
func (s *subject) features() []feature {
	var out []feature
	for _, st := range s.doc.stages {
		for _, in := range st.instrs {
			if in.heredoc {
				out = append(out, feature{what: "a heredoc", line: in.line, minor: 4})
			}
			for _, f := range []struct {
				flag  string
				minor int
				labs  bool
			}{{"mount", 2, false}, {"link", 4, false}, {"checksum", 6, false}, {"exclude", 7, true}, {"parents", 7, true}} {
				if in.hasFlag(f.flag) {
					out = append(out, feature{what: in.name + " --" + f.flag, line: in.line, minor: f.minor, labs: f.labs})
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
	switch {
	case m[4] == "labs":
		return true, true
	case m[4] == "latest" || m[1] == "":
		return !f.labs, true
	}
	labs := m[3] != ""
	if f.labs && !labs {
		return false, true
	}
	major, _ := strconv.Atoi(m[1])
	if major > 1 || m[2] == "" {
		return true, true // "1" follows the newest 1.x
	}
	minor, _ := strconv.Atoi(m[2])
	return minor >= f.minor, true
}
