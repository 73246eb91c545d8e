package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestDesignDocListsEveryPackage keeps docs/design.md's package table and
// `go list ./...` in step: a package added, moved or removed without its
// row is a newcomer's wrong map.
func TestDesignDocListsEveryPackage(t *testing.T) {
	root := filepath.Join("..", "..")
	doc, err := os.ReadFile(filepath.Join(root, "docs", "design.md"))
	if err != nil {
		t.Fatal(err)
	}
	documented := documentedPackages(string(doc))
	out, err := exec.Command("go", "list", "-C", root, "./...").Output()
	if err != nil {
		t.Skipf("go list ./...: %v (the go command is needed to compare)", err)
	}
	const module = "github.com/rebuildd/rebuildd/"
	var listed []string
	for _, p := range strings.Fields(string(out)) {
		listed = append(listed, strings.TrimPrefix(p, module))
	}
	for _, p := range listed {
		if !slices.Contains(documented, p) {
			t.Errorf("package %s is missing from docs/design.md's package table", p)
		}
	}
	for _, p := range documented {
		if !slices.Contains(listed, p) {
			t.Errorf("docs/design.md lists package %s, which go list ./... does not know", p)
		}
	}
}

// documentedPackages reads the first column of the "## Packages" table:
// one or more backquoted package paths per row.
func documentedPackages(doc string) []string {
	_, section, _ := strings.Cut(doc, "\n## Packages\n")
	section, _, _ = strings.Cut(section, "\n## ")
	name := regexp.MustCompile("`([a-z0-9_/]+)`")
	var pkgs []string
	for _, line := range strings.Split(section, "\n") {
		cells := strings.Split(line, "|")
		if len(cells) < 3 || strings.HasPrefix(strings.TrimSpace(cells[1]), "---") {
			continue
		}
		for _, m := range name.FindAllStringSubmatch(cells[1], -1) {
			pkgs = append(pkgs, m[1])
		}
	}
	return pkgs
}

// TestNoImportRunsUpThePipeline checks the rule docs/design.md's package
// table states: a package imports only packages listed above it.
func TestNoImportRunsUpThePipeline(t *testing.T) {
	root := filepath.Join("..", "..")
	doc, err := os.ReadFile(filepath.Join(root, "docs", "design.md"))
	if err != nil {
		t.Fatal(err)
	}
	order := documentedPackages(string(doc))
	out, err := exec.Command("go", "list", "-C", root, "-f", "{{.ImportPath}} {{join .Imports \" \"}}", "./...").Output()
	if err != nil {
		t.Skipf("go list ./...: %v (the go command is needed to compare)", err)
	}
	const module = "github.com/rebuildd/rebuildd/"
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		pkg := strings.TrimPrefix(fields[0], module)
		at := slices.Index(order, pkg)
		for _, imp := range fields[1:] {
			dep, ok := strings.CutPrefix(imp, module)
			if !ok {
				continue
			}
			if i := slices.Index(order, dep); i > at {
				t.Errorf("%s imports %s, which docs/design.md's pipeline puts below it", pkg, dep)
			}
		}
	}
}
