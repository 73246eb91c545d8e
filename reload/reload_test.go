package reload

import (
	"strings"
	"testing"
)

func sh(script string) []string { return []string{"/bin/sh", "-c", script} }

func TestDecide(t *testing.T) {
	tests := []struct {
		name    string
		p       Process
		paths   []string
		reloads bool
		why     string // a substring of Verdict.Why
	}{
		// watchers
		{"nodemon in the working directory", Process{Cmd: []string{"nodemon", "src/index.js"}, WorkingDir: "/app"}, []string{"/app/src/a.js"}, true, "nodemon reloads"},
		{"nodemon ignores other extensions", Process{Cmd: []string{"nodemon", "src/index.js"}, WorkingDir: "/app"}, []string{"/app/views/a.ejs"}, false, "nodemon does not reload /app/views/a.ejs (it watches /app, only .js .mjs .cjs .json)"},
		{"nodemon --ext", Process{Cmd: []string{"nodemon", "-e", "js,ejs", "x.js"}, WorkingDir: "/app"}, []string{"/app/views/a.ejs"}, true, ""},
		{"nodemon --watch elsewhere", Process{Cmd: []string{"nodemon", "--watch", "src", "x.js"}, WorkingDir: "/app"}, []string{"/app/lib/a.js"}, false, "it watches /app/src"},
		{"nodemon outside the working directory", Process{Cmd: []string{"nodemon", "x.js"}, WorkingDir: "/app"}, []string{"/etc/x.json"}, false, ""},
		{"node --watch", Process{Cmd: []string{"node", "--watch", "server.js"}}, []string{"/app/anything.txt"}, true, "node --watch reloads"},
		{"node --watch-path", Process{Cmd: []string{"node", "--watch-path=./src", "server.js"}, WorkingDir: "/app"}, []string{"/app/public/x.css"}, false, "it watches /app/src"},
		{"plain node", Process{Cmd: []string{"node", "server.js"}}, []string{"/app/a.js"}, false, "restart: node runs without --watch"},
		{"versioned node", Process{Cmd: []string{"/usr/bin/nodejs20", "--watch", "a.js"}}, []string{"/a.js"}, true, ""},
		{"uvicorn --reload", Process{Cmd: []string{"uvicorn", "app:app", "--reload", "--host", "0.0.0.0"}, WorkingDir: "/code"}, []string{"/code/app/main.py"}, true, "uvicorn --reload reloads"},
		{"uvicorn --reload, a template", Process{Cmd: []string{"uvicorn", "app:app", "--reload"}, WorkingDir: "/code"}, []string{"/code/templates/i.html"}, false, "only .py"},
		{"uvicorn --reload-include", Process{Cmd: []string{"uvicorn", "app:app", "--reload", "--reload-include", "*.html"}, WorkingDir: "/code"}, []string{"/code/templates/i.html"}, true, ""},
		{"uvicorn without reload", Process{Cmd: []string{"uvicorn", "app:app"}}, []string{"/code/a.py"}, false, "without --reload"},
		{"python -m uvicorn", Process{Cmd: []string{"python3.12", "-u", "-m", "uvicorn", "m:app", "--reload", "--reload-dir", "/srv"}}, []string{"/srv/m.py"}, true, ""},
		{"gunicorn --reload", Process{Cmd: []string{"gunicorn", "--reload", "app:app"}}, []string{"/x/app.py"}, true, ""},
		{"flask --debug run", Process{Cmd: []string{"flask", "--app", "hello", "--debug", "run"}}, []string{"/app/hello.py"}, true, "flask run"},
		{"FLASK_DEBUG=1", Process{Cmd: []string{"flask", "run", "--host=0.0.0.0"}, Env: []string{"FLASK_DEBUG=1"}}, []string{"/app/a.py"}, true, ""},
		{"FLASK_DEBUG=0", Process{Cmd: []string{"flask", "run"}, Env: []string{"FLASK_DEBUG=0"}}, []string{"/app/a.py"}, false, "without debug"},
		{"flask --debug --no-reload", Process{Cmd: []string{"flask", "run", "--debug", "--no-reload"}}, []string{"/app/a.py"}, false, ""},
		{"flask run --reload", Process{Cmd: []string{"flask", "run", "--reload"}}, []string{"/app/a.py"}, true, ""},
		{"FLASK_ENV=development", Process{Cmd: []string{"python", "-m", "flask", "run"}, Env: []string{"FLASK_ENV=development"}}, []string{"/app/a.py"}, true, ""},
		{"Django runserver", Process{Cmd: []string{"python", "manage.py", "runserver", "0.0.0.0:8000"}}, []string{"/app/a.py"}, true, "Django"},
		{"Django --noreload", Process{Cmd: []string{"python", "manage.py", "runserver", "--noreload"}}, []string{"/app/a.py"}, false, ""},
		{"python app.py", Process{Cmd: []string{"python", "app.py"}}, []string{"/app/a.py"}, false, "python runs app.py"},
		{"air", Process{Cmd: []string{"air"}, WorkingDir: "/go/src/app"}, []string{"/go/src/app/main.go"}, true, ""},
		{"air, an asset", Process{Cmd: []string{"air", "-c", ".air.toml"}, WorkingDir: "/go/src/app"}, []string{"/go/src/app/static/x.css"}, false, ""},
		{"watchexec", Process{Cmd: []string{"watchexec", "-w", "src", "-e", "rs", "--", "cargo", "run"}, WorkingDir: "/w"}, []string{"/w/src/main.rs"}, true, ""},
		{"cargo watch", Process{Cmd: []string{"cargo", "watch", "-x", "run"}}, []string{"/w/src/main.rs"}, true, ""},
		{"cargo run", Process{Cmd: []string{"cargo", "run"}}, []string{"/w/src/main.rs"}, false, ""},
		{"tsx watch", Process{Cmd: []string{"npx", "tsx", "watch", "src/index.ts"}}, []string{"/app/src/a.ts"}, true, ""},
		// dev servers
		{"vite", Process{Cmd: []string{"vite", "--host", "0.0.0.0"}, WorkingDir: "/app"}, []string{"/app/src/App.vue"}, true, "vite reloads"},
		{"vite with a root", Process{Cmd: []string{"vite", "web", "--port", "3000"}, WorkingDir: "/app"}, []string{"/app/src/x.js"}, false, "it watches /app/web"},
		{"vite build", Process{Cmd: []string{"vite", "build"}}, []string{"/app/x.js"}, false, "vite build is no dev server"},
		{"webpack serve", Process{Cmd: []string{"webpack", "serve", "--mode", "development"}}, []string{"/app/x.js"}, true, ""},
		{"webpack --watch", Process{Cmd: []string{"npx", "webpack", "--watch"}}, []string{"/app/x.js"}, true, ""},
		{"webpack", Process{Cmd: []string{"webpack"}}, []string{"/app/x.js"}, false, ""},
		{"webpack-dev-server", Process{Cmd: []string{"webpack-dev-server"}}, []string{"/app/x.js"}, true, ""},
		{"next dev", Process{Cmd: []string{"next", "dev"}}, []string{"/app/pages/i.tsx"}, true, ""},
		{"next start", Process{Cmd: []string{"next", "start"}}, []string{"/app/pages/i.tsx"}, false, "next only reloads as next dev"},
		{"react-scripts start", Process{Cmd: []string{"react-scripts", "start"}}, []string{"/app/src/App.js"}, true, ""},
		{"parcel", Process{Cmd: []string{"parcel", "index.html"}}, []string{"/app/src/App.js"}, true, ""},
		// npm scripts
		{"npm run dev, scripts unknown", Process{Cmd: []string{"npm", "run", "dev"}}, []string{"/app/src/a.js"}, false, "npm run dev runs a package.json script, which rebuildd does not read"},
		{"npm run dev, scripts known", Process{Cmd: []string{"npm", "run", "dev"}, Scripts: map[string]string{"dev": "vite --host"}, WorkingDir: "/app"}, []string{"/app/src/a.js"}, true, "vite reloads"},
		{"yarn dev", Process{Cmd: []string{"yarn", "dev"}, Scripts: map[string]string{"dev": "nodemon server.js"}, WorkingDir: "/app"}, []string{"/app/a.js"}, true, ""},
		{"npm start without a script", Process{Cmd: []string{"npm", "start"}, Scripts: map[string]string{}}, []string{"/app/a.js"}, false, "node runs without --watch"},
		{"npm script that builds then serves", Process{Cmd: []string{"npm", "run", "dev"}, Scripts: map[string]string{"dev": "npm run build && node --watch dist/server.js"}}, []string{"/app/a.js"}, true, ""},
		{"pnpm script missing", Process{Cmd: []string{"pnpm", "dev"}, Scripts: map[string]string{"start": "node ."}}, []string{"/app/a.js"}, false, `package.json has no script "dev"`},
		{"yarn install", Process{Cmd: []string{"yarn", "install"}}, []string{"/app/a.js"}, false, "yarn install"},
		// PHP
		{"php-fpm", Process{Entrypoint: []string{"docker-php-entrypoint"}, Cmd: []string{"php-fpm"}}, []string{"/var/www/html/index.php"}, true, "php-fpm reloads"},
		{"php-fpm, a config file", Process{Cmd: []string{"php-fpm8.2", "-F"}}, []string{"/usr/local/etc/php/php.ini"}, false, "not .ini .conf, read at start"},
		{"php-fpm, a template", Process{Cmd: []string{"php-fpm"}}, []string{"/var/www/html/views/a.twig"}, true, ""},
		{"php -S", Process{Cmd: []string{"php", "-S", "0.0.0.0:8000", "-t", "public"}, WorkingDir: "/app"}, []string{"/app/public/style.css"}, true, "php -S serves /app/public"},
		{"php script", Process{Cmd: []string{"php", "worker.php"}}, []string{"/app/a.php"}, false, "not its built-in server"},
		{"docker-php-entrypoint with a flag", Process{Entrypoint: []string{"docker-php-entrypoint"}, Cmd: []string{"-S", "0.0.0.0:80"}, WorkingDir: "/srv"}, []string{"/srv/i.php"}, true, ""},
		// static servers
		{"busybox httpd -h", Process{Cmd: []string{"httpd", "-f", "-p", "80", "-h", "/www"}}, []string{"/www/index.html", "/www/a/b.css"}, true, "busybox httpd serves /www"},
		{"busybox httpd, outside", Process{Cmd: []string{"httpd", "-f", "-p", "80", "-h", "/www"}}, []string{"/etc/httpd.conf"}, false, "it serves /www"},
		{"busybox httpd, cwd", Process{Cmd: []string{"busybox", "httpd", "-f"}, WorkingDir: "/srv"}, []string{"/srv/x"}, true, ""},
		{"Apache httpd", Process{Cmd: []string{"httpd", "-D", "FOREGROUND"}}, []string{"/usr/local/apache2/htdocs/i.html"}, true, "Apache httpd serves"},
		{"httpd-foreground", Process{Cmd: []string{"httpd-foreground"}}, []string{"/usr/local/apache2/htdocs/i.html"}, true, ""},
		{"php:apache", Process{Entrypoint: []string{"docker-php-entrypoint"}, Cmd: []string{"apache2-foreground"}}, []string{"/var/www/html/index.php"}, true, ""},
		{"nginx", Process{Entrypoint: []string{"/docker-entrypoint.sh"}, Cmd: []string{"nginx", "-g", "daemon off;"}}, []string{"/usr/share/nginx/html/index.html"}, true, "nginx serves"},
		{"nginx config", Process{Cmd: []string{"nginx", "-g", "daemon off;"}}, []string{"/etc/nginx/conf.d/default.conf"}, false, ""},
		{"caddy file-server", Process{Cmd: []string{"caddy", "file-server", "--root", "/srv"}}, []string{"/srv/i.html"}, true, ""},
		{"caddy run", Process{Cmd: []string{"caddy", "run", "--config", "/etc/caddy/Caddyfile", "--adapter", "caddyfile"}}, []string{"/usr/share/caddy/index.html"}, true, ""},
		{"python http.server", Process{Cmd: []string{"python3", "-m", "http.server", "8000", "--directory", "site"}, WorkingDir: "/app"}, []string{"/app/site/i.html"}, true, ""},
		{"serve", Process{Cmd: []string{"npx", "serve", "-l", "3000", "dist"}, WorkingDir: "/app"}, []string{"/app/dist/i.html"}, true, ""},
		// wrappers
		{"shell form", Process{Cmd: sh("nodemon src/index.js")}, []string{"/src/x.js"}, true, ""},
		{"shell chain", Process{Cmd: sh("npm install && exec nodemon --watch src src/index.js"), WorkingDir: "/app"}, []string{"/app/src/x.js"}, true, ""},
		{"shell with cd and export", Process{Cmd: sh("cd /srv/api; export FLASK_DEBUG=1; flask run --host 0.0.0.0 > /dev/null 2>&1")}, []string{"/srv/api/a.py"}, true, ""},
		{"shell, assignment prefix", Process{Cmd: sh(`FLASK_DEBUG=true flask run`)}, []string{"/app/a.py"}, true, ""},
		{"shell, background and wait", Process{Cmd: sh("php-fpm -D; nginx -g 'daemon off;'")}, []string{"/usr/share/nginx/html/x.php", "/var/www/html/site.css"}, true, "php-fpm reloads, nginx serves"},
		{"shell, a background process that does not reload", Process{Cmd: sh("node worker.js & nodemon app.js")}, []string{"/a.js"}, false, "node runs without --watch"},
		{"shell, unknown last command", Process{Cmd: sh("nodemon a.js; ./run.sh")}, []string{"/a.js"}, false, "./run.sh is a program rebuildd does not know"},
		{"shell, command substitution", Process{Cmd: sh("exec $(which nodemon) a.js")}, []string{"/a.js"}, false, "not followed"},
		{"shell, control flow", Process{Cmd: sh("if true; then nodemon a.js; fi")}, []string{"/a.js"}, false, "control flow"},
		{"shell script file", Process{Entrypoint: []string{"/bin/sh", "/entrypoint.sh"}, Cmd: []string{"nodemon"}}, []string{"/a.js"}, false, "which rebuildd does not read"},
		{"custom entrypoint", Process{Entrypoint: []string{"/entrypoint.sh"}, Cmd: []string{"nodemon"}}, []string{"/a.js"}, false, "/entrypoint.sh is a program rebuildd does not know"},
		{"node image entrypoint", Process{Entrypoint: []string{"docker-entrypoint.sh"}, Cmd: []string{"--watch", "index.js"}}, []string{"/a.js"}, true, "node --watch"},
		{"tini and gosu", Process{Entrypoint: []string{"/sbin/tini", "-s", "--"}, Cmd: []string{"gosu", "node", "nodemon", "a.js"}, WorkingDir: "/app"}, []string{"/app/a.js"}, true, ""},
		{"env -i", Process{Cmd: []string{"env", "-i", "FLASK_DEBUG=1", "flask", "run"}, Env: []string{"FLASK_DEBUG=0"}}, []string{"/a.py"}, true, ""},
		{"poetry run", Process{Cmd: []string{"poetry", "run", "uvicorn", "a:app", "--reload"}}, []string{"/a.py"}, true, ""},
		{"dumb-init", Process{Entrypoint: []string{"dumb-init", "--"}, Cmd: []string{"air"}, WorkingDir: "/app"}, []string{"/app/main.go"}, true, ""},
		{"no command", Process{}, []string{"/a"}, false, "no command"},
		{"every path must reload", Process{Cmd: []string{"httpd", "-f", "-h", "/www"}}, []string{"/www/a", "/srv/b"}, false, "/srv/b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := Decide(tt.p, tt.paths)
			if v.Reloads != tt.reloads || !strings.Contains(v.Why, tt.why) {
				t.Errorf("Decide = %+v, want reloads=%v with %q", v, tt.reloads, tt.why)
			}
			if v.Why == "" {
				t.Error("no reason given")
			}
		})
	}
}

