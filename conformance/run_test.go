package conformance

import (
	"crypto/rand"
	"encoding/hex"
	"flag"
	"testing"
	"time"
)

var (
	flagN      = flag.Int("conformance.n", 0, "cases per oracle and builder (0: the CI default of each oracle)")
	flagSeed   = flag.Uint64("conformance.seed", 1, "seed of the first case; case i uses seed+i")
	flagBudget = flag.Duration("conformance.budget", 60*time.Second,
		"per oracle and builder, start no new batch after this long (0: no limit; the default applies only without -conformance.n)")
	flagBuilder = flag.String("conformance.builder", "", `run one builder only: "buildkit", "classic", "classic-20.10", "docker-py" or "buildkit-20.10" ("legacy": the classic builder the layer oracle runs; "" runs every builder that works here)`)
)

// runID tells this test binary's images from another run's on the same
// engine.
var runID = func() string {
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on Linux
	}
	return hex.EncodeToString(b)
}()

// cases returns the seeds to run: -conformance.n of them from
// -conformance.seed, or def when -conformance.n is not given.
func cases(def int) []uint64 {
	n := def
	if *flagN > 0 {
		n = *flagN
	}
	out := make([]uint64, n)
	for i := range out {
		out[i] = *flagSeed + uint64(i)
	}
	return out
}

// deadlineReserve is the time left before go test's -timeout at which no
// new batch starts: a batch of the slowest kind (layer cases, two builds
// each) took up to ~2 minutes on the 2-core machine while other test
// binaries built too; twice that is the margin.
const deadlineReserve = 4 * time.Minute

// budget is how long one oracle may keep starting batches for one builder.
// CI runs `go test ./...` under go test's default 10-minute timeout for the
// whole package: four oracle runs and the known differences must fit, on a
// machine whose speed the test cannot know. An explicit -conformance.n
// means "run them all" unless -conformance.budget is given too.
func budget() time.Duration {
	set := map[string]bool{}
	flag.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if set["conformance.n"] && !set["conformance.budget"] {
		return 0
	}
	return *flagBudget
}

// inBatches runs fn on consecutive batches of seeds until they are done, the
// budget is spent, or go test's deadline is near, and returns how many
// seeds ran. Stopping early is logged, never silent; the summary line says
// how many of the cases ran.
func inBatches(t *testing.T, seeds []uint64, size int, fn func([]uint64)) int {
	start, limit := time.Now(), budget()
	for i := 0; i < len(seeds); i += size {
		if limit > 0 && time.Since(start) > limit {
			t.Logf("budget of %v spent after %d cases (-conformance.budget=0 runs them all)", limit, i)
			return i
		}
		if dl, ok := t.Deadline(); ok && time.Until(dl) < deadlineReserve {
			t.Logf("go test -timeout is near after %d cases; stopping (give a larger -timeout to run them all)", i)
			return i
		}
		fn(seeds[i:min(i+size, len(seeds))])
	}
	return len(seeds)
}
