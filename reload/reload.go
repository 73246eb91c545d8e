package reload

import (
	"fmt"
	"path"
	"slices"
	"strings"
)

// Process is what the Engine API's container inspect says the container
// runs (Config of the container: the effective Entrypoint and Cmd, with
// compose's overrides applied).
type Process struct {
	Entrypoint []string // Config.Entrypoint; a shell form is ["/bin/sh", "-c", "..."]
	Cmd        []string // Config.Cmd
	Env        []string // Config.Env, "KEY=value"
	WorkingDir string   // Config.WorkingDir; "" is "/"
	// Scripts are the "scripts" of the package.json npm, yarn and pnpm
	// would run, read from the container (see the package doc); nil when
	// unknown.
	Scripts map[string]string
}

// Verdict is whether the process picks the synced files up by itself.
type Verdict struct {
	Reloads bool   `json:"reloads"`
	Why     string `json:"why"` // "nodemon reloads", "restart: node runs without --watch"
}

// Decide says whether p reloads every one of paths (absolute container
// paths) by itself. Anything it cannot tell is a restart.
func Decide(p Process, paths []string) Verdict {
	argv := append(append([]string(nil), p.Entrypoint...), p.Cmd...)
	if len(argv) == 0 {
		return Verdict{Why: "restart: the container has no command"}
	}
	r := &resolver{scripts: p.Scripts}
	cwd := path.Join("/", p.WorkingDir)
	scopes, why := r.run(argv, envMap(p.Env), cwd, 0)
	if why != "" {
		return Verdict{Why: "restart: " + why}
	}
	if len(scopes) == 0 {
		return Verdict{Why: "restart: no long-running program found in the command"}
	}
	var whys []string
	for _, s := range scopes {
		for _, p := range paths {
			if !s.covers(p) {
				verb := "reload"
				if s.serves {
					verb = "serve"
				}
				return Verdict{Why: fmt.Sprintf("restart: %s does not %s %s (%s)", s.what, verb, p, s.describe())}
			}
		}
		whys = append(whys, s.what+" "+s.verb())
	}
	return Verdict{Reloads: true, Why: strings.Join(whys, ", ")}
}

// scope is what one long-running program reloads or serves fresh.
type scope struct {
	what   string   // the program, for reasons: "nodemon", "busybox httpd"
	serves bool     // a server that reads files per request, rather than a watcher
	dirs   []string // absolute directories; nil: anywhere
	exts   []string // file extensions without the dot; nil: any
	skip   []string // extensions it reads only at start (configuration)
}

// covers reports whether a change to p reaches the program.
func (s scope) covers(p string) bool {
	p = path.Clean(p)
	if s.dirs != nil {
		in := false
		for _, d := range s.dirs {
			if d == "/" || p == d || strings.HasPrefix(p, d+"/") {
				in = true
			}
		}
		if !in {
			return false
		}
	}
	ext := strings.ToLower(strings.TrimPrefix(path.Ext(p), "."))
	if slices.Contains(s.skip, ext) {
		return false
	}
	return s.exts == nil || slices.Contains(s.exts, ext)
}

func (s scope) verb() string {
	if s.serves {
		return "serves " + strings.Join(s.dirs, ", ")
	}
	return "reloads"
}

// describe says what the scope covers, for a restart's reason.
func (s scope) describe() string {
	var parts []string
	if s.serves {
		parts = append(parts, "it serves "+strings.Join(s.dirs, ", "))
	} else if s.dirs != nil {
		parts = append(parts, "it watches "+strings.Join(s.dirs, ", "))
	}
	if s.exts != nil {
		parts = append(parts, "only ."+strings.Join(s.exts, " ."))
	}
	if s.skip != nil {
		parts = append(parts, "not ."+strings.Join(s.skip, " .")+", read at start")
	}
	return strings.Join(parts, ", ")
}

// envMap reads "KEY=value" pairs; a later one wins, as in exec.
func envMap(env []string) map[string]string {
	m := make(map[string]string, len(env))
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		m[k] = v
	}
	return m
}

// abs makes dir absolute against the working directory.
func abs(cwd, dir string) string {
	if path.IsAbs(dir) {
		return path.Clean(dir)
	}
	return path.Join(cwd, dir)
}
