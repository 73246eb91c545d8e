// Package statedir owns rebuildd's state directory: where it is by default,
// its layout version, how files in it are written (atomically), and the
// lock that keeps one rebuildd per project. What is stored there (build
// records, the stat index, the Compose flavour cache) belongs to the
// packages that write it. See docs/design.md, "State".
package statedir

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
)

// Version names the layout; a new layout gets a new subdirectory, so
// an old rebuildd and a new one never misread each other's files. v2:
// records key their build-arg parts (Key); v1 records are not read, so
// each service is judged once as having no record.
const Version = "v2"

// Default is <user cache dir>/rebuildd/<project>-<hash of project
// dir>: two checkouts of one project (same name) keep separate state.
func Default(projectName, projectDir string) (string, error) {
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("find the state directory: %w (set --state-dir)", err)
	}
	sum := sha256.Sum256([]byte(projectDir))
	return filepath.Join(cache, "rebuildd", projectName+"-"+hex.EncodeToString(sum[:])[:8]), nil
}
