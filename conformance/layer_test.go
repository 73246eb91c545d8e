package conformance

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rebuildd/rebuildd/config"
	"github.com/rebuildd/rebuildd/dockerfile"
	"github.com/rebuildd/rebuildd/internal/e2e"
)

// layerCasesCI is the layer oracle's default case count per builder: a few
// dozen, each two builds.
const layerCasesCI = 40

// layerBatch is how many cases build side by side: small, so the budget
// check between batches comes often (a batch is two builds per case).
const layerBatch = 4

// layerRun is one case on its way through the oracle.
type layerRun struct {
	c     LayerCase
	dir   string
	model *dockerfile.Model
	res   dockerfile.Result
	st    stages
	job   job
}

// TestLayerOracle builds generated multi-stage Dockerfiles, changes one
// file, builds again, and checks the steps that missed the cache against
// dockerfile.Model.Classify (checkReruns says what is checked).
func TestLayerOracle(t *testing.T) {
	for _, b := range builders(t) {
		if !b.layers {
			continue
		}
		t.Run(b.name, func(t *testing.T) {
			base := e2e.BaseImage(t)
			seeds := cases(layerCasesCI)
			impacts := map[dockerfile.Impact]int{}
			var diffs, known, cross int
			ran := inBatches(t, seeds, layerBatch, func(batch []uint64) {
				d, k, c := runLayerBatch(t, b, base, batch, impacts)
				diffs, known, cross = diffs+d, known+k, cross+c
			})
			t.Logf("layer oracle (%s): %d of %d cases from seed %d (%d cross-stage; impacts %v), %d differences, %d explained by knownDifferences",
				b.name, ran, len(seeds), seeds[0], cross, impacts, diffs, known)
		})
	}
}

// runLayerBatch runs the cases of one batch: first builds side by side,
// then the changes, then the second builds, each with its own command so
// each output is the case's own. It returns the differences, those
// explained, and how many cases were cross-stage.
func runLayerBatch(t *testing.T, b builder, base string, seeds []uint64, impacts map[dockerfile.Impact]int) (int, int, int) {
	t.Helper()
	root := t.TempDir()
	runs := make([]*layerRun, 0, len(seeds))
	cross := 0
	for _, s := range seeds {
		r, err := prepareLayer(s, base, b, root)
		if err != nil {
			t.Fatal(err)
		}
		runs = append(runs, r)
		impacts[r.res.Impact]++
		if r.c.Cross {
			cross++
		}
	}
	jobs := make([]job, len(runs))
	for i, r := range runs {
		jobs[i] = r.job
	}
	tags := make([]string, len(jobs))
	for i, j := range jobs {
		tags[i] = j.tag
	}
	t.Cleanup(func() { removeImages(t, tags) })
	if _, err := b.build(jobs, root); err != nil {
		t.Fatalf("first build: %v", err)
	}
	for _, r := range runs {
		if err := r.change(); err != nil {
			t.Fatal(err)
		}
	}
	outs, err := b.buildEach(jobs, root)
	if err != nil {
		t.Fatalf("second build: %v", err)
	}
	diffs, known := 0, 0
	for _, r := range runs {
		problems, err := r.check(b, outs[r.job.tag])
		if err != nil {
			t.Fatalf("case %d: %v\n%s", r.c.Seed, err, r.c.Dockerfile)
		}
		if len(problems) == 0 {
			continue
		}
		diffs++
		if k := explainLayer(b, r, problems); k != "" {
			known++
			continue
		}
		t.Errorf("layer difference (%s), seed %d, target %q, .dockerignore %q, change %s:\n%s\nrebuildd: %s (%s)\n- %s\nreproduce: go test ./conformance -run 'TestLayerOracle/%s' -args -conformance.seed=%d -conformance.n=1",
			b.name, r.c.Seed, r.c.Target, r.c.Ignore, r.c.Change, numbered(r.c.Dockerfile), r.res.Impact, r.res.Reason,
			strings.Join(problems, "\n- "), b.name, r.c.Seed)
	}
	return diffs, known, cross
}

// prepareLayer generates case seed, writes it under root and asks the
// model about its change.
func prepareLayer(seed uint64, base string, b builder, root string) (*layerRun, error) {
	c, err := GenLayerCase(seed, base, b.BuildKit())
	if err != nil {
		return nil, err
	}
	// Unique content per case and run: a second build must not find the
	// changed file's layer in the cache from another case or an earlier run.
	for _, p := range c.Tree.Paths() {
		if p != "Dockerfile" && p != ".dockerignore" {
			c.Tree[p] += fmt.Sprintf("%s %d\n", runID, seed)
		}
	}
	r := &layerRun{c: c, dir: filepath.Join(root, fmt.Sprintf("l%d", seed))}
	if err := c.Tree.Write(r.dir); err != nil {
		return nil, err
	}
	ins, err := instructions(c.Dockerfile)
	if err != nil {
		return nil, err
	}
	r.st = newStages(ins)
	svc := config.Service{Name: "conformance", Build: &config.Build{
		Context: r.dir, Dockerfile: filepath.Join(r.dir, "Dockerfile"), Target: c.Target}}
	if r.model, err = dockerfile.LoadWith(svc, config.ServiceSettings{}, b.dialect); err != nil {
		return nil, fmt.Errorf("case %d: %w\n%s", seed, err, c.Dockerfile)
	}
	r.res = r.model.Classify(filepath.Join(r.dir, filepath.FromSlash(c.Change)))
	r.job = job{dir: r.dir, dockerfile: "Dockerfile", target: c.Target,
		tag: fmt.Sprintf("rebuildd-conformance/layer-%s:%d", runID, seed)}
	return r, nil
}

// change writes the case's change: new content, unique to the case and
// the run.
func (r *layerRun) change() error {
	abs := filepath.Join(r.dir, filepath.FromSlash(r.c.Change))
	if err := os.MkdirAll(filepath.Dir(abs), 0o755); err != nil {
		return fmt.Errorf("change %q: %w", abs, err)
	}
	body := fmt.Sprintf("changed %s %d\n", runID, r.c.Seed)
	if err := os.WriteFile(abs, []byte(body), 0o644); err != nil {
		return fmt.Errorf("change %q: %w", abs, err)
	}
	return nil
}

// check reads the second build's output and checks the re-run steps.
func (r *layerRun) check(b builder, out string) ([]string, error) {
	rerun, err := b.reruns(out, r.st)
	if err != nil {
		return nil, err
	}
	rerun = chainOnly(rerun, r.st, r.model.Analysis())
	return checkReruns(r.model.Analysis(), r.st, r.res, r.c.Change, rerun), nil
}

// reruns reads the lines that missed the cache from one build's output.
func (b builder) reruns(out string, st stages) (map[int]bool, error) {
	if b.BuildKit() {
		return buildkitReruns(out, st)
	}
	return legacyReruns(out, st.ins)
}

// numbered prefixes each line of a Dockerfile with its number, as the
// model's reasons and the problems name lines.
func numbered(src string) string {
	lines := strings.Split(strings.TrimRight(src, "\n"), "\n")
	for i, l := range lines {
		lines[i] = fmt.Sprintf("%3d  %s", i+1, l)
	}
	return strings.Join(lines, "\n")
}