func TestParseScript(t *testing.T) {
	tests := []struct {
		script string
		want   string // commands joined by " ; ", words by "|", bg marked "&"
		err    string
	}{
		{`a b && c 'd e' || f;g`, "a|b ; c|d e ; f ; g", ""},
		{`x "a \"q\" \$HOME" $PORT`, `x|a "q" $HOME|$PORT`, ""},
		{"a > /dev/null 2>&1 < in\nb >&2", "a ; b", ""},
		{`a &>log & b`, "a& ; b", ""},
		{`a | b`, "a ; b", ""},
		{`a # comment && b`, "a", ""},
		{`a\ b c`, "a b|c", ""},
		{`echo $(x)`, "", "substitution"},
		{"echo `x`", "", "substitution"},
		{`(a)`, "", "subshell"},
		{`a 'b`, "", "unterminated"},
		{`echo "$(x)"`, "", "substitution"},
		{`echo ${A:-b}`, "echo|${A:-b}", ""},
	}
	for _, tt := range tests {
		cmds, err := parseScript(tt.script)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%q: error %v, want %q", tt.script, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tt.script, err)
			continue
		}
		var parts []string
		for _, c := range cmds {
			s := strings.Join(c.words, "|")
			if c.bg {
				s += "&"
			}
			parts = append(parts, s)
		}
		if got := strings.Join(parts, " ; "); got != tt.want {
			t.Errorf("%q: %q, want %q", tt.script, got, tt.want)
		}
	}
}
