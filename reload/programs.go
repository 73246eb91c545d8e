package reload

import (
	"fmt"
	"maps"
	"path"
	"regexp"
	"strings"
)

// maxDepth bounds wrappers within wrappers (sh -c "exec tini -- npm run
// dev" ...): real commands nest a few levels; a deeper one is a loop.
const maxDepth = 12

// resolver follows a command through its wrappers to the programs that
// keep running.
type resolver struct {
	scripts map[string]string
}

// run returns the scopes of the long-running programs argv starts, or why
// it cannot tell (or knows they do not reload).
func (r *resolver) run(argv []string, env map[string]string, cwd string, depth int) ([]scope, string) {
	if depth > maxDepth {
		return nil, "the command wraps itself too deeply to follow"
	}
	if len(argv) == 0 {
		return nil, "an empty command"
	}
	name := program(argv[0])
	if w, ok := wrappers[name]; ok {
		return w(r, argv, env, cwd, depth+1)
	}
	if p, ok := programs[name]; ok {
		s, why := p(argv[1:], env, cwd)
		if why != "" {
			return nil, why
		}
		return []scope{s}, ""
	}
	return nil, fmt.Sprintf("%s is a program rebuildd does not know to reload", argv[0])
}

// versioned are program families whose binaries carry a version
// (python3.12, php-fpm8.2, nodejs).
var versioned = regexp.MustCompile(`^(python|php-fpm|php|node|pypy)(js)?[0-9.]*$`)

// program is the name a command is known by: its base name, without a
// version suffix.
func program(arg0 string) string {
	name := path.Base(arg0)
	if m := versioned.FindStringSubmatch(name); m != nil {
		return m[1]
	}
	return name
}

type wrapper func(r *resolver, argv []string, env map[string]string, cwd string, depth int) ([]scope, string)

// wrappers run another command: the shell, exec-style tools, package
// runners and the official images' entrypoints.
var wrappers map[string]wrapper

func init() {
	wrappers = map[string]wrapper{
		"sh": shell, "bash": shell, "ash": shell, "dash": shell, "zsh": shell,
		"exec": skip(1), "busybox": skip(1), "gosu": skip(2), "su-exec": skip(2),
		"env":  envCmd,
		"tini": flagsThen("-p", "-e", "-l"), "tini-static": flagsThen("-p", "-e", "-l"),
		"dumb-init": flagsThen("-r", "--rewrite"), "catatonit": flagsThen(),
		"npx": flagsThen("-p", "--package", "-c", "--call"),
		"npm": npm, "pnpm": npm, "yarn": npm,
		"poetry": sub("run"), "pipenv": sub("run"), "uv": sub("run"), "pdm": sub("run"), "bundle": sub("exec"),
		"python": python, "pypy": python,
		"docker-entrypoint.sh": entrypoint("node"), "docker-php-entrypoint": entrypoint("php"),
	}
}

// skip drops n words (the wrapper and its fixed arguments).
func skip(n int) wrapper {
	return func(r *resolver, argv []string, env map[string]string, cwd string, depth int) ([]scope, string) {
		if len(argv) <= n {
			return nil, argv[0] + " without a command"
		}
		return r.run(argv[n:], env, cwd, depth)
	}
}

// flagsThen drops the wrapper, its flags (those named take a value) and a
// "--".
func flagsThen(withValue ...string) wrapper {
	return func(r *resolver, argv []string, env map[string]string, cwd string, depth int) ([]scope, string) {
		i := 1
		for i < len(argv) && strings.HasPrefix(argv[i], "-") {
			if argv[i] == "--" {
				i++
				break
			}
			for _, f := range withValue {
				if argv[i] == f {
					i++
				}
			}
			i++
		}
		return skip(i)(r, argv, env, cwd, depth)
	}
}

// sub runs "tool <verb> [flags] cmd" (poetry run, bundle exec).
func sub(verb string) wrapper {
	return func(r *resolver, argv []string, env map[string]string, cwd string, depth int) ([]scope, string) {
		if len(argv) < 3 || argv[1] != verb {
			return nil, fmt.Sprintf("%s is a program rebuildd does not know to reload", strings.Join(argv[:min(2, len(argv))], " "))
		}
		return flagsThen()(r, argv[1:], env, cwd, depth)
	}
}

