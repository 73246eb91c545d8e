package ignore

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/rebuildd/rebuildd/config/inputerr"
)

// Dialect is the way one builder turns a context directory and its ignore
// file into the files it sends: which ignore file it reads, how it reads it,
// how it matches a path, and which excluded directories its walk enters.
// The builders do not agree (docs/conformance.md, "Dialects"), so rebuildd
// must use the one of the builder that really builds the service.
type Dialect uint8

const (
	// BuildKit (Compose v2, docker buildx): <Dockerfile>.dockerignore beside
	// the Dockerfile when it exists, else <context>/.dockerignore; every path
	// matched with its parents' results (fsutil), so an exception reaches
	// into any excluded directory. The default.
	BuildKit Dialect = iota
	// Classic is the docker CLI's classic builder since Docker 23 (and
	// Compose v2's with DOCKER_BUILDKIT=0): only <context>/.dockerignore;
	// paths matched with their parents' results, but the walk enters an
	// excluded directory only when an exception's text starts with the
	// directory's path (moby/go-archive TarWithOptions).
	Classic
	// Classic2010 is Docker 20.10's CLI with DOCKER_BUILDKIT=0 (what
	// Compose v1 runs with COMPOSE_DOCKER_CLI_BUILD=1 on such a CLI): as
	// Classic, but each path is matched alone with the old one-parent rule
	// (fileutils.Matches), so a file below an entered directory can come
	// back in although a pattern excluded the directory.
	Classic2010
	// DockerPy is Compose v1's own builder (docker-py's utils/build.py, what
	// rebuildd runs v1 with, COMPOSE_DOCKER_CLI_BUILD=0): only
	// <context>/.dockerignore, read by Python, matched case-insensitively
	// with the one-parent rule, the Dockerfile and .dockerignore always
	// sent, and excluded directories entered when an exception's text
	// starts with the directory's path, without a trailing slash.
	DockerPy
	// BuildKit2010 is BuildKit through the docker CLI's own BuildKit client
	// before Docker 23 (20.10 with DOCKER_BUILDKIT=1; what Compose v1 runs
	// with COMPOSE_DOCKER_CLI_BUILD=1 DOCKER_BUILDKIT=1 on such a CLI): the
	// frontend reads the ignore file as BuildKit does (<Dockerfile>.dockerignore
	// first), but the CLI's own fsutil (2020) walks the context: each path
	// matched alone with the old one-parent rule, and an excluded directory
	// entered only when an exception's text starts with its path (issue 13:
	// "ab" + "!**/README.md" drops ab/README.md). Nothing is added for the
	// build files and nothing deleted again, as with BuildKit.
	BuildKit2010
)

var dialectNames = [...]string{BuildKit: "buildkit", Classic: "classic", Classic2010: "classic-20.10", DockerPy: "docker-py", BuildKit2010: "buildkit-20.10"}

// String is the dialect's name, as rebuild.yaml's builder key and explain
// write it.
func (d Dialect) String() string {
	if int(d) < len(dialectNames) {
		return dialectNames[d]
	}
	return fmt.Sprintf("Dialect(%d)", d)
}

// ParseDialect reads a dialect's name ("" is BuildKit).
func ParseDialect(s string) (Dialect, error) {
	if s == "" {
		return BuildKit, nil
	}
	for d, n := range dialectNames {
		if strings.EqualFold(s, n) {
			return Dialect(d), nil
		}
	}
	return BuildKit, fmt.Errorf("unknown builder %q: want one of %s", s, strings.Join(dialectNames[:], ", "))
}

// PerDockerfile reports whether the dialect reads <Dockerfile>.dockerignore
// (BuildKit's frontend does, whichever client sends the context; for the
// classic builders it is an ordinary context file).
func (d Dialect) PerDockerfile() bool { return d == BuildKit || d == BuildKit2010 }

// Candidates returns the ignore files the dialect's builder looks for, in
// order of precedence, as absolute paths.
func (d Dialect) Candidates(context, dockerfile string) []string {
	if d.PerDockerfile() {
		return Candidates(context, dockerfile)
	}
	context, _ = filepath.Abs(context)
	return []string{filepath.Join(context, ".dockerignore")}
}

// Load is the package's Load for the dialect's builder: the ignore file it
// reads and a matcher that answers as its context walk does. dockerfile
// ("" for dockerfile_inline) matters beyond BuildKit: the classic builders
// always send the Dockerfile.
func (d Dialect) Load(context, dockerfile string) (*Matcher, string, error) {
	if d == BuildKit {
		return Load(context, dockerfile)
	}
	for _, file := range d.Candidates(context, dockerfile) {
		data, ok, err := readFile(file)
		if err != nil {
			return nil, "", err
		}
		if !ok {
			continue
		}
		m, err := d.Parse(data, file, dockerfileRel(context, dockerfile))
		if err != nil {
			return nil, "", err
		}
		return m, file, nil
	}
	m, _ := New(nil)
	return m, "", nil
}

// Parse is the package's Parse for the dialect. dockerfile is the
// Dockerfile's path relative to the context, slash-separated ("" means
// "Dockerfile", the builders' default).
func (d Dialect) Parse(data []byte, file, dockerfile string) (*Matcher, error) {
	m, err := Parse(data, file) // Docker's reading: the daemon's, and the CLI's
	if err != nil && d == DockerPy && !errors.Is(err, ErrNotText) {
		// Only the daemon reads the file with Go, to delete the build files;
		// a pattern Go rejects makes it delete nothing, and docker-py's
		// own reading decides the rest.
		m, err = New(nil)
	}
	if err != nil || d == BuildKit || len(m.patterns) == 0 && d != DockerPy {
		return m, err
	}
	if dockerfile == "" {
		dockerfile = "Dockerfile"
	}
	switch d {
	case Classic, Classic2010:
		err = m.classic(d, dockerfile)
	case DockerPy:
		err = m.dockerPy(data, dockerfile)
	case BuildKit2010:
		m.cliBuildKit()
	}
	if err != nil {
		return nil, &inputerr.Error{File: file, Err: err, Msg: err.Error()}
	}
	return m, nil
}

// dockerfileRel makes the Dockerfile relative to the context as the
// builders name it; "" when inline. A Dockerfile outside the context is
// sent under a random name, so no context file is the Dockerfile then.
func dockerfileRel(context, dockerfile string) string {
	if dockerfile == "" {
		return ""
	}
	context, _ = filepath.Abs(context)
	if !filepath.IsAbs(dockerfile) {
		dockerfile = filepath.Join(context, dockerfile)
	}
	rel, err := filepath.Rel(context, dockerfile)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return ".dockerfile.outside-the-context"
	}
	return filepath.ToSlash(rel)
}
