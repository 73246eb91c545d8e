package conformance

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"

	"github.com/rebuildd/rebuildd/ignore"
)

// legacyContext predicts the context Docker 20.10's classic builder (CLI
// and daemon) builds for case c written in dir. It was the oracle's model of
// that builder while rebuildd modelled BuildKit only, written from moby's
// code independently of package ignore; now it checks the Classic2010
// dialect without an engine (TestClassic2010MatchesLegacyModel):
//
//   - only <context>/.dockerignore is read, never <Dockerfile>.dockerignore;
//   - the CLI adds "!.dockerignore" and "!<Dockerfile>" when the patterns
//     exclude them, so both are always sent (cli/command/image/build:
//     TrimBuildFilesFromExcludes);
//   - the CLI's walk (pkg/archive TarWithOptions) matches each path with
//     the old PatternMatcher.Matches (one parent checked, at the pattern's
//     own depth), and skips an excluded directory unless some exception
//     pattern starts with that directory's path, so "!**/x" never reaches
//     into an excluded directory;
//   - the daemon removes .dockerignore and the Dockerfile again when the
//     original patterns exclude them (builder/remotecontext: removeDockerfile).
func legacyContext(c ContextCase, dir string) ([]string, error) {
	files, patterns, err := legacySent(c, dir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, f := range files {
		if (f == ".dockerignore" || f == c.Dockerfile) && oldMatches(f, patterns) {
			continue
		}
		out = append(out, f)
	}
	return out, nil
}

// legacySent returns the files the legacy CLI sends for case c and the
// patterns of <context>/.dockerignore.
func legacySent(c ContextCase, dir string) (files, patterns []string, err error) {
	patterns, err = readPatterns(filepath.Join(dir, ".dockerignore"))
	if err != nil {
		return nil, nil, err
	}
	sent := append([]string(nil), patterns...)
	if oldMatches(".dockerignore", patterns) {
		sent = append(sent, "!.dockerignore")
	}
	if oldMatches(c.Dockerfile, patterns) {
		sent = append(sent, "!"+c.Dockerfile)
	}
	files, err = legacyWalk(dir, sent)
	return files, patterns, err
}

// legacyLosesDockerfile reports whether the legacy CLI does not send the
// Dockerfile at all, so the daemon answers "Cannot locate specified
// Dockerfile": the old one-parent matching does not see that "**/docker"
// excludes docker/web.Dockerfile, adds no exception for it, and the walk
// then skips docker/ whole.
func legacyLosesDockerfile(c ContextCase, dir string) bool {
	files, _, err := legacySent(c, dir)
	return err == nil && !slices.Contains(files, c.Dockerfile)
}

func readPatterns(file string) ([]string, error) {
	data, err := os.ReadFile(file)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %q: %w", file, err)
	}
	return ignorefile.ReadAll(bytes.NewReader(data))
}

// oldMatches is the daemon's and the CLI's fileutils.Matches of Docker 20.10.
func oldMatches(file string, patterns []string) bool {
	pm, err := patternmatcher.New(patterns)
	if err != nil {
		return false
	}
	ok, _ := pm.Matches(file) //nolint:staticcheck // the old, deprecated semantics are the point
	return ok
}

// legacyWalk is pkg/archive's TarWithOptions walk of Docker 20.10: the
// regular files it puts in the context tar.
func legacyWalk(dir string, patterns []string) ([]string, error) {
	pm, err := patternmatcher.New(patterns)
	if err != nil {
		return nil, fmt.Errorf("patterns %q: %w", patterns, err)
	}
	var out []string
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if rel == "." {
			return nil
		}
		rel = filepath.ToSlash(rel)
		skip, _ := pm.Matches(rel) //nolint:staticcheck // as above
		switch {
		case !skip && d.Type().IsRegular():
			out = append(out, rel)
		case skip && d.IsDir() && !exceptionUnder(pm, rel):
			return filepath.SkipDir
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("walk %q: %w", dir, err)
	}
	sort.Strings(out)
	return out, nil
}

// exceptionUnder is the walk's test for descending into an excluded
// directory: some exception pattern, as a string, starts with "rel/".
func exceptionUnder(pm *patternmatcher.PatternMatcher, rel string) bool {
	for _, p := range pm.Patterns() {
		if p.Exclusion() && strings.HasPrefix(p.String()+"/", rel+"/") {
			return true
		}
	}
	return false
}

// TestLegacyContext pins the legacy model on the cases that define it. The
// first two were known differences 1 and 2, whose reproducers the real
// legacy builder built exactly so; the others are rules of the model that
// the oracle runs exercised.
func TestLegacyContext(t *testing.T) {
	tests := []struct {
		name string
		tree Tree
		want []string
	}{
		{"Dockerfile-specific file not read", Tree{"Dockerfile.dockerignore": "a\n", "a": "x"},
			[]string{"Dockerfile", "Dockerfile.dockerignore", "a"}},
		{"no descent for a wildcard exception", Tree{".dockerignore": "build\n!**/x\n", "build/x": "x"},
			[]string{".dockerignore", "Dockerfile"}},
		{"descent for a literal exception", Tree{".dockerignore": "build\n!build/x\n", "build/x": "x", "build/y": "y"},
			[]string{".dockerignore", "Dockerfile", "build/x"}},
		{"build files sent, then removed", Tree{".dockerignore": "*\n", "a": "x"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			tt.tree["Dockerfile"] = "FROM x\n"
			if err := tt.tree.Write(dir); err != nil {
				t.Fatal(err)
			}
			got, err := legacyContext(ContextCase{Dockerfile: "Dockerfile", Tree: tt.tree}, dir)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("legacyContext = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestLegacyLosesDockerfile: "**/docker" loses docker/web.Dockerfile (seed
// 1059), "docker" does not (the CLI's added exception brings it back).
func TestLegacyLosesDockerfile(t *testing.T) {
	for pattern, want := range map[string]bool{"**/docker": true, "docker": false, "docker/": false, "a": false} {
		dir := t.TempDir()
		c := ContextCase{Dockerfile: "docker/web.Dockerfile", Tree: Tree{
			".dockerignore": pattern + "\n", "docker/web.Dockerfile": "FROM x\n", "a": "x"}}
		if err := c.Write(dir); err != nil {
			t.Fatal(err)
		}
		if got := legacyLosesDockerfile(c, dir); got != want {
			t.Errorf("pattern %q: legacyLosesDockerfile = %v, want %v", pattern, got, want)
		}
	}
}

// TestClassic2010MatchesLegacyModel compares the Classic2010 dialect with
// the legacy model on generated context cases, without an engine: two
// implementations of Docker 20.10's walk written apart must agree.
func TestClassic2010MatchesLegacyModel(t *testing.T) {
	n := 500
	if testing.Short() {
		n = 200
	}
	for seed := uint64(1); seed <= uint64(n); seed++ {
		c := GenContextCase(seed, "base")
		dir := t.TempDir()
		if err := c.Write(dir); err != nil {
			t.Fatal(err)
		}
		if legacyLosesDockerfile(c, dir) {
			continue // Docker fails the build (known difference)
		}
		want, err := legacyContext(c, dir)
		if err != nil {
			t.Fatal(err)
		}
		got, err := c.Expected(dir, ignore.Classic2010)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, want) {
			t.Errorf("%sClassic2010: %q\nlegacy model: %q", c, got, want)
		}
	}
}