// envCmd is env(1): assignments, then the command; -i starts empty.
func envCmd(r *resolver, argv []string, env map[string]string, cwd string, depth int) ([]scope, string) {
	env = maps.Clone(env)
	i := 1
	for ; i < len(argv); i++ {
		a := argv[i]
		switch {
		case a == "-i" || a == "--ignore-environment" || a == "-":
			env = map[string]string{}
		case a == "-u" && i+1 < len(argv):
			delete(env, argv[i+1])
			i++
		case strings.HasPrefix(a, "-"):
			return nil, fmt.Sprintf("env %s is not followed", a)
		case strings.Contains(a, "="):
			k, v, _ := strings.Cut(a, "=")
			env[k] = v
		default:
			return r.run(argv[i:], env, cwd, depth)
		}
	}
	return nil, "env without a command"
}

// entrypoint is an official image's docker-entrypoint: it runs its
// arguments, with the image's program first when they start with a flag.
func entrypoint(prog string) wrapper {
	return func(r *resolver, argv []string, env map[string]string, cwd string, depth int) ([]scope, string) {
		args := argv[1:]
		if len(args) == 0 || strings.HasPrefix(args[0], "-") {
			args = append([]string{prog}, args...)
		}
		return r.run(args, env, cwd, depth)
	}
}

// shell runs `sh -c script`; a script file is not read.
func shell(r *resolver, argv []string, env map[string]string, cwd string, depth int) ([]scope, string) {
	for i := 1; i < len(argv); i++ {
		a := argv[i]
		switch {
		case a == "-c" || strings.HasPrefix(a, "-") && !strings.HasPrefix(a, "--") && strings.HasSuffix(a, "c"):
			if i+1 >= len(argv) {
				return nil, argv[0] + " -c without a script"
			}
			return r.script(argv[i+1], env, cwd, depth)
		case !strings.HasPrefix(a, "-"):
			return nil, fmt.Sprintf("%s runs the script %s, which rebuildd does not read", argv[0], a)
		}
	}
	return nil, argv[0] + " without a script"
}

// script follows a shell script: assignments, export and cd change what
// the next commands see; the last command, and any sent to the background
// or piped, keep running. An earlier command rebuildd knows as a server
// counts too (it may fork itself away); other earlier commands are set-up
// steps that finish.
func (r *resolver) script(text string, env map[string]string, cwd string, depth int) ([]scope, string) {
	cmds, err := parseScript(text)
	if err != nil {
		return nil, fmt.Sprintf("the shell command is not followed: %v", err)
	}
	env = maps.Clone(env)
	var out []scope
	for i, c := range cmds {
		words, local := assignments(c.words, env)
		last := i == len(cmds)-1
		if len(words) == 0 {
			env = local // VAR=value alone sets it in the shell
			continue
		}
		switch words[0] {
		case "cd":
			cwd = abs(cwd, append(words, "/")[1])
			continue
		case "export":
			_, env = assignments(words[1:], env)
			continue
		case "wait", "true", ":", "set", "trap", "echo", "printf", "umask", "ulimit", "test", "[":
			continue
		case "exec":
			last = true
		}
		s, why := r.run(words, local, cwd, depth+1)
		if last || c.bg || c.piped {
			if why != "" {
				return nil, why
			}
		}
		out = append(out, s...)
		if words[0] == "exec" {
			break // the shell is gone
		}
	}
	return out, ""
}

// assignments splits leading NAME=value words off a command, returning
// the rest and env with them applied (a copy).
func assignments(words []string, env map[string]string) ([]string, map[string]string) {
	out := maps.Clone(env)
	for len(words) > 0 {
		k, v, ok := strings.Cut(words[0], "=")
		if !ok || !isName(k) {
			break
		}
		out[k] = v
		words = words[1:]
	}
	return words, out
}

func isName(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		if c != '_' && (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') && (i == 0 || c < '0' || c > '9') {
			return false
		}
	}
	return true
}
