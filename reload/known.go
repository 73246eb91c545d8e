package reload

import (
	"fmt"
	"slices"
	"strings"
)

// npm runs a package.json script (npm run dev, npm start, yarn dev, pnpm
// dev) when the container's scripts are known, and a tool (npm exec, pnpm
// exec, pnpm dlx, yarn dlx) as the command it names.
func npm(r *resolver, argv []string, env map[string]string, cwd string, depth int) ([]scope, string) {
	tool := program(argv[0])
	args := argv[1:]
	if len(args) == 0 {
		return nil, tool + " without a command"
	}
	verb := args[0]
	switch {
	case verb == "exec" || verb == "dlx" || verb == "x":
		return flagsThen()(r, args, env, cwd, depth)
	case verb == "run" || verb == "run-script":
		if len(args) < 2 {
			return nil, tool + " run without a script"
		}
		return r.npmScript(tool+" run", args[1], args[2:], env, cwd, depth)
	case verb == "start" || verb == "test" || verb == "restart":
		return r.npmScript(tool, verb, args[1:], env, cwd, depth)
	case tool != "npm" && !strings.HasPrefix(verb, "-") && !slices.Contains(packageVerbs, verb):
		return r.npmScript(tool, verb, args[1:], env, cwd, depth) // yarn dev, pnpm dev
	}
	return nil, fmt.Sprintf("%s %s is not a program rebuildd knows to reload", tool, verb)
}

// packageVerbs are yarn's and pnpm's own commands, which are not scripts.
var packageVerbs = []string{"install", "add", "remove", "up", "upgrade", "build", "i", "ci", "link", "pack", "publish", "why", "info", "list", "ls", "audit", "outdated", "init", "create"}

// npmScript (shown as "<how> <name>") runs script name of the container's package.json the way npm
// does: `sh -c "<script> <args>"`, with node_modules/.bin on the PATH
// (which program() sees through). npm start without a script runs
// `node server.js`.
func (r *resolver) npmScript(how, name string, args []string, env map[string]string, cwd string, depth int) ([]scope, string) {
	text, ok := r.scripts[name]
	if !ok && r.scripts != nil && name == "start" {
		text, ok = "node server.js", true
	}
	if !ok {
		if r.scripts == nil {
			return nil, fmt.Sprintf("%s %s runs a package.json script, which rebuildd does not read from the project (the runtime may pass the container's)", how, name)
		}
		return nil, fmt.Sprintf("package.json has no script %q", name)
	}
	if len(args) > 0 {
		text += " " + shellQuote(args)
	}
	return r.script(text, env, cwd, depth)
}

func shellQuote(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		q[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return strings.Join(q, " ")
}

// python runs `python -m module` as the module's own program, and
// Django's `manage.py runserver`.
func python(r *resolver, argv []string, env map[string]string, cwd string, depth int) ([]scope, string) {
	i := 1
	for i < len(argv) && strings.HasPrefix(argv[i], "-") && argv[i] != "-m" {
		if argv[i] == "-X" || argv[i] == "-W" {
			i++
		}
		i++
	}
	switch {
	case i+1 < len(argv) && argv[i] == "-m":
		return r.run(append([]string{argv[i+1]}, argv[i+2:]...), env, cwd, depth)
	case i+1 < len(argv) && strings.HasSuffix(argv[i], "manage.py") && argv[i+1] == "runserver":
		if slices.Contains(argv[i+2:], "--noreload") {
			return nil, "manage.py runserver --noreload does not reload"
		}
		return []scope{{what: "Django runserver"}}, ""
	case i < len(argv):
		return nil, fmt.Sprintf("python runs %s, which rebuildd cannot tell reloads", argv[i])
	}
	return nil, "python without a program"
}

type recognizer func(args []string, env map[string]string, cwd string) (scope, string)

// programs are the programs rebuildd knows, by name.
var programs = map[string]recognizer{
	"node": nodeWatch, "nodemon": nodemon, "tsx": subcommand("tsx watch", "watch"), "ts-node-dev": anyFile("ts-node-dev"), "tsnd": anyFile("ts-node-dev"),
	"uvicorn": uvicorn, "gunicorn": flagged("gunicorn --reload", "--reload", "py"), "flask": flask,
	"vite": vite, "webpack": webpack, "webpack-cli": webpack, "webpack-dev-server": anyFile("webpack-dev-server"),
	"next": subcommand("next dev", "dev"), "nuxt": subcommand("nuxt dev", "dev"), "nuxi": subcommand("nuxt dev", "dev"),
	"astro": subcommand("astro dev", "dev"), "remix": subcommand("remix dev", "dev"), "react-scripts": subcommand("react-scripts start", "start"),
	"ng": subcommand("ng serve", "serve"), "vue-cli-service": subcommand("vue-cli-service serve", "serve"), "parcel": parcel,
	"air": air, "watchexec": watchexec, "cargo": subcommand("cargo watch", "watch"), "dotnet": subcommand("dotnet watch", "watch"),
	"php-fpm": phpFPM, "php": phpServer,
	"httpd": httpd, "httpd-foreground": static("Apache httpd", apacheRoots...), "apache2-foreground": static("Apache httpd", "/var/www/html"),
	"apachectl": apachectl, "apache2ctl": apachectl, "nginx": static("nginx", "/usr/share/nginx/html", "/var/www/html"),
	"caddy": caddy, "http.server": pyHTTP, "serve": dirArg("serve", "-l", "--listen", "-p", "--port", "-c", "--config"),
	"http-server": dirArg("http-server", "-p", "--port", "-a", "-c", "-e", "--ext"),
}

// apacheRoots are Apache's document roots in the official httpd image and
// in Debian's apache2 (php:apache).
var apacheRoots = []string{"/usr/local/apache2/htdocs", "/var/www/html"}

// anyFile reloads for every file (it watches what the program loads).
func anyFile(what string) recognizer {
	return func([]string, map[string]string, string) (scope, string) { return scope{what: what}, "" }
}

// subcommand is a dev server started by a subcommand (next dev).
func subcommand(what, verb string) recognizer {
	return func(args []string, _ map[string]string, _ string) (scope, string) {
		if len(args) > 0 && args[0] == verb {
			return scope{what: what}, ""
		}
		return scope{}, fmt.Sprintf("%s only reloads as %s", strings.Fields(what)[0], what)
	}
}

// flagged reloads files of exts when a flag is given.
func flagged(what, flag string, exts ...string) recognizer {
	return func(args []string, _ map[string]string, _ string) (scope, string) {
		if slices.Contains(args, flag) {
			return scope{what: what, exts: exts}, ""
		}
		return scope{}, fmt.Sprintf("%s runs without %s", strings.Fields(what)[0], flag)
	}
}

// static is a file server with fixed document roots.
func static(what string, roots ...string) recognizer {
	return func([]string, map[string]string, string) (scope, string) {
		return scope{what: what, serves: true, dirs: roots}, ""
	}
}
