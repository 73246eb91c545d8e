package dockerfile

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/rebuildd/rebuildd/config"
)

// FuzzAnalyze: any Dockerfile text and target either analyses or fails with
// an *config.InputError; it never panics, and what it returns is usable by
// Classify. Seeds are every Dockerfile under testdata plus a few odd shapes;
// the corpus found by `go test -fuzz` is kept in testdata/fuzz.
func FuzzAnalyze(f *testing.F) {
	files, _ := filepath.Glob("../testdata/dockerfile/*/Dockerfile")
	files = append(files, "../testdata/projects/article/services/api/Dockerfile")
	for _, file := range files {
		if src, err := os.ReadFile(file); err == nil {
			f.Add(string(src), "")
			f.Add(string(src), "dev")
		}
	}
	for _, s := range []string{
		"FROM a AS x\nCOPY --from=x . .\n",
		"FROM a AS x\nFROM x AS y\nCOPY --from=y / /\nFROM y\n",
		"ARG A=${B:-c}\nFROM ${A}\nRUN --mount=type=bind,target=/s,source=${A} x\n",
		"# escape=`\nFROM a\nCOPY `\n  a b\n",
		"FROM a\nCOPY --from=-1 a b\n",
		"FROM a\nRUN --mount=from=a,target=/x true\n",
		"FROM a\nCOPY [\"a\", \"b\"]\nCOPY <<EOF x\nEOF\n",
		"FROM a\nONBUILD COPY . .\nADD --exclude=[ . .\n",
	} {
		f.Add(s, "")
	}
	for _, s := range hostileDockerfiles() {
		f.Add(s, "")
	}
	f.Fuzz(func(t *testing.T, src, target string) {
		guard(t, src, func() { analyzeAndClassify(t, src, target) })
	})
}

// analyzeAndClassify is FuzzAnalyze's check of one input.
func analyzeAndClassify(t *testing.T, src, target string) {
	an, err := Analyze([]byte(src), "Dockerfile", target, map[string]string{"A": "b"})
	if err != nil {
		var ie *config.InputError
		if !errors.As(err, &ie) || ie.File != "Dockerfile" {
			t.Fatalf("error %v (%T) is not an InputError naming the file", err, err)
		}
		return
	}
	if len(an.Stages) == 0 || an.Target == "" {
		t.Fatalf("no chain for a successful analysis: %+v", an)
	}
	for _, in := range an.Inputs {
		if len(in.Sources) == 0 || (in.Layer == LayerDeps) != (in.DepsRun != nil) {
			t.Fatalf("inconsistent input %+v", in)
		}
	}
	m := NewModel(Parts{Context: "/c", Dockerfile: "/c/Dockerfile", Analysis: an, BindMounts: []string{"/c/src"}})
	for _, p := range []string{"/c/a", "/c/src/x.go", "/c/b/c/d", "/c", "/elsewhere"} {
		if r := m.Classify(p); r.Impact == "" || r.Action == "" || r.Reason == "" {
			t.Fatalf("Classify(%q) = %+v", p, r)
		}
	}
}
