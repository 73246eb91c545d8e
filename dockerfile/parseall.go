package dockerfile

import (
	"runtime"
	"sync"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

// parallelFrom is the number of instructions from which parseAll uses
// every core: below it, starting goroutines costs more than it saves
// (a real Dockerfile has tens of instructions).
const parallelFrom = 4096

// parsed is one node's instructions.ParseInstruction result.
type parsed struct {
	v   any
	err error
}

// parseAll runs BuildKit's instructions.ParseInstruction on every node.
// Each call reads only its node, so a large Dockerfile is parsed on all
// cores: it is a third of the cost of BenchmarkAnalyzeHuge, the other
// large part (parser.Parse) being sequential by nature.
func parseAll(nodes []*parser.Node) []parsed {
	out := make([]parsed, len(nodes))
	workers := runtime.GOMAXPROCS(0)
	if len(nodes) < parallelFrom || workers < 2 {
		for i, n := range nodes {
			out[i].v, out[i].err = instructions.ParseInstruction(n)
		}
		return out
	}
	var wg sync.WaitGroup
	chunk := (len(nodes) + workers - 1) / workers
	for lo := 0; lo < len(nodes); lo += chunk {
		hi := min(lo+chunk, len(nodes))
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := lo; i < hi; i++ {
				out[i].v, out[i].err = instructions.ParseInstruction(nodes[i])
			}
		}()
	}
	wg.Wait()
	return out
}
