// Package advice turns the well-known Compose build pitfalls (the background
// article: cache-busting instruction order, heavy build contexts, secrets in
// build args, untagged builds, the node_modules volume trap, missing cache
// mounts, a missing "# syntax=" line, dev and prod targets that drift) into
// findings, each with the file and line, why it costs the user, and the fix.
//
// It reads what rebuildd has already loaded (the compose project and the
// service's layer model) plus the files themselves; it never talks to an
// engine (the caller may pass the engine's API version in, see Engine) and
// never blocks a rebuild: a file it cannot read means fewer findings, not
// an error.
//
// Severities: "warn" for what costs time on every rebuild, fails builds on
// engines still in use, or leaks secrets into images; "info" for what is
// worth knowing but costs nothing in the dev loop (rebuildd already works
// around it, or it only matters when the Dockerfile itself changes).
// `rebuildd advise` exits 1 when any finding is "warn".
//
//	install-after-source  warn  every source edit re-runs the install (and, where
//	                            moving the install is all that keeps source from
//	                            syncing into the running containers, says so)
//	heavy-context         warn  node_modules/.git/output/large files read by a COPY;
//	                      info  no ignore file yet, nothing heavy in the context
//	secret-build-arg      warn  the secret is in the image history
//	untagged-build        warn  another service or a push script needs the image by name;
//	                      info  two services build the same image twice
//	anon-volume-trap      info  rebuildd refreshes the volume; plain compose would not
//	missing-cache-mount   warn  the RUN sits on context files, so it re-runs in the dev loop;
//	                      info  only a Dockerfile edit re-runs it
//	syntax-line           warn  the engine's built-in Dockerfile frontend cannot parse the
//	                            file (heredocs, COPY --link, --exclude, ...) and no
//	                            "# syntax=" line names one that can, or the line is too old
//	target-drift          warn  dev builds the production stages, or prod ships dev stages
//
// A Dockerfile can silence a code for one instruction with a comment right
// above it, "# rebuildd:ignore CODE", or for the whole file with
// "# rebuildd:ignore-file CODE".
package advice

import (
	"sort"

	"gopkg.in/yaml.v3"

	"github.com/rebuildd/rebuildd/config"
	"github.com/rebuildd/rebuildd/dockerfile"
	"github.com/rebuildd/rebuildd/ignore"
)

// Severity says how much a finding costs the user.
type Severity string

const (
	// Warn: costs time on rebuilds, fails builds, or leaks secrets.
	Warn Severity = "warn"
	// Info: worth knowing; costs nothing in the dev loop.
	Info Severity = "info"
)

// Finding codes, kebab-case and stable: scripts and CI match on them.
const (
	CodeInstallAfterSource = "install-after-source"
	CodeHeavyContext       = "heavy-context"
	CodeSecretBuildArg     = "secret-build-arg"
	CodeUntaggedBuild      = "untagged-build"
	CodeAnonVolumeTrap     = "anon-volume-trap"
	CodeMissingCacheMount  = "missing-cache-mount"
	CodeSyntaxLine         = "syntax-line"
	CodeTargetDrift        = "target-drift"
)

// Finding is one piece of advice about one service.
type Finding struct {
	Code     string   `json:"code"`
	Severity Severity `json:"severity"`
	File     string   `json:"file"` // absolute path of the file to change
	Line     int      `json:"line"` // 1-based; 0 when the finding is about the whole file
	Message  string   `json:"message"`
	Fix      string   `json:"fix"` // may span lines: an ignore-file block, a RUN to paste
}

// Check returns the findings for one service of proj, sorted by file, line
// and code, for an engine nobody asked (see Engine: Docker 20.10 is
// assumed, and the findings that depend on it say so). m is the service's
// layer model (dockerfile.Load). Services without build: have no findings.
func Check(proj *config.Project, svc config.Service, m *dockerfile.Model) []Finding {
	return CheckFor(proj, svc, m, Engine{})
}

// CheckFor is Check for the engine that builds the project.
func CheckFor(proj *config.Project, svc config.Service, m *dockerfile.Model, eng Engine) []Finding {
	if svc.Build == nil || m == nil {
		return nil
	}
	s := newSubject(proj, svc, m)
	if s == nil {
		return nil
	}
	s.engine = eng
	var out []Finding
	for _, check := range checks {
		out = append(out, check(s)...)
	}
	out = s.unsilenced(out)
	sortFindings(out)
	return out
}

