package main

import (
	"io"
	"os"
	"strings"
	"testing"

	"github.com/rebuildd/rebuildd/internal/testfs"
)

// The floor walk sees what the context walk sees: every file outside the
// pruned directories, and nothing inside them.
func TestFloorWalkPrunes(t *testing.T) {
	dir := t.TempDir()
	for _, rel := range []string{"src/a.txt", "src/d/b.txt", "Dockerfile", "node_modules/x/y.js", ".git/HEAD"} {
		testfs.Write(t, dir, rel, "x")
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout := os.Stdout
	os.Stdout = w
	err = runFloor([]string{dir, ".git,node_modules"})
	os.Stdout = stdout
	w.Close()
	out, _ := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(string(out)); got != "3 dirs, 3 files" {
		t.Errorf("floor walk: %q, want 3 dirs, 3 files", got)
	}
}
