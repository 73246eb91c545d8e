package docker

import (
	"crypto/sha256"
	"debug/buildinfo"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/rebuildd/rebuildd/statedir"
)

// The answer of `<compose_command> version --short` is kept in the state
// directory: starting a wrapper or an unusual Compose to ask costs 50 ms to
// 2 s, more than the rest of an up-to-date --once. It is asked again when
// anything it could depend on changes (flavorKey).

// flavorFile is the cache's content.
type flavorFile struct {
	Key string `json:"key"`
	V1  bool   `json:"v1"`
}

// FlavorCachePath is where DetectComposeCached keeps its answer for the
// project whose state is in dir.
func FlavorCachePath(dir string) string {
	return filepath.Join(dir, statedir.Version, "compose-flavor.json")
}

// flavorKey names what the answer depends on: the command line, PATH and
// DOCKER_CONFIG (which binaries and plugin it finds), and the identity
// (size, mtime, ctime, inode, device) of every file it may run: the
// resolved command, arguments that are executables or scripts (a wrapper's
// script), the docker CLI and docker-compose on PATH, and the compose
// plugin the docker CLI would use. Changing compose_command, editing a
// wrapper, upgrading the plugin or switching docker-compose between v1 and
// v2 (a new file, or a link to one) all change it. A wrapper that runs a
// Compose found some other way is not followed: touch the wrapper, or
// delete the cache file, after changing that Compose.
func flavorKey(command []string, resolved string) string {
	h := sha256.New()
	for _, a := range command {
		fmt.Fprintf(h, "arg %q\n", a)
	}
	fmt.Fprintf(h, "PATH=%s\nDOCKER_CONFIG=%s\n", os.Getenv("PATH"), os.Getenv("DOCKER_CONFIG"))
	files := []string{resolved, composePlugin()}
	for _, name := range []string{"docker", "docker-compose"} {
		if p, err := exec.LookPath(name); err == nil {
			files = append(files, p)
		}
	}
	for _, a := range command[1:] {
		if strings.ContainsRune(a, filepath.Separator) && runnable(a) {
			files = append(files, a)
		}
	}
	for _, f := range files {
		fmt.Fprintf(h, "file %q %s\n", f, fileIdentity(f))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// fileIdentity is what changes when a file is replaced or rewritten; the
// stat follows links, so re-pointing a link changes it too.
func fileIdentity(path string) string {
	if path == "" {
		return "none"
	}
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		return "missing"
	}
	return fmt.Sprintf("%d %d %d %d %d", st.Size, st.Mtim.Nano(), st.Ctim.Nano(), st.Ino, st.Dev)
}

// runnable reports whether path is an executable file or a script, which
// a wrapper command might run; data files it names (logs, stamps) change
// on every run and say nothing about the Compose behind it.
func runnable(path string) bool {
	fi, err := os.Stat(path)
	if err != nil || !fi.Mode().IsRegular() {
		return false
	}
	if fi.Mode()&0o111 != 0 {
		return true
	}
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	var head [2]byte
	n, _ := io.ReadFull(f, head[:])
	return n == 2 && string(head[:]) == "#!"
}

// readFlavor returns the cached answer for key.
func readFlavor(cache, key string) (v1, ok bool) {
	if cache == "" {
		return false, false
	}
	b, err := statedir.ReadFile(cache)
	if err != nil {
		return false, false
	}
	var f flavorFile
	if json.Unmarshal(b, &f) != nil || f.Key != key {
		return false, false
	}
	return f.V1, true
}

// writeFlavor keeps the answer; failing to is only slower next time.
func writeFlavor(cache, key string, v1 bool) {
	if cache == "" {
		return
	}
	_ = statedir.WriteAtomic(cache, func(w io.Writer) error {
		return json.NewEncoder(w).Encode(flavorFile{Key: key, V1: v1})
	})
}

// knownFlavor tells the flavour of a one-word Compose CLI from its file
// alone, for the modes that may not start it: a Go binary is Compose v2
// (debug/buildinfo finds its build information); any other executable
// named docker-compose that is not a Go binary is v1's (a PyInstaller
// bundle, as its releases shipped; the Python script form is
// pythonScript's). ok is false when the file cannot say: a shell wrapper,
// or podman compose, which hands over to another program.
func knownFlavor(command []string, path string) (v1, ok bool) {
	if len(command) != 1 {
		return false, false
	}
	if _, err := buildinfo.ReadFile(path); err == nil {
		return false, true
	}
	if filepath.Base(path) == "docker-compose" && isELF(path) {
		return true, true
	}
	return false, false
}

// isELF reports whether path is an ELF executable (not a script).
func isELF(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	var head [4]byte
	n, _ := io.ReadFull(f, head[:])
	return n == 4 && string(head[:]) == "\x7fELF"
}
