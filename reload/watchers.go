package reload

import (
	"slices"
	"strings"
)

// values collects the values of a flag given as "-w X", "--watch X" or
// "--watch=X", in order.
func values(args []string, names ...string) []string {
	var out []string
	for i := 0; i < len(args); i++ {
		for _, n := range names {
			switch {
			case args[i] == n && i+1 < len(args):
				out = append(out, args[i+1])
			case strings.HasPrefix(args[i], n+"="):
				out = append(out, strings.TrimPrefix(args[i], n+"="))
			}
		}
	}
	return out
}

// has reports whether any of the flags is given (bare or with "=value").
func has(args []string, names ...string) bool {
	for _, a := range args {
		for _, n := range names {
			if a == n || strings.HasPrefix(a, n+"=") {
				return true
			}
		}
	}
	return false
}

// dirs makes flag values absolute directories; none: the working directory.
func dirs(cwd string, vals []string) []string {
	if len(vals) == 0 {
		return []string{cwd}
	}
	out := make([]string, len(vals))
	for i, v := range vals {
		out[i] = abs(cwd, v)
	}
	return out
}

// exts reads comma-separated extensions ("js,ts", ".js, .ts").
func exts(vals []string) []string {
	var out []string
	for _, v := range vals {
		for _, e := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' }) {
			out = append(out, strings.ToLower(strings.TrimPrefix(e, ".")))
		}
	}
	return out
}

// nodeWatch is node --watch (and --watch-path): it restarts when a file
// the program loaded changes; --watch-path limits it to directories.
func nodeWatch(args []string, _ map[string]string, cwd string) (scope, string) {
	if !has(args, "--watch", "--watch-path") {
		return scope{}, "node runs without --watch"
	}
	s := scope{what: "node --watch"}
	if p := values(args, "--watch-path"); len(p) > 0 {
		s.dirs = dirs(cwd, p)
	}
	return s, ""
}

// nodemonExts is what nodemon watches by default (its defaults.js).
var nodemonExts = []string{"js", "mjs", "cjs", "json"}

// nodemon restarts its program when a file with a watched extension
// changes under the watched directories (default: the working directory).
func nodemon(args []string, _ map[string]string, cwd string) (scope, string) {
	s := scope{what: "nodemon", dirs: dirs(cwd, values(args, "-w", "--watch")), exts: exts(values(args, "-e", "--ext"))}
	if len(s.exts) == 0 {
		s.exts = nodemonExts
	}
	return s, ""
}

// uvicorn --reload restarts on .py changes under --reload-dir (default
// the working directory); --reload-include adds "*.ext" patterns.
func uvicorn(args []string, _ map[string]string, cwd string) (scope, string) {
	if !has(args, "--reload") {
		return scope{}, "uvicorn runs without --reload"
	}
	s := scope{what: "uvicorn --reload", dirs: dirs(cwd, values(args, "--reload-dir")), exts: []string{"py"}}
	for _, p := range values(args, "--reload-include") {
		if e, ok := strings.CutPrefix(p, "*."); ok && !strings.ContainsAny(e, "*?[/") {
			s.exts = append(s.exts, strings.ToLower(e))
		}
	}
	return s, ""
}

// flask run reloads in debug mode (--debug, FLASK_DEBUG, the old
// FLASK_ENV=development) or with --reload; --no-reload turns it off.
// Debug mode also re-reads templates; static files are read per request.
func flask(args []string, env map[string]string, _ string) (scope, string) {
	if !slices.Contains(args, "run") {
		return scope{}, "flask runs no server (no run command)"
	}
	debug := flaskTrue(env["FLASK_DEBUG"]) || env["FLASK_ENV"] == "development"
	if slices.Contains(args, "--debug") {
		debug = true
	}
	if slices.Contains(args, "--no-debug") {
		debug = false
	}
	reload := debug
	if slices.Contains(args, "--reload") {
		reload = true
	}
	if slices.Contains(args, "--no-reload") {
		reload = false
	}
	if !reload {
		return scope{}, "flask run without debug mode or --reload"
	}
	return scope{what: "flask run (debug reloader)"}, ""
}

// flaskTrue is Flask's get_debug_flag: set and not 0, false or no.
func flaskTrue(v string) bool {
	switch strings.ToLower(v) {
	case "", "0", "false", "no":
		return false
	}
	return true
}

// vite is the dev server unless it builds or previews; its root is the
// first argument that is not a flag (default the working directory).
func vite(args []string, _ map[string]string, cwd string) (scope, string) {
	root := ""
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "build" || a == "preview" || a == "optimize":
			return scope{}, "vite " + a + " is no dev server"
		case a == "dev" || a == "serve":
		case strings.HasPrefix(a, "-"):
			if !strings.Contains(a, "=") && i+1 < len(args) && !strings.HasPrefix(args[i+1], "-") && viteValued[a] {
				i++
			}
		case root == "":
			root = a
		}
	}
	if root == "" {
		root = "."
	}
	return scope{what: "vite", dirs: []string{abs(cwd, root)}}, ""
}

// viteValued are vite's flags that take a value.
var viteValued = map[string]bool{"--host": true, "--port": true, "--config": true, "-c": true, "--base": true, "--mode": true, "-m": true, "--logLevel": true, "-l": true}

// webpack rebuilds in watch mode and serves with serve.
func webpack(args []string, _ map[string]string, _ string) (scope, string) {
	if slices.Contains(args, "serve") || slices.Contains(args, "--watch") || slices.Contains(args, "-w") {
		return scope{what: "webpack"}, ""
	}
	return scope{}, "webpack runs without serve or --watch"
}

// parcel serves (and rebuilds) unless it builds.
func parcel(args []string, _ map[string]string, _ string) (scope, string) {
	if len(args) > 0 && args[0] == "build" {
		return scope{}, "parcel build is no dev server"
	}
	return scope{what: "parcel"}, ""
}

// airExts is air's default include_ext; its .air.toml is project input.
var airExts = []string{"go", "tpl", "tmpl", "html"}

// air rebuilds and restarts a Go program on changes under the working
// directory (its default root).
func air(_ []string, _ map[string]string, cwd string) (scope, string) {
	return scope{what: "air", dirs: []string{cwd}, exts: airExts}, ""
}

// watchexec restarts its command on changes under -w (default the working
// directory), for -e extensions (default any).
func watchexec(args []string, _ map[string]string, cwd string) (scope, string) {
	s := scope{what: "watchexec", dirs: dirs(cwd, values(args, "-w", "--watch"))}
	if e := exts(values(args, "-e", "--exts")); len(e) > 0 {
		s.exts = e
	}
	return s, ""
}
