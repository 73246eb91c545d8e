package dockerfile

import (
	"fmt"
	"strings"
	"testing"
)

// hugeDockerfile has n context COPYs over two stages: half in a deps stage
// ending in a RUN, half in a final stage that copies --from it first, so
// every input's layer depends on the cross-stage rule (issue 17: 16k COPY
// lines took 2.1 s, 64k 24.5 s, 200k did not finish).
func hugeDockerfile(n int) []byte {
	var b strings.Builder
	b.WriteString("FROM base AS deps\n")
	for i := range n / 2 {
		fmt.Fprintf(&b, "COPY src/f%d.txt /app/\n", i)
	}
	b.WriteString("RUN make\nFROM base\nCOPY --from=deps /out /out\n")
	for i := n / 2; i < n; i++ {
		fmt.Fprintf(&b, "COPY src/f%d.txt /app/\n", i)
	}
	return []byte(b.String())
}

// BenchmarkAnalyzeHuge analyses Dockerfiles of 16k, 64k and 200k COPY
// lines; the target is under a second for 200k (issue 17). cpu-s/op is
// reported beside wall time because the machine is shared (bench_linux_test.go).
func BenchmarkAnalyzeHuge(b *testing.B) {
	for _, n := range []int{16_000, 64_000, 200_000} {
		src := hugeDockerfile(n)
		b.Run(fmt.Sprintf("copies=%d", n), func(b *testing.B) {
			c0 := cpuNow()
			defer func() { b.ReportMetric((cpuNow()-c0).Seconds()/float64(b.N), "cpu-s/op") }()
			for b.Loop() {
				an, err := Analyze(src, "Dockerfile", "", nil)
				if err != nil {
					b.Fatal(err)
				}
				if len(an.Inputs) != n {
					b.Fatalf("%d inputs, want %d", len(an.Inputs), n)
				}
			}
		})
	}
}
