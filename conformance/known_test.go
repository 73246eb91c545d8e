package conformance

import (
	"fmt"
	"path/filepath"
	"slices"
	"testing"

	"github.com/rebuildd/rebuildd/internal/e2e"
)

// knownDifference is a difference between rebuildd and one builder that the
// oracles found and that waits for a fix in rebuildd's own packages. It is
// kept, not skipped: the generated cases of its class are counted as known
// only when Docker's answer is exactly what the difference predicts (so a
// second bug hiding in the same case still fails), and its minimal
// reproducer must still differ (TestKnownDifferencesStillDiffer), so the
// fix flips it and whoever fixes it deletes the entry.
type knownDifference struct {
	name    string
	builder string // "legacy" or "buildkit"
	// docker predicts the files Docker puts in the context of case c written
	// in dir; ok is false when c is not of this class.
	docker func(c ContextCase, dir string) (files []string, ok bool, err error)
	// fails, instead of docker, says the build of case c fails outright.
	fails func(c ContextCase, dir string) bool
	repro ContextCase // minimal reproducer; its Seed is 0
}

// knownDifferences are the open differences, with the report's wording.
// All are the legacy builder's: rebuildd models BuildKit's context, while
// Compose v1 (and DOCKER_BUILDKIT=0) builds with the legacy builder.
var knownDifferences = []knownDifference{
	{
		// ignore.Load prefers <Dockerfile>.dockerignore, as BuildKit does.
		// The legacy builder reads only <context>/.dockerignore, so for a
		// Compose v1 project rebuildd watches, ignores and fingerprints a
		// different context from the one Docker builds.
		name:    "legacy builder reads only <context>/.dockerignore",
		builder: "legacy",
		docker: func(c ContextCase, dir string) ([]string, bool, error) {
			if _, ok := c.Ignores[c.Dockerfile+".dockerignore"]; !ok {
				return nil, false, nil
			}
			files, err := legacyContext(c, dir)
			return files, err == nil, err
		},
		repro: ContextCase{
			Dockerfile: "Dockerfile",
			Tree:       Tree{"Dockerfile.dockerignore": "a\n", "a": "x\n"},
			Ignores:    map[string][]string{"Dockerfile.dockerignore": {"a"}},
		},
	},
	{
		// The legacy CLI's walk skips an excluded directory unless an
		// exception pattern starts with the directory's path, so "!**/x"
		// does not bring back build/x; rebuildd (like BuildKit) does.
		// legacyContext also carries the old one-parent pattern matching.
		name:    "legacy builder's walk skips excluded directories for wildcard exceptions",
		builder: "legacy",
		docker: func(c ContextCase, dir string) ([]string, bool, error) {
			files, err := legacyContext(c, dir)
			return files, err == nil, err
		},
		repro: ContextCase{
			Dockerfile: "Dockerfile",
			Tree:       Tree{".dockerignore": "build\n!**/x\n", "build/x": "x\n"},
			Ignores:    map[string][]string{".dockerignore": {"build", "!**/x"}},
		},
	},
	{
		// Docker's own bug, found by seed 1059: the legacy builder cannot
		// build at all when a "**/dir" pattern excludes the Dockerfile's
		// directory (legacyLosesDockerfile says why). rebuildd cannot make
		// that build work; it could say so (advice) instead of reporting a
		// failed build with Compose v1.
		name:    "legacy builder loses a Dockerfile in a directory **/dir excludes",
		builder: "legacy",
		fails:   legacyLosesDockerfile,
		repro: ContextCase{
			Dockerfile: "docker/web.Dockerfile",
			Tree:       Tree{".dockerignore": "**/docker\n", "a": "x\n"},
			Ignores:    map[string][]string{".dockerignore": {"**/docker"}},
		},
	},
}

// explain returns the name of the known difference that accounts for r
// exactly, "" when none does.
func explain(b builder, r *contextResult) string {
	for _, k := range knownDifferences {
		if k.builder != b.name || k.docker == nil {
			continue
		}
		want, ok, err := k.docker(r.c, r.dir)
		if err == nil && ok && slices.Equal(want, r.got) {
			return k.name
		}
	}
	return ""
}

// explainFailure returns the name of the known difference that predicts
// that r's build fails, "" when none does.
func explainFailure(b builder, r *contextResult) string {
	for _, k := range knownDifferences {
		if k.builder == b.name && k.fails != nil && k.fails(r.c, r.dir) {
			return k.name
		}
	}
	return ""
}

// explainLayer returns the name of the known layer difference that
// accounts for a layer case's problems, "" when none does. There is none
// open.
func explainLayer(b builder, r *layerRun, problems []string) string { return "" }

// TestKnownDifferencesStillDiffer builds each known difference's minimal
// reproducer with its builder: Docker must still answer as the difference
// predicts and rebuildd must still disagree. When rebuildd is fixed this
// fails; delete the entry then.
func TestKnownDifferencesStillDiffer(t *testing.T) {
	bs := builders(t)
	for _, k := range knownDifferences {
		t.Run(k.name, func(t *testing.T) {
			i := slices.IndexFunc(bs, func(b builder) bool { return b.name == k.builder })
			if i < 0 {
				t.Skipf("builder %s does not run here", k.builder)
			}
			base := e2e.BaseImage(t)
			c := k.repro
			c.Tree = Tree{}
			for p, body := range k.repro.Tree {
				c.Tree[p] = body
			}
			c.Tree[c.Dockerfile] = ContextDockerfile(base)
			root := t.TempDir()
			dir := filepath.Join(root, "repro")
			if err := c.Write(dir); err != nil {
				t.Fatal(err)
			}
			want, err := c.Expected(dir)
			if err != nil {
				t.Fatal(err)
			}
			tag := fmt.Sprintf("rebuildd-conformance/known-%s:%d", runID, len(k.name))
			all, failed := buildAndList(t, bs[i], []job{{dir: dir, dockerfile: c.Dockerfile, tag: tag}}, root)
			if k.fails != nil {
				if failed[tag] == nil || !k.fails(c, dir) {
					t.Fatalf("the %s builder now builds the reproducer (got %q; rebuildd %q): delete the entry", k.builder, all[tag], want)
				}
				t.Logf("still fails: %v", failed[tag])
				return
			}
			if failed[tag] != nil {
				t.Fatal(failed[tag])
			}
			got := all[tag]
			if slices.Equal(want, got) {
				t.Fatalf("rebuildd now agrees with the %s builder (%q): the difference is fixed, delete it from knownDifferences", k.builder, got)
			}
			if pred, ok, err := k.docker(c, dir); err != nil || !ok || !slices.Equal(pred, got) {
				t.Fatalf("Docker's answer %q is no longer the predicted %q (err %v): re-read the difference", got, pred, err)
			}
			t.Logf("still differs: rebuildd %q, Docker (%s) %q", want, k.builder, got)
		})
	}
}