// unsilenced drops the findings the Dockerfile silences: a
// "# rebuildd:ignore CODE" comment right above the instruction a finding
// points at, or "# rebuildd:ignore-file CODE" anywhere for every finding of
// the services it builds. A team that builds without BuildKit, say, can
// keep `advise` green in CI without losing the other findings.
func (s *subject) unsilenced(fs []Finding) []Finding {
	silenced := map[int]map[string]bool{} // finding line -> codes
	for _, st := range s.doc.stages {
		for _, in := range st.instrs {
			if len(in.ignore) > 0 {
				silenced[s.ln(in.line)] = in.ignore
			}
		}
	}
	dfile, _ := s.at(1)
	var out []Finding
	for _, f := range fs {
		if s.doc.ignoreAll[f.Code] || f.File == dfile && silenced[f.Line][f.Code] {
			continue
		}
		out = append(out, f)
	}
	return out
}

// checks run in this order; each returns its findings for one subject.
var checks = []func(*subject) []Finding{
	installAfterSource,
	heavyContext,
	secretBuildArgs,
	untaggedBuild,
	anonVolumeTrap,
	missingCacheMounts,
	syntaxLine,
	targetDrift,
}

// subject is one service with everything the checks read.
type subject struct {
	proj       *config.Project
	svc        config.Service
	an         *dockerfile.Analysis
	context    string
	dockerfile string          // absolute; "" for dockerfile_inline
	ign        *ignore.Matcher // the model's; nil excludes nothing
	ignoreFile string          // the ignore file in force, "" when none
	doc        *dockerfileDoc
	chain      map[int]bool          // stage index -> in the target's chain
	scan       *contextScan          // the walked context, see files
	yamlDocs   map[string]*yaml.Node // parsed compose files, see composeDoc
	engine     Engine                // what the caller knows of the engine
	model      *dockerfile.Model     // the service's layer model
	src        []byte                // the Dockerfile's text (or dockerfile_inline's)
}

// newSubject reads the Dockerfile again (the model keeps only the analysis)
// and parses what advice needs; nil when it cannot, so no advice is given.
func newSubject(proj *config.Project, svc config.Service, m *dockerfile.Model) *subject {
	an, dfile := m.Analysis(), m.Dockerfile()
	src := []byte(svc.Build.DockerfileInline)
	if dfile != "" {
		b, err := dockerfile.ReadFile(dfile)
		if err != nil {
			return nil
		}
		src = b
	}
	doc, err := parseDockerfile(src)
	if err != nil || an == nil {
		return nil
	}
	s := &subject{proj: proj, svc: svc, an: an, context: m.Context(), dockerfile: dfile,
		ign: m.Ignore(), ignoreFile: m.IgnoreFile(), doc: doc, chain: map[int]bool{}, model: m, src: src}
	for _, st := range an.Stages {
		s.chain[st.Index] = true
	}
	return s
}

// at is where a Dockerfile line is, for a finding: the Dockerfile, or for
// dockerfile_inline the compose file (the inline text has no file of its
// own): the line itself when the text is a YAML block (`|`), whose first
// line follows the key, else the key's line.
func (s *subject) at(line int) (string, int) {
	if s.dockerfile != "" {
		return s.dockerfile, line
	}
	path := []string{"services", s.svc.Name, "build", "dockerfile_inline"}
	files := s.proj.ComposeFiles
	for i := len(files) - 1; i >= 0; i-- {
		if root := s.composeDoc(files[i]); root != nil {
			if n, depth := descend(root, path); depth == len(path) {
				if n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
					return files[i], n.Line + line
				}
				return files[i], n.Line
			}
		}
	}
	return s.composeAt("build", "dockerfile_inline")
}

// ln is the line a message names for a Dockerfile line: the same line in
// a Dockerfile, the compose file's line for dockerfile_inline.
func (s *subject) ln(line int) int {
	_, l := s.at(line)
	return l
}

func sortFindings(fs []Finding) {
	sort.SliceStable(fs, func(i, j int) bool {
		a, b := fs[i], fs[j]
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Code < b.Code
	})
}

// HasWarn reports whether any finding has severity warn.
func HasWarn(fs []Finding) bool {
	for _, f := range fs {
		if f.Severity == Warn {
			return true
		}
	}
	return false
}
