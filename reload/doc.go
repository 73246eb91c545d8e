// Package reload says whether a container's process picks up synced files by
// itself, so live update (issue 16, "Restart or not") can skip the restart.
// It is a leaf: a pure function of what the Engine API's container inspect
// reports (entrypoint, command, environment, working directory) and of the
// container paths being synced.
//
//	v := reload.Decide(reload.Process{Entrypoint: cfg.Entrypoint, Cmd: cfg.Cmd, Env: cfg.Env, WorkingDir: cfg.WorkingDir}, paths)
//	if !v.Reloads { restart } // v.Why says why, for the log and explain
//
// What reloads (each only for the files it watches or serves; a path
// outside that scope needs the restart):
//
//   - watchers that restart or hot-reload the program: nodemon (--watch dirs,
//     default the working directory; --ext, default js,mjs,cjs,json), node
//     --watch (--watch-path), tsx watch, uvicorn --reload (.py under
//     --reload-dir, default the working directory), gunicorn --reload
//     (.py), flask run in debug (--debug, FLASK_DEBUG=1, the old
//     FLASK_ENV=development) or with --reload, Django's manage.py runserver
//     (unless --noreload), air (.go .tpl .tmpl .html under the working
//     directory: its .air.toml is not read), watchexec (-w, -e), cargo
//     watch, dotnet watch;
//   - dev servers: vite (not build or preview), webpack serve, webpack
//     --watch, webpack-dev-server, next dev, nuxt dev, astro dev, remix dev,
//     react-scripts start, ng serve, vue-cli-service serve, parcel (not
//     build);
//   - PHP, which shares nothing between requests: php-fpm (every file but
//     .ini and .conf, read at start) and php -S (everything under -t,
//     default the working directory);
//   - static servers, for files under what they serve: busybox httpd (-h,
//     default the working directory), nginx (/usr/share/nginx/html, the
//     official image's root), Apache httpd (/usr/local/apache2/htdocs;
//     apache2-foreground: /var/www/html, as in php:apache), caddy
//     file-server (--root, default the working directory) and caddy run
//     (/usr/share/caddy, the official image's Caddyfile), python -m
//     http.server (--directory), serve and http-server (their directory
//     argument). Their configuration is not read: a guessed root that the
//     real configuration does not serve holds nothing a restart would
//     refresh either, and everything outside it restarts.
//
// Wrappers are seen through: sh/bash -c scripts (the last command of an
// && or ; chain, and every command sent to the background, must all
// reload), exec, env, VAR=value prefixes, tini, dumb-init, gosu, su-exec,
// npx, npm/pnpm exec, poetry/pipenv/uv run, bundle exec, busybox <applet>,
// python -m, and the official images' entrypoints (docker-entrypoint.sh,
// docker-php-entrypoint). Any other script or program is unknown: restart.
//
// npm, yarn and pnpm scripts (npm run dev, npm start, yarn dev) are read
// only from Process.Scripts: package.json is project input, and the host's
// copy need not be what the container runs. The runtime may fill Scripts
// from the container's own package.json (in its working directory), which
// is what npm runs; without it the script is unknown and the verdict is a
// restart.
package reload
