package conformance

import (
	"math/rand/v2"
	"strings"
)

// fixedPatterns are lines every .dockerignore author writes sooner or later,
// including the build files listed in themselves and the lines Docker reads
// specially (comments, blanks, surrounding spaces).
var fixedPatterns = []string{
	"Dockerfile", ".dockerignore", "*.Dockerfile", "*.dockerignore", "*", "**",
	"*/", ".*", "**/.*", "**/*.go", "!Dockerfile", "!.dockerignore", "!*.md",
	"# a comment", "", "   ab   ", "node_modules", "**/node_modules", ".git",
	"/src", "./lib", "tmp/", "**/b", "*/*", "a*", "!a*", "?", "[a-c]", "[^a]*",
}

// genIgnore returns the lines of a random ignore file for tree t: between
// one and seven patterns, most derived from paths that exist so they match
// something, a third of them exceptions.
func genIgnore(r *rand.Rand, t Tree) []string {
	paths := append(t.Paths(), t.Dirs()...)
	n := 1 + r.IntN(7)
	lines := make([]string, 0, n)
	for range n {
		if len(paths) == 0 || chance(r, 0.25) {
			lines = append(lines, pick(r, fixedPatterns))
			continue
		}
		lines = append(lines, derivePattern(r, pick(r, paths)))
	}
	return lines
}

// derivePattern turns the existing path p into a pattern that matches it,
// or a neighbour of it, through the constructs Docker supports: `*`, `?`,
// classes, `**`, a leading `/` or `./`, a trailing `/`, a shortened prefix,
// and `!`.
func derivePattern(r *rand.Rand, p string) string {
	segs := strings.Split(p, "/")
	if len(segs) > 1 && chance(r, 0.3) {
		segs = segs[:1+r.IntN(len(segs)-1)] // a directory above p
	}
	for i := range segs {
		if chance(r, 0.2) {
			segs[i] = mutateSegment(r, segs[i])
		}
	}
	switch {
	case chance(r, 0.15):
		segs = append([]string{"**"}, segs...)
	case chance(r, 0.1) && len(segs) > 1:
		i := 1 + r.IntN(len(segs)-1)
		segs = append(segs[:i], append([]string{"**"}, segs[i:]...)...)
	case chance(r, 0.1):
		segs = append(segs, "**")
	}
	pat := strings.Join(segs, "/")
	switch {
	case chance(r, 0.1):
		pat = "/" + pat
	case chance(r, 0.05):
		pat = "./" + pat
	}
	if chance(r, 0.15) {
		pat += "/"
	}
	if chance(r, 0.3) {
		pat = "!" + pat
	}
	return pat
}

// mutateSegment turns one path segment into a glob that still matches it
// (or, for classes, may just as well match a neighbour).
func mutateSegment(r *rand.Rand, s string) string {
	runes := []rune(s)
	switch r.IntN(6) {
	case 0:
		return "*"
	case 1:
		i := r.IntN(len(runes))
		runes[i] = '?'
		return string(runes)
	case 2:
		return string(runes[:r.IntN(len(runes))]) + "*"
	case 3:
		return "*" + string(runes[r.IntN(len(runes)):])
	case 4:
		return "[a-c]" + string(runes[1:])
	default:
		if strings.ContainsRune(`-^]\`, runes[0]) {
			return "*" // would need escaping inside a class
		}
		return "[^" + string(runes[0]) + "]" + string(runes[1:])
	}
}
