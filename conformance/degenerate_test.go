package conformance

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/rebuildd/rebuildd/internal/e2e"
)

// degenerateIgnores are .dockerignore files of lines that clean to almost
// nothing (issue 13: a line "/" made rebuildd exit 2 while both builders
// accept it and match nothing with it). Some Docker accepts, some it
// refuses ("!" alone, and "!/", which cleans to it): rebuildd must do the
// same, and where it accepts, send the same files.
var degenerateIgnores = []string{
	"/\n", "//\n", "/.\n", "./\n", ".\n", "..\n", "../\n", "!./\n", "!..\n",
	"**\n!Dockerfile\n", "a\n/\n!a\n", "/\na\n", "*\n!./\n",
	"!\n", "!/\n", "*\n!/\n", "!/.\n",
}

// TestDegeneratePatterns builds a small context with each degenerate
// .dockerignore, with every builder: where rebuildd's Load refuses the
// file, the build must fail; where it accepts, the image must hold exactly
// the files rebuildd says are sent.
func TestDegeneratePatterns(t *testing.T) {
	for _, b := range builders(t) {
		t.Run(b.name, func(t *testing.T) {
			base := e2e.BaseImage(t)
			root := t.TempDir()
			var jobs []job
			var cases []ContextCase
			for i, ign := range degenerateIgnores {
				c := ContextCase{Seed: uint64(i), Dockerfile: "Dockerfile",
					Tree:    Tree{"a/b": "x\n", "c": "y\n", ".hidden": "z\n", "Dockerfile": ContextDockerfile(base), ".dockerignore": ign},
					Ignores: map[string][]string{".dockerignore": strings.Split(strings.TrimSuffix(ign, "\n"), "\n")}}
				dir := filepath.Join(root, fmt.Sprintf("d%d", i))
				if err := c.Write(dir); err != nil {
					t.Fatal(err)
				}
				cases = append(cases, c)
				jobs = append(jobs, job{dir: dir, dockerfile: "Dockerfile", tag: fmt.Sprintf("rebuildd-conformance/degenerate-%s:%d-%s", runID, i, b.name)})
			}
			got, failed := buildEachAndList(t, b, jobs, root)
			for i, c := range cases {
				want, err := c.Expected(jobs[i].dir, b.dialect)
				switch {
				case err != nil && failed[jobs[i].tag] == nil:
					t.Errorf("%q: rebuildd refuses it (%v), but %s builds it, sending %q", degenerateIgnores[i], err, b.name, got[jobs[i].tag])
				case err != nil:
					t.Logf("%q: refused by rebuildd and by %s", degenerateIgnores[i], b.name)
				case failed[jobs[i].tag] != nil:
					t.Errorf("%q: rebuildd sends %q, but %s fails: %v", degenerateIgnores[i], want, b.name, failed[jobs[i].tag])
				case !slices.Equal(want, got[jobs[i].tag]):
					t.Errorf("%q: rebuildd sends %q, %s sends %q", degenerateIgnores[i], want, b.name, got[jobs[i].tag])
				default:
					t.Logf("%q: both send %q", degenerateIgnores[i], want)
				}
			}
		})
	}
}

// buildEachAndList is buildAndList with a command per job, for BuildKit
// too: one Compose command fails as a whole when one of its builds does.
func buildEachAndList(t *testing.T, b builder, jobs []job, root string) (map[string][]string, map[string]error) {
	t.Helper()
	var tags []string
	for _, j := range jobs {
		tags = append(tags, j.tag)
	}
	t.Cleanup(func() { removeImages(t, tags) })
	_, failed := eachErr(jobs, b.one(root))
	var built []string
	for _, tag := range tags {
		if failed[tag] == nil {
			built = append(built, tag)
		}
	}
	if len(built) == 0 {
		return map[string][]string{}, failed
	}
	got, err := topLayerFiles(built, "ctx")
	if err != nil {
		t.Fatal(err)
	}
	return got, failed
}
