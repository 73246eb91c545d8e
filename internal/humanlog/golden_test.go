package humanlog

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

// clock is a fake zap clock: every entry is stamped t, then t moves on
// by step.
type clock struct {
	t    time.Time
	step time.Duration
}

func (c *clock) Now() time.Time {
	t := c.t
	c.t = c.t.Add(c.step)
	return t
}

func (c *clock) NewTicker(time.Duration) *time.Ticker { panic("not used") }

// entry is one log call of a scenario.
type entry struct {
	level  zapcore.Level
	msg    string
	fields []zap.Field
}

const runInstruction = `RUN mkdir -p /www/node_modules  && while read -r dep; do [ -z "$dep" ] || echo "$dep installed" > "/www/node_modules/$dep"; done < /app/deps.txt`

// scenarios are the kinds of lines a person sees, each as the daemon logs
// it (the same fields as the JSON log).
var scenarios = map[string][]entry{
	"volumes": {
		{zap.InfoLevel, "volume", []zap.Field{zap.String("service", "api"), zap.String("container", "proj-api-1"),
			zap.String("volume", strings.Repeat("3f", 32)), zap.String("path", "/app/node_modules"), zap.String("action", "refreshed"),
			zap.String("why", "it hides the files the new image has at /app/node_modules")}},
		{zap.WarnLevel, "volume", []zap.Field{zap.String("service", "api"), zap.String("container", "proj-api-1"),
			zap.String("volume", "proj_seeded"), zap.String("path", "/data"), zap.String("action", "kept"),
			zap.String("why", "the image declares /data with VOLUME: its content is data; the files the new image has there are not copied in")}},
	},
	"rebuild": {
		{zap.InfoLevel, "decision", []zap.Field{zap.String("service", "api"), zap.String("action", "rebuild"),
			zap.String("impact", "deps"), zap.Strings("paths", []string{"/p/api/package-lock.json"}),
			zap.Strings("files", []string{"package-lock.json"}), zap.String("step", "RUN npm ci"), zap.String("at", "Dockerfile:5")}},
		{zap.InfoLevel, "result", []zap.Field{zap.String("service", "api"), zap.String("action", "rebuild"),
			zap.String("result", "rebuilt, recreated api-1"), zap.Duration("took", 12430*time.Millisecond)}},
	},
	"long-instruction": {
		{zap.InfoLevel, "decision", []zap.Field{zap.String("service", "api"), zap.String("action", "rebuild"),
			zap.String("impact", "deps"), zap.Strings("files", []string{"deps.txt", "src/a.html", "src/b.html", "+2 more"}),
			zap.String("step", runInstruction), zap.String("at", "Dockerfile:10")}},
	},
	"bind-mounted": {
		{zap.InfoLevel, "decision", []zap.Field{zap.String("service", "web"), zap.String("action", "none"),
			zap.String("impact", "source"), zap.Strings("files", []string{"site/index.html"}),
			zap.String("mount", "./web/site:/www"), zap.String("why", "bind-mounted source (./web/site:/www), no RUN after COPY at Dockerfile:5")}},
	},
	"sync": {
		{zap.InfoLevel, "decision", []zap.Field{zap.String("service", "api"), zap.String("action", "sync"),
			zap.String("impact", "source"), zap.Strings("files", []string{"src/server.js"}),
			zap.Strings("container_path", []string{"/app/src/server.js"}), zap.String("step", "COPY src/ ./src/"), zap.String("at", "Dockerfile:6")}},
		{zap.InfoLevel, "result", []zap.Field{zap.String("service", "api"), zap.String("action", "sync"),
			zap.String("result", "synced to /app/src/server.js"), zap.Duration("took", 84*time.Millisecond),
			zap.Strings("files", []string{"src/server.js"}), zap.Strings("restarted", []string{"api"}), zap.Duration("restart", 900*time.Millisecond)}},
		{zap.InfoLevel, "result", []zap.Field{zap.String("service", "web"), zap.String("action", "sync"),
			zap.String("result", "synced to /www/index.html"), zap.Duration("took", 41*time.Millisecond),
			zap.Strings("files", []string{"site/index.html"}), zap.String("reloads", "busybox httpd serves /www")}},
		{zap.InfoLevel, "result", []zap.Field{zap.String("service", "web"), zap.String("action", "sync"),
			zap.String("result", "would sync to /www/index.html"), zap.Bool("dry_run", true),
			zap.Strings("files", []string{"site/index.html"})}},
		{zap.InfoLevel, "result", []zap.Field{zap.String("service", "web"), zap.String("action", "rebuild"),
			zap.String("result", "image built from the synced files; nothing recreated"), zap.Duration("took", 1900*time.Millisecond)}},
	},
	"none-debug": {
		{zap.DebugLevel, "decision", []zap.Field{zap.String("service", "api"), zap.String("action", "none"),
			zap.String("impact", "ignored"), zap.Strings("files", []string{"README.md"}), zap.String("why", "excluded by .dockerignore")}},
	},
	"restart": {
		{zap.InfoLevel, "decision", []zap.Field{zap.String("service", "api"), zap.String("action", "restart"),
			zap.String("impact", "source"), zap.Strings("files", []string{"src/server.js"}),
			zap.String("step", "COPY . ."), zap.String("at", "Dockerfile:6")}},
		{zap.InfoLevel, "result", []zap.Field{zap.String("service", "api"), zap.String("action", "restart"),
			zap.String("result", "restarted"), zap.Duration("took", 420*time.Millisecond)}},
	},
	"failure": {
		{zap.ErrorLevel, "result", []zap.Field{zap.String("service", "api"), zap.String("action", "rebuild"),
			zap.String("result", "failed"), zap.Duration("took", 2100*time.Millisecond),
			zap.Error(errors.New("build failed (exit status 1); the old container keeps running")), zap.String("retry", "on the next change"),
			zap.String("reproduce", "docker compose -p stack build api"),
			zap.String("output_tail", "#7 [api 3/4] RUN exit 3\n#7 ERROR: process \"/bin/sh -c exit 3\" did not complete successfully: exit code: 3")}},
	},
	"progress": {
		{zap.InfoLevel, "build", []zap.Field{zap.String("service", "api"), zap.String("image", "stack-api"), zap.String("reason", "image missing")}},
		{zap.InfoLevel, "progress", []zap.Field{zap.String("service", "api"), zap.String("phase", "building"),
			zap.String("stage", "dev"), zap.Int("step", 3), zap.Int("steps", 7), zap.String("instruction", runInstruction),
			zap.Duration("elapsed", 3*time.Second)}},
		{zap.InfoLevel, "progress", []zap.Field{zap.String("service", "api"), zap.String("phase", "building"),
			zap.String("instruction", "exporting to image"), zap.Duration("elapsed", 5*time.Second)}},
	},
	"warnings": {
		{zap.WarnLevel, "inotify watch limit reached; polling what could not be watched", []zap.Field{
			zap.Error(errors.New("no space left on device")), zap.String("fix", "sudo sysctl fs.inotify.max_user_watches=524288")}},
		{zap.WarnLevel, "advice: npm ci runs without a cache mount", []zap.Field{zap.String("service", "api"),
			zap.String("code", "cache-mount"), zap.String("file", "/p/api/Dockerfile"), zap.Int("line", 5),
			zap.String("fix", "RUN --mount=type=cache,target=/root/.npm npm ci")}},
		{zap.ErrorLevel, "configuration not reloaded; the last good one keeps running until the file is fixed",
			[]zap.Field{zap.Error(errors.New("compose.yaml:3: services.api.ports must be a list"))}},
	},
	"start-up": {
		{zap.InfoLevel, "decision", []zap.Field{zap.String("service", "api"), zap.String("action", "rebuild"),
			zap.String("status", "stale"), zap.String("reason", "image missing"), zap.Strings("impacts", []string{"image missing"})}},
		{zap.InfoLevel, "decision", []zap.Field{zap.String("service", "docs-mirror"), zap.String("action", "recreate"),
			zap.String("status", "stale"), zap.String("reason", "uses image stack-docs:latest, rebuilt for docs")}},
		{zap.InfoLevel, "reconciled", []zap.Field{zap.String("service", "api"), zap.String("status", "rebuilt"),
			zap.String("reason", "image missing"), zap.Strings("containers", []string{"api-1"})}},
		{zap.ErrorLevel, "reconciled", []zap.Field{zap.String("service", "web"), zap.String("status", "failed"),
			zap.String("reason", "build failed (exit status 1); the service has no running container"),
			zap.String("reproduce", "docker compose -p stack build web"), zap.String("output_tail", "#5 ERROR: exit code: 1")}},
	},
	"dry-run": {
		{zap.InfoLevel, "result", []zap.Field{zap.String("service", "api"), zap.String("action", "rebuild"),
			zap.String("result", "would rebuild, docs-mirror would recreate (dry run)"), zap.Duration("took", time.Millisecond), zap.Bool("dry_run", true)}},
	},
	"other": {
		{zap.InfoLevel, "configuration reloaded", []zap.Field{zap.Int("build_services", 4), zap.Int("requests", 1)}},
		{zap.InfoLevel, "stopping: no new work starts; a running build is cancelled, a running recreate finishes", nil},
		{zap.WarnLevel, "restart rebuildd to apply these rebuild.yaml changes; per-service settings apply now",
			[]zap.Field{zap.Strings("settings", []string{"debounce", "poll"})}},
	},
	"banner": {
		{zap.InfoLevel, "watching", []zap.Field{zap.String("service", "api"), zap.String("context", "/p/api"),
			zap.String("target", "stage 0"), zap.String("builder", "buildkit"), zap.Int("watched_dirs", 2), zap.String("backend", "inotify")}},
		{zap.InfoLevel, "ready", []zap.Field{zap.Int("watches", 6), zap.Int("polled_dirs", 0), zap.Int("roots", 7), zap.Bool("dry_run", true)}},
	},
	"hostile": {
		{zap.InfoLevel, "decision", []zap.Field{zap.String("service", "api"), zap.String("action", "rebuild"),
			zap.String("impact", "source"), zap.Strings("files", []string{"src/\x1b[2Jx\r.js"}),
			zap.String("step", "COPY \u202e. ."), zap.String("at", "Dockerfile:6")}},
		{zap.ErrorLevel, "result", []zap.Field{zap.String("service", "api"), zap.String("result", "build failed"),
			zap.Error(errors.New("bad \x1b]0;title\x07")), zap.String("output_tail", "ok\n\x1b[31mred\x9b")}},
	},
}

