package conformance

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/rebuildd/rebuildd/internal/e2e"
)

// contextCasesCI is the context oracle's default case count per builder.
// CI runs as many of them as the budget allows (inBatches); how many that
// was on this machine is in docs/conformance.md.
const contextCasesCI = 300

// contextBatch is how many cases go into one build command for BuildKit,
// one `docker save` for both: enough to amortise the start-up, few enough
// that the budget is checked often (a legacy case took up to ~6s on the
// loaded 2-core machine, three at a time). With 50 services in one
// `compose build`, Compose v2 failed here with "DeadlineExceeded: context
// deadline exceeded" after ~30s; 10 build fine.
func (b builder) contextBatch() int {
	if b.BuildKit() {
		return 10
	}
	return 12
}

// TestContextOracle builds generated contexts with every builder and
// compares the files each image received with what the ignore package says
// the context holds.
func TestContextOracle(t *testing.T) {
	for _, b := range builders(t) {
		t.Run(b.name, func(t *testing.T) {
			base := e2e.BaseImage(t)
			seeds := cases(contextCasesCI)
			var diffs, known int
			ran := inBatches(t, seeds, b.contextBatch(), func(batch []uint64) {
				d, k := runContextBatch(t, b, base, batch)
				diffs, known = diffs+d, known+k
			})
			t.Logf("context oracle (%s): %d of %d cases from seed %d, %d differences, %d explained by knownDifferences",
				b.name, ran, len(seeds), seeds[0], diffs, known)
		})
	}
}

// contextResult is one case as rebuildd and Docker saw it.
type contextResult struct {
	c              ContextCase
	dir            string // where the case is written
	want, got      []string
	missing, extra []string
}

// runContextBatch builds one batch of cases and reports each difference
// that no known difference explains; it returns the number of differences
// and how many of them were known.
func runContextBatch(t *testing.T, b builder, base string, seeds []uint64) (int, int) {
	t.Helper()
	root := t.TempDir()
	var jobs []job
	var results []*contextResult
	for _, s := range seeds {
		c := GenContextCase(s, base)
		dir := filepath.Join(root, fmt.Sprintf("c%d", s))
		if err := c.Write(dir); err != nil {
			t.Fatal(err)
		}
		want, err := c.Expected(dir, b.dialect)
		if err != nil {
			t.Fatalf("%v\n%s", err, c)
		}
		results = append(results, &contextResult{c: c, dir: dir, want: want})
		jobs = append(jobs, job{dir: dir, dockerfile: c.Dockerfile, tag: contextTag(s)})
	}
	got, failed := buildAndList(t, b, jobs, root)
	diffs, known := 0, 0
	for i, r := range results {
		if err := failed[jobs[i].tag]; err != nil {
			diffs++
			if k := explainFailure(b, r); k != "" {
				known++
				continue
			}
			t.Errorf("context build failed (%s), rebuildd expected %q:\n%s%v\nreproduce: go test ./conformance -run 'TestContextOracle/%s' -args -conformance.seed=%d -conformance.n=1",
				b.name, r.want, r.c, err, b.name, r.c.Seed)
			continue
		}
		r.got = got[jobs[i].tag]
		r.missing, r.extra = Diff(r.want, r.got)
		if len(r.missing) == 0 && len(r.extra) == 0 {
			continue
		}
		diffs++
		if k := explain(b, r); k != "" {
			known++
			continue
		}
		t.Errorf("context difference (%s):\n%sonly rebuildd includes: %q\nonly Docker includes: %q\nreproduce: go test ./conformance -run 'TestContextOracle/%s' -args -conformance.seed=%d -conformance.n=1",
			b.name, r.c, r.missing, r.extra, b.name, r.c.Seed)
	}
	return diffs, known
}

// buildAndList builds the jobs and lists each built image's copy of the
// context; failed holds the builds that failed, by tag.
func buildAndList(t *testing.T, b builder, jobs []job, root string) (got map[string][]string, failed map[string]error) {
	t.Helper()
	var tags []string
	for _, j := range jobs {
		tags = append(tags, j.tag)
	}
	t.Cleanup(func() { removeImages(t, tags) })
	_, failed = b.buildAll(jobs, root)
	var built []string
	for _, tag := range tags {
		if failed[tag] == nil {
			built = append(built, tag)
		}
	}
	got = map[string][]string{}
	if len(built) == 0 {
		return got, failed
	}
	got, err := topLayerFiles(built, "ctx")
	if err != nil {
		t.Fatal(err)
	}
	return got, failed
}

// contextTag is the image tag of case seed, unique per test binary so two
// runs on one engine do not collide.
func contextTag(seed uint64) string {
	return fmt.Sprintf("rebuildd-conformance/ctx-%s:%d", runID, seed)
}
