package dockerfile

import (
	"path/filepath"
	"testing"
)

// A directory moved or deleted away is reported as one path; when inputs
// read below it, it is not "unused".
func TestClassifyDir(t *testing.T) {
	an, err := Analyze([]byte("FROM scratch\nCOPY packages/*/package.json ./\nRUN install\nCOPY src/app.js ./\n"), "Dockerfile", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := "/ctx"
	m := NewModel(Parts{Context: ctx, Dockerfile: filepath.Join(ctx, "Dockerfile"), Analysis: an})
	cases := []struct {
		rel    string
		impact Impact
	}{
		{"packages/a", ImpactDeps},
		{"packages", ImpactDeps},
		{"src", ImpactSource},
		{"docs", ImpactUnused},
		{"packages/a/README.md", ImpactUnused}, // a file: Classify's answer stands
	}
	for _, tc := range cases {
		if got := m.ClassifyDir(filepath.Join(ctx, tc.rel)).Impact; got != tc.impact {
			t.Errorf("ClassifyDir(%s) = %s, want %s", tc.rel, got, tc.impact)
		}
	}
	if got := m.Classify(filepath.Join(ctx, "packages/a")).Impact; got != ImpactUnused {
		t.Errorf("Classify(packages/a) as a file = %s, want unused", got)
	}
}
