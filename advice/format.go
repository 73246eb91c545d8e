package advice

import (
	"fmt"
	"path/filepath"
	"strings"
)

// Format renders a finding for people, compiler-style so editors and CI
// logs link the location:
//
//	services/api/Dockerfile:5: warn install-after-source (api): RUN npm ci ...
//	    fix: copy the dependency manifests first ...
//	         COPY package.json package-lock.json ./
//
// File is shown relative to dir when it is below it. services, when given,
// name the services the finding applies to.
func Format(f Finding, dir string, services ...string) string {
	var b strings.Builder
	b.WriteString(location(f, dir))
	fmt.Fprintf(&b, ": %s %s", f.Severity, f.Code)
	if len(services) > 0 {
		fmt.Fprintf(&b, " (%s)", strings.Join(services, ", "))
	}
	b.WriteString(": " + f.Message + "\n")
	for i, line := range strings.Split(f.Fix, "\n") {
		if i == 0 {
			b.WriteString("    fix: " + line + "\n")
			continue
		}
		b.WriteString("         " + line + "\n")
	}
	return b.String()
}

// location is file:line, or file alone for a finding about the whole file.
func location(f Finding, dir string) string {
	file := f.File
	if dir != "" {
		if rel, err := filepath.Rel(dir, file); err == nil && !strings.HasPrefix(rel, "..") {
			file = rel
		}
	}
	if f.Line > 0 {
		return fmt.Sprintf("%s:%d", file, f.Line)
	}
	return file
}
