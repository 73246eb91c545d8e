// Package testfs holds file-tree helpers shared by the tests of several
// packages (fingerprint, rebuild).
package testfs

import (
	"os"
	"path/filepath"
	"testing"
)

// Write creates dir/rel (and its parents) with content, failing t on error.
func Write(t testing.TB, dir, rel, content string) {
	t.Helper()
	p := filepath.Join(dir, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
