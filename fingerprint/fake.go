package fingerprint

import (
	"path/filepath"
	"strings"

	"github.com/rebuildd/rebuildd/dockerfile"
)

// FakeClassifier classifies context-relative paths by a table; paths not in
// the table are unused. For fingerprint tests here and elsewhere.
type FakeClassifier struct {
	Context string
	Impacts map[string]string // rel -> impact; "deps:RUN npm ci" gives a deps run text; "live" is bind-mounted source
}

// Classify implements Classifier. A table key ending in "/" covers
// everything below that directory.
func (f *FakeClassifier) Classify(abs string) dockerfile.Result {
	rel, err := filepath.Rel(f.Context, abs)
	if err != nil || strings.HasPrefix(rel, "..") {
		return dockerfile.Result{Impact: dockerfile.ImpactOutside, Action: dockerfile.ActionNone}
	}
	rel = filepath.ToSlash(rel)
	v, ok := f.Impacts[rel]
	for k, kv := range f.Impacts {
		if !ok && strings.HasSuffix(k, "/") && strings.HasPrefix(rel, k) {
			v, ok = kv, true
		}
	}
	if !ok {
		return dockerfile.Result{Impact: dockerfile.ImpactUnused, Action: dockerfile.ActionNone}
	}
	impact, run, _ := strings.Cut(v, ":")
	if impact == "live" { // source a bind mount delivers: no build
		return dockerfile.Result{Impact: dockerfile.ImpactSource, Action: dockerfile.ActionNone}
	}
	res := dockerfile.Result{Impact: dockerfile.Impact(impact), Action: dockerfile.ActionRebuild}
	if run != "" {
		res.Input = &dockerfile.Input{Layer: dockerfile.LayerDeps, DepsRun: &dockerfile.Step{Text: run}}
	}
	return res
}

// FakePruner skips the listed context-relative directories.
type FakePruner map[string]bool

// SkipDir implements Pruner.
func (p FakePruner) SkipDir(rel string) bool { return p[rel] }

// Seal recomputes the print's folds and Sum from Files and Parts, for
// prints made by hand in tests here and in other packages.
func (p *Print) Seal() {
	p.refold()
	p.seal()
}
