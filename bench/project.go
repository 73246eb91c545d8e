package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// baseImage is the local busybox image internal/e2e and
// scripts/install-test-deps.sh build (nothing can be pulled here).
const baseImage = "rebuildd-test/busybox:latest"

// dockerfile has a deps layer (package.json, then a RUN) and a source
// layer (src, copied after the RUN), so every kind of edit has a known
// right answer. httpd serves src/index.html as /index.html.
const dockerfile = `FROM ` + baseImage + `
COPY package.json /deps/package.json
RUN cp /deps/package.json /deps/installed.json
COPY src /www
CMD ["httpd", "-f", "-p", "80", "-h", "/www"]
`

// dockerignore keeps what a real project keeps out of its context.
const dockerignore = ".git\nnode_modules\n"

// watchRules are the develop.watch rules a user would write for this
// Dockerfile: rebuild when anything it copies changes. They name the
// inputs exactly, which spares compose watch the README edits; rebuildd
// gets no rules and infers the same from the Dockerfile.
const watchRules = `services:
  web:
    develop:
      watch:
        - action: rebuild
          path: ./package.json
        - action: rebuild
          path: ./src
        - action: rebuild
          path: ./Dockerfile
`

// syncRules are the develop.watch rules a user would write for live
// update (issue 16, "Speed"): copy src into /www, where the Dockerfile's
// COPY puts it, and rebuild for the rest. compose watch reads nothing from
// the Dockerfile: the target is written by hand.
const syncRules = `services:
  web:
    develop:
      watch:
        - action: sync
          path: ./src
          target: /www
        - action: rebuild
          path: ./package.json
        - action: rebuild
          path: ./Dockerfile
`

// layout is a generated project: files source files under src (100 per
// directory), nmFiles ignored files under node_modules, and a git branch
// "other" on which changed of the source files differ.
type layout struct {
	files, nmFiles, changed int
}

func (l layout) String() string {
	return fmt.Sprintf("files=%d node_modules=%d changed=%d v3", l.files, l.nmFiles, l.changed)
}

func (l layout) srcFile(i int) string {
	return fmt.Sprintf("src/d%03d/f%06d.txt", i/100, i)
}

// generate writes the project into dir unless a previous run left the same
// layout there; either way the tree is reset to branch main, clean, so an
// interrupted run leaves nothing behind. compose.yaml is written each time
// (the port changes).
func generate(dir string, l layout, port int) error {
	marker := filepath.Join(dir, ".git", "bench-layout")
	if b, err := os.ReadFile(marker); err != nil || string(b) != l.String() {
		if err := create(dir, l); err != nil {
			return err
		}
		if err := os.WriteFile(marker, []byte(l.String()), 0o644); err != nil {
			return fmt.Errorf("generate %q: %w", marker, err)
		}
	}
	if err := git(dir, "checkout", "-q", "-f", "main"); err != nil {
		return err
	}
	if err := git(dir, "clean", "-q", "-f", "-d", "-e", "node_modules"); err != nil {
		return err
	}
	compose := fmt.Sprintf("services:\n  web:\n    build: .\n    ports:\n      - \"127.0.0.1:%d:80\"\n", port)
	return writeFiles(dir, map[string]string{"compose.yaml": compose, "compose.watch.yaml": watchRules, "compose.sync.yaml": syncRules})
}

func create(dir string, l layout) error {
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("clear %q: %w", dir, err)
	}
	files := map[string]string{
		"Dockerfile":      dockerfile,
		".dockerignore":   dockerignore,
		".gitignore":      "node_modules\ncompose.yaml\ncompose.watch.yaml\ncompose.sync.yaml\n",
		"package.json":    `{"name":"bench","version":"1.0.0"}` + "\n",
		"README.md":       "# bench project\n",
		"src/index.html":  "generated\n",
		"node_modules/.x": "",
	}
	for i := 0; i < l.files; i++ {
		files[l.srcFile(i)] = fmt.Sprintf("file %d\n", i)
	}
	for i := 0; i < l.nmFiles; i++ {
		files[fmt.Sprintf("node_modules/pkg%04d/lib/f%06d.js", i/100, i)] = "x\n"
	}
	if err := writeFiles(dir, files); err != nil {
		return err
	}
	steps := [][]string{
		{"init", "-q", "-b", "main"},
		{"add", "-A"},
		{"commit", "-q", "-m", "main"},
		{"checkout", "-q", "-b", "other"},
	}
	for _, s := range steps {
		if err := git(dir, s...); err != nil {
			return err
		}
	}
	changed := map[string]string{}
	for i := 0; i < min(l.changed, l.files); i++ {
		changed[l.srcFile(i)] = fmt.Sprintf("file %d on branch other\n", i)
	}
	if err := writeFiles(dir, changed); err != nil {
		return err
	}
	for _, s := range [][]string{{"commit", "-q", "-a", "--allow-empty", "-m", "other"}, {"checkout", "-q", "main"}} {
		if err := git(dir, s...); err != nil {
			return err
		}
	}
	return nil
}

func writeFiles(dir string, files map[string]string) error {
	made := map[string]bool{}
	for rel, body := range files {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		if d := filepath.Dir(p); !made[d] {
			if err := os.MkdirAll(d, 0o755); err != nil {
				return fmt.Errorf("generate %q: %w", d, err)
			}
			made[d] = true
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			return fmt.Errorf("generate %q: %w", p, err)
		}
	}
	return nil
}

// git runs git in dir with a fixed identity, so it works on a machine
// without git configuration.
func git(dir string, args ...string) error {
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=bench", "GIT_AUTHOR_EMAIL=bench@localhost",
		"GIT_COMMITTER_NAME=bench", "GIT_COMMITTER_EMAIL=bench@localhost")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("git %s in %q: %w: %s", strings.Join(args, " "), dir, err, out)
	}
	return nil
}
