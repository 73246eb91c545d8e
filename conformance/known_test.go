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
	name     string
	builders []string // the builders' names (builder.name)
	// docker predicts the files Docker puts in the context of case c written
	// in dir; ok is false when c is not of this class.
	docker func(c ContextCase, dir string) (files []string, ok bool, err error)
	// fails, instead of docker, says the build of case c fails outright.
	fails func(b builder, c ContextCase, dir string) bool
	repro ContextCase // minimal reproducer; its Seed is 0
}

// knownDifferences are the open differences, with the report's wording.
// The two of the classic builders' context (the ignore file they read, and
// the directories their walk enters) were fixed by the ignore dialects:
// rebuildd now models each builder's context (docs/conformance.md).
var knownDifferences = []knownDifference{
	{
		// Docker's own bug, found by seed 1059: the classic builders cannot
		// build at all when a "**/dir" pattern excludes the Dockerfile's
		// directory (losesDockerfile says why). rebuildd cannot make that
		// build work; it could say so (advice) instead of reporting a failed
		// build. docker-py always sends the Dockerfile, so Compose v1 as
		// rebuildd runs it builds these.
		name:     "classic builders lose a Dockerfile in a directory **/dir excludes",
		builders: []string{"classic", "classic-20.10"},
		fails:    losesDockerfile,
		repro: ContextCase{
			Dockerfile: "docker/web.Dockerfile",
			Tree:       Tree{".dockerignore": "**/docker\n", "a": "x\n"},
			Ignores:    map[string][]string{".dockerignore": {"**/docker"}},
		},
	},
}

// losesDockerfile reports whether a classic docker CLI does not send the
// Dockerfile at all, so the daemon answers "Cannot locate specified
// Dockerfile": the CLI adds an exception for the Dockerfile only when the
// old one-parent matching says the patterns exclude it (it does not see
// that "**/docker" excludes docker/web.Dockerfile), and its walk then skips
// docker/ whole. The legacy model (legacySent) and the Classic2010 dialect
// say the same for the 20.10 CLI.
func losesDockerfile(b builder, c ContextCase, dir string) bool {
	patterns, err := readPatterns(filepath.Join(dir, ".dockerignore"))
	if err != nil || oldMatches(c.Dockerfile, patterns) {
		return false // the CLI sends it, with an exception
	}
	m, _, err := b.dialect.Load(dir, c.Dockerfile)
	return err == nil && m.Excluded(c.Dockerfile)
}

// explain returns the name of the known difference that accounts for r
// exactly, "" when none does.
func explain(b builder, r *contextResult) string {
	for _, k := range knownDifferences {
		if !slices.Contains(k.builders, b.name) || k.docker == nil {
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
		if slices.Contains(k.builders, b.name) && k.fails != nil && k.fails(b, r.c, r.dir) {
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
// reproducer with each of its builders that runs here: Docker must still
// answer as the difference predicts and rebuildd must still disagree. When
// rebuildd is fixed this fails; delete the entry then.
func TestKnownDifferencesStillDiffer(t *testing.T) {
	bs := builders(t)
	for _, k := range knownDifferences {
		for _, b := range bs {
			if !slices.Contains(k.builders, b.name) {
				continue
			}
			t.Run(k.name+"/"+b.name, func(t *testing.T) { stillDiffers(t, k, b) })
		}
	}
}

func stillDiffers(t *testing.T, k knownDifference, b builder) {
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
	want, err := c.Expected(dir, b.dialect)
	if err != nil {
		t.Fatal(err)
	}
	tag := fmt.Sprintf("rebuildd-conformance/known-%s:%d-%s", runID, len(k.name), b.name)
	all, failed := buildAndList(t, b, []job{{dir: dir, dockerfile: c.Dockerfile, tag: tag}}, root)
	if k.fails != nil {
		if failed[tag] == nil || !k.fails(b, c, dir) {
			t.Fatalf("the %s builder now builds the reproducer (got %q; rebuildd %q): delete the entry", b.name, all[tag], want)
		}
		t.Logf("still fails: %v", failed[tag])
		return
	}
	if failed[tag] != nil {
		t.Fatal(failed[tag])
	}
	got := all[tag]
	if slices.Equal(want, got) {
		t.Fatalf("rebuildd now agrees with the %s builder (%q): the difference is fixed, delete it from knownDifferences", b.name, got)
	}
	if pred, ok, err := k.docker(c, dir); err != nil || !ok || !slices.Equal(pred, got) {
		t.Fatalf("Docker's answer %q is no longer the predicted %q (err %v): re-read the difference", got, pred, err)
	}
	t.Logf("still differs: rebuildd %q, Docker (%s) %q", want, b.name, got)
}
