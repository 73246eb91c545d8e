package advice

import (
	"fmt"
	"strconv"
	"strings"
)

// Engine is what advice knows of the engine that builds the project. Only
// the Dockerfile frontend built into it matters here: syntax that frontend
// parses needs no "# syntax=" line, and that line makes BuildKit fetch a
// frontend image from a registry at every build (offline, the build fails:
// "failed to solve with frontend gateway.v0 ... no such host").
type Engine struct {
	// APIVersion is the Engine API version the engine speaks ("1.41", as
	// `docker version --format '{{.Server.APIVersion}}'` prints it); ""
	// when no engine was asked (explain and advise run without Docker).
	APIVersion string
}

// frontend is one line of engine releases and the Dockerfile frontend
// built into them. An engine's built-in frontend is the one of the BuildKit
// it vendors, and BuildKit v0.N ships docker/dockerfile 1.(N-6).
type frontend struct {
	api    string // Engine API version of the oldest release that speaks it
	docker string // that release
	minor  int    // it parses what docker/dockerfile:1.<minor> parses
}

// frontends, oldest first. A row is a lower bound: later releases with the
// same API version may vendor a newer BuildKit (28.5 speaks 1.51 like 28.3
// but ships 1.19), so advice may ask for a line that one of them would not
// need, never the other way round. Checked on Docker 20.10.24 (Debian 12):
// RUN --mount and COPY --chmod build without a syntax line; heredocs,
// COPY --link, RUN --network, ADD --checksum, COPY --exclude and
// COPY --parents fail to parse.
var frontends = []frontend{
	{"1.40", "19.03", 0}, // RUN --mount only behind "# syntax=docker/dockerfile:experimental"
	{"1.41", "20.10", 2},
	{"1.42", "23.0", 4},
	{"1.43", "24.0", 5},
	{"1.44", "25.0", 6},
	{"1.45", "26.0", 7},
	{"1.46", "27.0", 8},
	{"1.47", "27.2", 9},
	{"1.48", "28.0", 14},
	{"1.49", "28.1", 15},
	{"1.50", "28.2", 16},
	{"1.51", "28.3", 17},
	{"1.52", "29.0", 19},
}

// assumedFrontend is taken when no engine was asked: Docker 20.10, the
// oldest release still in common use (Debian 12 ships it), so advice never
// leaves out a line an engine in use needs. Messages say it was assumed.
var assumedFrontend = frontends[1]

// builtinFrontend is the frontend built into e, and whether it was assumed
// because e names no (readable) API version.
func builtinFrontend(e Engine) (frontend, bool) {
	v, ok := apiMinor(e.APIVersion)
	if !ok {
		return assumedFrontend, true
	}
	if first, _ := apiMinor(frontends[0].api); v < first {
		return frontend{api: e.APIVersion, docker: "an engine older than Docker 19.03", minor: 0}, false
	}
	f := frontends[0]
	for _, row := range frontends {
		if m, _ := apiMinor(row.api); m <= v {
			f = row
		}
	}
	return f, false
}

// apiMinor is the minor number of an Engine API version "1.N".
func apiMinor(v string) (int, bool) {
	major, minor, ok := strings.Cut(strings.TrimSpace(v), ".")
	if !ok || major != "1" {
		return 0, false
	}
	n, err := strconv.Atoi(minor)
	return n, err == nil
}

// firstBuiltin names the oldest Docker release whose built-in frontend
// parses docker/dockerfile:1.<minor> syntax, "" when none in the table does.
func firstBuiltin(minor int) string {
	for _, f := range frontends {
		if f.minor >= minor {
			return "Docker " + f.docker
		}
	}
	return ""
}

// describe names the engine's frontend for a message.
func (f frontend) describe() string {
	name := f.docker
	if !strings.HasPrefix(name, "an engine") {
		name = "Docker " + name
	}
	return fmt.Sprintf("the Dockerfile frontend built into %s (Engine API %s, Dockerfile 1.%d)", name, f.api, f.minor)
}

// assumedNote ends a message that depends on an engine nobody asked.
func assumedNote(assumed bool) string {
	if !assumed {
		return ""
	}
	return " (no engine was asked: Docker 20.10 assumed)"
}
