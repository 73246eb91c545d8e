package reload

import (
	"slices"
	"strings"
)

// phpConfig are the files PHP reads only when it starts (php.ini, the
// pool configuration).
var phpConfig = []string{"ini", "conf"}

// phpFPM runs PHP scripts, which share nothing between requests: a script
// (opcache, when on, revalidates timestamps by default) and whatever it
// reads is read afresh on the next request.
func phpFPM([]string, map[string]string, string) (scope, string) {
	return scope{what: "php-fpm", skip: phpConfig}, ""
}

// phpServer is php -S: it serves (and runs) everything under -t, default
// the working directory.
func phpServer(args []string, _ map[string]string, cwd string) (scope, string) {
	if !slices.Contains(args, "-S") {
		return scope{}, "php runs a script, not its built-in server (-S)"
	}
	return scope{what: "php -S", serves: true, dirs: dirs(cwd, values(args, "-t", "--docroot"))}, ""
}

// httpd is Apache when started with -D (httpd -D FOREGROUND), else busybox
// httpd, which serves -h (default the working directory).
func httpd(args []string, _ map[string]string, cwd string) (scope, string) {
	for _, a := range args {
		if strings.HasPrefix(a, "-D") {
			return scope{what: "Apache httpd", serves: true, dirs: apacheRoots}, ""
		}
	}
	return scope{what: "busybox httpd", serves: true, dirs: dirs(cwd, values(args, "-h"))}, ""
}

// apachectl serves in the foreground with -D FOREGROUND.
func apachectl(args []string, _ map[string]string, _ string) (scope, string) {
	if slices.Contains(args, "FOREGROUND") || slices.Contains(args, "-DFOREGROUND") || slices.Contains(args, "start") {
		return scope{what: "Apache httpd", serves: true, dirs: apacheRoots}, ""
	}
	return scope{}, "apachectl without -D FOREGROUND or start"
}

// caddy file-server serves --root (default the working directory); caddy
// run serves the official image's Caddyfile root.
func caddy(args []string, _ map[string]string, cwd string) (scope, string) {
	switch {
	case len(args) > 0 && args[0] == "file-server":
		return scope{what: "caddy file-server", serves: true, dirs: dirs(cwd, values(args, "--root", "-r"))}, ""
	case len(args) > 0 && (args[0] == "run" || args[0] == "start"):
		return scope{what: "caddy", serves: true, dirs: []string{"/usr/share/caddy"}}, ""
	}
	return scope{}, "caddy runs neither file-server nor run"
}

// pyHTTP is python -m http.server: it serves --directory (-d), default the
// working directory.
func pyHTTP(args []string, _ map[string]string, cwd string) (scope, string) {
	return scope{what: "python http.server", serves: true, dirs: dirs(cwd, values(args, "--directory", "-d"))}, ""
}

// dirArg is a static server serving its first plain argument (default the
// working directory); withValue are its flags that take one.
func dirArg(what string, withValue ...string) recognizer {
	return func(args []string, _ map[string]string, cwd string) (scope, string) {
		var root []string
		for i := 0; i < len(args); i++ {
			switch {
			case slices.Contains(withValue, args[i]):
				i++
			case strings.HasPrefix(args[i], "-"):
			case len(root) == 0:
				root = append(root, args[i])
			}
		}
		return scope{what: what, serves: true, dirs: dirs(cwd, root)}, ""
	}
}
