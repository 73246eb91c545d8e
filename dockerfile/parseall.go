package dockerfile

import (
	"runtime"
	"strings"
	"sync"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

// parallelFrom is the number of instructions from which parseAll uses
// every core: below it, starting goroutines costs more than it saves
// (a real Dockerfile has tens of instructions).
const parallelFrom = 4096

// parsed is one node's instructions.ParseInstruction result. name is
// the instruction's name when v has none (plainCopy).
type parsed struct {
	v    any
	err  error
	name string
}

// parseAll runs BuildKit's instructions.ParseInstruction on every node;
// with plain set (a large Dockerfile, fastParseFrom), a plain COPY is
// built by plainCopy instead. Each call reads only its node, so a large
// Dockerfile is parsed on all cores.
func parseAll(nodes []*parser.Node, plain bool) []parsed {
	out := make([]parsed, len(nodes))
	parse := func(i int) {
		if plain {
			if c, ok := plainCopy(nodes[i]); ok {
				out[i] = parsed{v: c, name: "COPY"}
				return
			}
		}
		out[i].v, out[i].err = instructions.ParseInstruction(nodes[i])
	}
	workers := runtime.GOMAXPROCS(0)
	if len(nodes) < parallelFrom || workers < 2 {
		for i := range nodes {
			parse(i)
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
				parse(i)
			}
		}()
	}
	wg.Wait()
	return out
}

// plainCopy is what instructions.ParseInstruction makes of a COPY node
// without flags, heredocs or JSON form, with a source and a destination
// (the bulk of a generated Dockerfile, issue 17), without its cost (a
// flag set of six flags per instruction): parseCopy's flags all keep
// their defaults (no --from, --chown, --chmod, --link, --parents,
// --exclude) and parseSourcesAndDest takes the last word as the
// destination and the others as sources (none is a heredoc: no word holds
// "<<"). BuildKit keeps a command's name, text and location in unexported
// fields, so Name, String and Location of the result are empty: the
// analyzer names the instruction (parsed.name) and reads its line from
// the node, as for every instruction.
func plainCopy(n *parser.Node) (*instructions.CopyCommand, bool) {
	if !strings.EqualFold(n.Value, "copy") || len(n.Flags) > 0 || len(n.Heredocs) > 0 || n.Attributes != nil {
		return nil, false
	}
	words := 0
	for a := n.Next; a != nil; a = a.Next {
		if len(a.Children) > 0 || strings.Contains(a.Value, "<<") {
			return nil, false
		}
		words++
	}
	if words < 2 {
		return nil, false
	}
	srcs := make([]string, 0, words-1)
	a := n.Next
	for ; a.Next != nil; a = a.Next {
		srcs = append(srcs, a.Value)
	}
	return &instructions.CopyCommand{SourcesAndDest: instructions.SourcesAndDest{SourcePaths: srcs, DestPath: a.Value}}, true
}
