package dockerfile

import (
	"fmt"
	"math/rand"
	"strings"
	"testing"
)

// hostileDockerfiles are FuzzAnalyze seeds an attacker or an accident
// gives (issue 17: 88 hand-made bad inputs and 900 fuzzed ones; a binary
// file printed hundreds of lines to stderr; 200k COPYs did not finish):
// binary data, bytes that are not UTF-8 or NUL in the words BuildKit
// expands, and inputs that were quadratic or exponential before (long FROM
// chains, stages read by COPY --from and RUN --mount=from in a chain, many
// ONBUILD triggers in many stages, variables that double). Each must end
// in an analysis or an *InputError, within the deadline, silently. With
// -short the long inputs are shorter (still far past anything real).
func hostileDockerfiles() []string {
	r := rand.New(rand.NewSource(17))
	bin := make([]byte, 64<<10)
	r.Read(bin)
	var all []byte
	for i := range 256 {
		all = append(all, byte(i))
	}
	n := 20_000
	if testing.Short() {
		n = 5_000
	}
	return []string{
		string(bin),
		"FROM a\n" + string(all) + "\n",
		"\xef\xbb\xbfFROM a\nCOPY \xef\xbb\xbf x /\n",
		"FROM a\nARG A=x\nCOPY $A\xe9 /\n",
		"FROM a\nARG A=x\nCOPY ${A#\xe9*} /\n",
		"FROM a\nARG A=x\nCOPY ${A/\x00/y} /\n",
		"FROM a\xff\nCOPY a /\n",
		"FROM a\nCOPY \x00 /\n",
		"FROM a\nENV X=\xff\xfe\nCOPY --exclude=\xff --exclude=\x00 . /\n",
		string(hugeDockerfile(5 * n)),
		"FROM a AS s0\n" + repeat(n, "FROM s%[1]d AS s%[2]d\nENV V%[1]d=%[1]d\n"),
		"FROM a AS s0\nCOPY x /x\n" + repeat(n, "FROM a AS s%[2]d\nCOPY --from=s%[1]d /x /x\nRUN y\n"),
		"FROM a AS s0\nCOPY x /x\n" + repeat(n, "FROM a AS s%[2]d\nRUN --mount=from=s%[1]d,target=/m y\nCOPY a /a\n"),
		repeat(2000, "FROM a AS s%[1]d\nCOPY x%[1]d /x\nRUN y\n") + "FROM a\n" + repeat(2000, "COPY --from=s%[1]d /x /x%[1]d\n") + "COPY . .\n",
		"FROM a AS b\n" + repeat(2000, "ONBUILD COPY f%[1]d /x\n") + repeat(2000, "FROM b AS c%[1]d\n"),
		"FROM a\nARG A=xx\n" + strings.Repeat("ARG A=${A}${A}\n", 40) + "COPY $A /\n",
		"FROM a\nARG A0=x\n" + repeat(n, "ARG A%[2]d=${A%[1]d}x\n") + "COPY $A100 /\n",
		"FROM a\nRUN a" + strings.Repeat(" \\\n b", 100_000) + "\n",
		"FROM a\nCOPY " + strings.Repeat("${A:-", 2000) + "y" + strings.Repeat("}", 2000) + " /d/\n",
		"FROM a\nRUN <<EOF\n" + strings.Repeat("echo hi\n", 200_000) + "EOF\n",
		"FROM a\nCOPY " + strings.Repeat("**/", 5000) + "x /d/\n",
		"FROM a\nCOPY " + strings.Repeat("[", 5000) + " /d/\n",
		"FROM a AS a\nCOPY --from=b / /\nFROM a AS b\nCOPY --from=a / /\n",
		strings.Repeat("\n", 1<<20) + "FROM a\n",
		"FROM a\n" + strings.Repeat("#", 1<<16) + "\n",
	}
}

// repeat writes format n times with the 0-based and 1-based counter.
func repeat(n int, format string) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, format, i, i+1)
	}
	return b.String()
}