// TestGolden renders every scenario with colour off and on against
// testdata/<scenario>[.color].golden, and those with build output also
// as --verbose prints them (.verbose: without the output, streamed before).
func TestGolden(t *testing.T) {
	for name, entries := range scenarios {
		opts := []Options{{Dir: "/p"}, {Dir: "/p", Color: true}}
		if name == "failure" || name == "hostile" || name == "start-up" {
			opts = append(opts, Options{Dir: "/p", Verbose: true})
		}
		for _, o := range opts {
			file := name
			if o.Color {
				file += ".color"
			}
			if o.Verbose {
				file += ".verbose"
			}
			t.Run(file, func(t *testing.T) {
				got := renderAll(o, entries)
				golden(t, filepath.Join("testdata", file+".golden"), got)
				for _, bad := range []string{"\x1b]", "\x1b[2J", "\r", "\u202e", "\x9b", "\x07"} {
					if strings.Contains(got, bad) {
						t.Errorf("output holds %q raw:\n%s", bad, got)
					}
				}
				if !o.Color && strings.Contains(got, "\x1b") {
					t.Errorf("colour off, but the output holds an escape sequence:\n%q", got)
				}
			})
		}
	}
}

func renderAll(o Options, entries []entry) string {
	var out bytes.Buffer
	clk := &clock{t: time.Date(2026, 12, 4, 14, 3, 9, 0, time.UTC), step: 1500 * time.Millisecond}
	log := zap.New(zapcore.NewCore(NewEncoder(o), zapcore.AddSync(&out), zap.DebugLevel), zap.WithClock(clk))
	for _, e := range entries {
		if ce := log.Check(e.level, e.msg); ce != nil {
			ce.Write(e.fields...)
		}
	}
	return out.String()
}

func golden(t *testing.T, file, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(file, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/humanlog -update)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs:\ngot:\n%s\nwant:\n%s\n(after checking the change, run go test ./internal/humanlog -update)", file, got, want)
	}
}

// TestWithFields: fields given to Logger.With reach the line (the status
// endpoint and named loggers add them), and a clone does not share them.
func TestWithFields(t *testing.T) {
	var out bytes.Buffer
	log := zap.New(zapcore.NewCore(NewEncoder(Options{}), zapcore.AddSync(&out), zap.InfoLevel),
		zap.WithClock(&clock{t: time.Date(2026, 12, 4, 14, 3, 9, 0, time.UTC)}))
	api := log.With(zap.String("service", "api"))
	api.Info("result", zap.String("result", "restarted"))
	log.Info("result", zap.String("result", "restarted"))
	want := "14:03:09 api  restarted\n14:03:09 restarted\n"
	if out.String() != want {
		t.Errorf("got %q, want %q", out.String(), want)
	}
}
