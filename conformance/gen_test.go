package conformance

import (
	"reflect"
	"strings"
	"testing"

	"github.com/rebuildd/rebuildd/dockerfile"
	"github.com/rebuildd/rebuildd/ignore"
)

// genSeeds is how many seeds the generator tests walk: enough to reach every
// branch of the generators many times, fast enough for -short.
const genSeeds = 2000

// TestGeneratorsAreReproducible: a seed is a case, on any machine and in any
// order, or a reported seed would not reproduce a difference.
func TestGeneratorsAreReproducible(t *testing.T) {
	for _, s := range []uint64{1, 42, 1 << 40} {
		if a, b := GenContextCase(s, "img"), GenContextCase(s, "img"); !reflect.DeepEqual(a, b) {
			t.Errorf("context case %d differs between two generations", s)
		}
		a, _ := GenLayerCase(s, "img", true)
		b, _ := GenLayerCase(s, "img", true)
		if !reflect.DeepEqual(a, b) {
			t.Errorf("layer case %d differs between two generations", s)
		}
	}
	if reflect.DeepEqual(GenContextCase(1, "img"), GenContextCase(2, "img")) {
		t.Error("seeds 1 and 2 give the same context case")
	}
}

// TestContextCasesAreValid: every generated ignore file parses (a case that
// Docker rejects tests nothing), the Dockerfile is in the tree, and the
// generator reaches what the brief asks for: exceptions, each glob form,
// `**`, trailing and leading slashes, the build files listed in
// themselves, Dockerfile-specific ignore files, names with spaces and
// dotfiles.
func TestContextCasesAreValid(t *testing.T) {
	seen := map[string]int{}
	for s := range uint64(genSeeds) {
		c := GenContextCase(s, "img")
		if c.Tree[c.Dockerfile] != ContextDockerfile("img") {
			t.Fatalf("case %d: Dockerfile %q missing from the tree", s, c.Dockerfile)
		}
		for file, lines := range c.Ignores {
			if _, err := ignore.Parse([]byte(c.Tree[file]), file); err != nil {
				t.Fatalf("case %d: %s %q: %v", s, file, lines, err)
			}
			if strings.HasSuffix(file, ".Dockerfile.dockerignore") || file == "Dockerfile.dockerignore" {
				seen["specific ignore file"]++
			}
			countPatterns(seen, lines)
		}
		for _, p := range c.Tree.Paths() {
			if strings.Contains(p, " ") {
				seen["space in a name"]++
			}
			if strings.HasPrefix(p, ".") || strings.Contains(p, "/.") {
				seen["dotfile"]++
			}
		}
	}
	for _, want := range []string{"!", "*", "?", "[a-c]", "**", "trailing /", "leading /",
		"Dockerfile listed", ".dockerignore listed", "specific ignore file", "space in a name", "dotfile"} {
		if seen[want] == 0 {
			t.Errorf("no generated case has %s", want)
		}
	}
}

func countPatterns(seen map[string]int, lines []string) {
	for _, l := range lines {
		for _, f := range []string{"!", "*", "?", "[a-c]", "**"} {
			if strings.Contains(l, f) {
				seen[f]++
			}
		}
		if strings.HasSuffix(l, "/") {
			seen["trailing /"]++
		}
		if strings.HasPrefix(strings.TrimPrefix(l, "!"), "/") {
			seen["leading /"]++
		}
		if strings.Contains(l, "Dockerfile") {
			seen["Dockerfile listed"]++
		}
		if strings.Contains(l, ".dockerignore") {
			seen[".dockerignore listed"]++
		}
	}
}

// TestLayerCasesAreValid: every generated Dockerfile is one BuildKit's
// parser and the layer model accept, the numbering the BuildKit progress
// parser expects covers every step, and the generator reaches every
// instruction form the brief asks for.
func TestLayerCasesAreValid(t *testing.T) {
	seen := map[string]int{}
	for s := range uint64(genSeeds) {
		c, err := GenLayerCase(s, "img", true)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := dockerfile.Analyze([]byte(c.Dockerfile), "Dockerfile", c.Target, nil); err != nil {
			t.Fatalf("case %d: %v\n%s", s, err, c.Dockerfile)
		}
		ins, err := instructions(c.Dockerfile)
		if err != nil {
			t.Fatal(err)
		}
		for _, in := range ins {
			seen[in.cmd]++
			if in.from != "" {
				seen["COPY --from"]++
			}
			if len(in.mountFrom) > 0 {
				seen["RUN --mount=from"]++
			}
		}
		if c.Cross {
			seen["cross-stage"]++
		}
		for _, f := range []string{"--mount=type=bind", "${F", " AS ", "*", "?", "["} {
			if strings.Contains(c.Dockerfile, f) {
				seen[f]++
			}
		}
		if c.Target != "" {
			seen["target"]++
		}
	}
	for _, want := range []string{"copy", "add", "run", "arg", "COPY --from", "RUN --mount=from", "cross-stage", "--mount=type=bind", "${F", " AS ", "*", "?", "[", "target"} {
		if seen[want] == 0 {
			t.Errorf("no generated Dockerfile has %s", want)
		}
	}
}
