package dockerfile

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rebuildd/rebuildd/ignore"
)

// syncModel writes files (path -> content; a path ending in "/" is an
// empty directory) into a temporary context and returns the model of src
// over it, with an ignore file of patterns.
func syncModel(t testing.TB, src string, files []string, args map[string]string, target string, patterns ...string) *Model {
	t.Helper()
	dir := t.TempDir()
	for _, f := range files {
		p := filepath.Join(dir, filepath.FromSlash(f))
		if strings.HasSuffix(f, "/") {
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(f), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	an, err := Analyze([]byte(src), filepath.Join(dir, "Dockerfile"), target, args)
	if err != nil {
		t.Fatal(err)
	}
	ign, err := ignore.New(patterns)
	if err != nil {
		t.Fatal(err)
	}
	return NewModel(Parts{Context: dir, Dockerfile: filepath.Join(dir, "Dockerfile"), Analysis: an, Ignore: ign})
}

// want is one expected target, written "path" or "path|dir/base" (a
// destination without a trailing slash), with optional fields after
// spaces: owner=U:G, user=NAME, group=NAME, mode=0640, rel, follow, mkdir.
type syncCase struct {
	name    string
	df      string
	files   []string
	path    string // context-relative
	dir     bool
	removed bool
	args    map[string]string
	target  string
	ignore  []string
	want    []string // targets; nil with why set: not syncable
	why     string   // a substring of the reason
}

func runSyncCases(t *testing.T, cases []syncCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := syncModel(t, tc.df, tc.files, tc.args, tc.target, tc.ignore...)
			got := m.Sync(Change{Path: filepath.Join(m.Context(), filepath.FromSlash(tc.path)), Dir: tc.dir, Removed: tc.removed})
			if !strings.Contains(got.Reason, tc.why) {
				t.Errorf("reason %q, want it to contain %q", got.Reason, tc.why)
			}
			if got.OK != (tc.want != nil) {
				t.Fatalf("OK = %v (%s), want %v", got.OK, got.Reason, tc.want != nil)
			}
			var shown []string
			for _, tg := range got.Targets {
				shown = append(shown, showTarget(tg))
			}
			if strings.Join(shown, "; ") != strings.Join(tc.want, "; ") {
				t.Errorf("targets\n got %q\nwant %q", shown, tc.want)
			}
		})
	}
}

func showTarget(t Target) string {
	s := t.Path
	if t.Dir != "" {
		s += "|" + t.Dir + "/" + t.Base
	}
	o := t.Owner
	if o.User != "" {
		s += " user=" + o.User
	}
	if o.Group != "" {
		s += " group=" + o.Group
	}
	if o.UID != 0 || o.GID != 0 {
		s += fmt.Sprintf(" owner=%d:%d", o.UID, o.GID)
	}
	if t.Chmod {
		s += fmt.Sprintf(" mode=%04o", uint32(t.Mode))
	}
	for _, f := range []struct {
		on   bool
		name string
	}{{t.Rel, "rel"}, {t.Follow, "follow"}, {t.Mkdir, "mkdir"}} {
		if f.on {
			s += " " + f.name
		}
	}
	return s
}

const base = "FROM rebuildd-test/busybox"

func TestSyncDestinations(t *testing.T) {
	runSyncCases(t, []syncCase{
		{name: "copy all into WORKDIR", df: base + "\nWORKDIR /app\nCOPY . .\n",
			files: []string{"src/a.js"}, path: "src/a.js", want: []string{"/app/src/a.js"}, why: "COPY . . at Dockerfile:3"},
		{name: "directory with slash", df: base + "\nWORKDIR /app\nCOPY src/ ./src/\n",
			files: []string{"src/a.js"}, path: "src/a.js", want: []string{"/app/src/a.js"}},
		{name: "directory without slash copies its contents", df: base + "\nCOPY src /srv\n",
			files: []string{"src/lib/a.js"}, path: "src/lib/a.js", want: []string{"/srv/lib/a.js"}},
		{name: "file into a directory", df: base + "\nCOPY conf/a.txt /etc/app/\n",
			files: []string{"conf/a.txt"}, path: "conf/a.txt", want: []string{"/etc/app/a.txt follow"}},
		{name: "file to a name: the container says", df: base + "\nCOPY a.txt /srv/b.txt\n",
			files: []string{"a.txt"}, path: "a.txt", want: []string{"/srv/b.txt|/srv/b.txt/a.txt follow"}},
		{name: "dot dest is a directory", df: base + "\nWORKDIR /w\nCOPY a.txt .\n",
			files: []string{"a.txt"}, path: "a.txt", want: []string{"/w/a.txt follow"}},
		{name: "dir/. dest differs between versions: ask", df: base + "\nCOPY a.txt /p/.\n",
			files: []string{"a.txt"}, path: "a.txt", want: []string{"/p|/p/a.txt follow"}},
		{name: "WORKDIR chain", df: base + "\nWORKDIR /app\nWORKDIR sub\nWORKDIR ../other\nCOPY . x/\n",
			files: []string{"a.js"}, path: "a.js", want: []string{"/app/other/x/a.js"}},
		{name: "ARG and ENV in the destination", df: base + "\nARG D=/opt/x\nENV E=web\nCOPY . $D/${E}/\n",
			files: []string{"a.js"}, path: "a.js", want: []string{"/opt/x/web/a.js"}},
		{name: "build arg wins", df: base + "\nARG D=/opt/x\nCOPY . $D/\n", args: map[string]string{"D": "/srv"},
			files: []string{"a.js"}, path: "a.js", want: []string{"/srv/a.js"}},
		{name: "ARG in WORKDIR", df: base + "\nARG APP=/app\nWORKDIR $APP/web\nCOPY . .\n",
			files: []string{"a.js"}, path: "a.js", want: []string{"/app/web/a.js"}},
		{name: "ARG in a source", df: base + "\nARG S=src\nCOPY ${S}/ /srv/\n",
			files: []string{"src/a.js"}, path: "src/a.js", want: []string{"/srv/a.js"}},
		{name: "wildcard files", df: base + "\nCOPY src/*.js /app/\n",
			files: []string{"src/a.js", "src/b.js"}, path: "src/a.js", want: []string{"/app/a.js follow"}},
		{name: "wildcard in a directory segment", df: base + "\nCOPY pkgs/*/index.js /app/\n",
			files: []string{"pkgs/a/index.js"}, path: "pkgs/a/index.js", want: []string{"/app/index.js follow"}},
		{name: "wildcard directory match merges contents", df: base + "\nCOPY src/* /app/\n",
			files: []string{"src/lib/u.js", "src/a.js"}, path: "src/lib/u.js", want: []string{"/app/u.js"}},
		{name: "several sources", df: base + "\nCOPY a.txt b/ /srv/\n",
			files: []string{"a.txt", "b/c.txt"}, path: "b/c.txt", want: []string{"/srv/c.txt"}},
		{name: "one path, two COPYs, two places", df: base + "\nCOPY a.txt /x/\nCOPY a.txt /y/\n",
			files: []string{"a.txt"}, path: "a.txt", want: []string{"/x/a.txt follow", "/y/a.txt follow"}},
		{name: "same place twice: the later owner wins", df: base + "\nCOPY . /app/\nCOPY --chown=7 src /app/src\n",
			files: []string{"src/a.js"}, path: "src/a.js", want: []string{"/app/src/a.js owner=7:7"}},
		{name: "target stage not last", df: base + " AS dev\nWORKDIR /app\nCOPY . .\nFROM rebuildd-test/busybox AS other\nCOPY . /elsewhere/\n",
			target: "dev", files: []string{"a.js"}, path: "a.js", want: []string{"/app/a.js"}},
		{name: "a stage built FROM the copying one", df: base + " AS app\nWORKDIR /app\nCOPY . .\nFROM app AS final\nENV X=1\n",
			files: []string{"a.js"}, path: "a.js", want: []string{"/app/a.js"}},
		{name: "FROM scratch starts at /", df: "FROM scratch\nCOPY . srv/\n",
			files: []string{"a.js"}, path: "a.js", want: []string{"/srv/a.js"}},
		{name: "relative to the base image's WORKDIR", df: base + "\nCOPY . .\n",
			files: []string{"a.js"}, path: "a.js", want: []string{"a.js rel"}},
		{name: "--parents keeps the path", df: base + "\nCOPY --parents src/**/*.js /app/\n",
			files: []string{"src/x/y.js"}, path: "src/x/y.js", want: []string{"/app/src/x/y.js follow"}},
		{name: "--parents below the pivot", df: base + "\nCOPY --parents src/./lib/a.js /app/\n",
			files: []string{"src/lib/a.js"}, path: "src/lib/a.js", want: []string{"/app/lib/a.js follow"}},
		{name: "--exclude leaves the rest", df: base + "\nCOPY --exclude=*.md . /app/\n",
			files: []string{"a.js", "b.md"}, path: "a.js", want: []string{"/app/a.js"}},
		{name: "ADD of a directory copies its files", df: base + "\nADD static /www/\n",
			files: []string{"static/i.html"}, path: "static/i.html", want: []string{"/www/i.html"}},
		{name: "ADD --unpack=false is a copy", df: base + "\nADD --unpack=false a.tar /srv/\n",
			files: []string{"a.tar"}, path: "a.tar", want: []string{"/srv/a.tar follow"}},
		{name: "later ADD of a URL elsewhere", df: base + "\nCOPY . /app/\nADD https://example.com/x/y.tgz /app/\n",
			files: []string{"a.js"}, path: "a.js", want: []string{"/app/a.js"}},
		{name: "later COPY --from elsewhere", df: base + " AS build\nRUN make\nFROM rebuildd-test/busybox\nCOPY . /app\nCOPY --from=build /out /app/dist\n",
			files: []string{"src/a.js"}, path: "src/a.js", want: []string{"/app/src/a.js"}},
		{name: "a later source that misses the path", df: base + "\nCOPY . /app/\nCOPY conf/prod.js /app/config.js\n",
			files: []string{"src/a.js", "conf/prod.js"}, path: "src/a.js", want: []string{"/app/src/a.js"}},
		{name: "COPY --from of another path of the stage", df: base + " AS app\nCOPY . /app/\nFROM app\nCOPY --from=app /app/dist /srv/\n",
			files: []string{"src/a.js"}, path: "src/a.js", want: []string{"/app/src/a.js"}},
	})
}

func TestSyncNotSyncable(t *testing.T) {
	runSyncCases(t, []syncCase{
		{name: "RUN after the COPY", df: base + "\nWORKDIR /app\nCOPY src/ ./src/\nRUN npm run build\n",
			files: []string{"src/a.js"}, path: "src/a.js", why: "RUN npm run build at Dockerfile:4 runs after COPY at Dockerfile:3"},
		{name: "deps", df: base + "\nCOPY package.json /app/\nRUN npm ci\nCOPY . /app/\n",
			files: []string{"package.json"}, path: "package.json", why: "deps layer (RUN npm ci at line 3)"},
		{name: "ignored", df: base + "\nCOPY . /app/\n", ignore: []string{"*.log"},
			files: []string{"x.log"}, path: "x.log", why: "excluded by .dockerignore"},
		{name: "unused", df: base + "\nCOPY src /app/\n", files: []string{"README"}, path: "README", why: "no instruction reads it"},
		{name: "compiled in a builder stage", df: base + " AS build\nCOPY . /src/\nFROM rebuildd-test/busybox\nCOPY --from=build /src /app\n",
			files: []string{"a.go"}, path: "a.go", why: "read by COPY at Dockerfile:2 in stage build, which the image is not built FROM"},
		{name: "read by a bind mount", df: base + "\nRUN --mount=type=bind,target=/src make\n",
			files: []string{"a.c"}, path: "a.c", why: "read by RUN make at Dockerfile:2: the command runs with it"},
		{name: "ADD of a local file may extract it", df: base + "\nADD site.tar.gz /www/\n",
			files: []string{"site.tar.gz"}, path: "site.tar.gz", why: "ADD at Dockerfile:2 extracts a local tar archive"},
		{name: "ADD extracts by content, whatever the name", df: base + "\nADD index.html /www/\n",
			files: []string{"index.html"}, path: "index.html", why: "by its content"},
		{name: "later COPY of another file to the same name", df: base + "\nCOPY a.txt /srv/x\nCOPY b.txt /srv/x\n",
			files: []string{"a.txt", "b.txt"}, path: "a.txt", why: "COPY b.txt /srv/x at Dockerfile:3 also writes /srv/x (from b.txt)"},
		{name: "several sources to one name", df: base + "\nCOPY a.txt b.txt /srv\n",
			files: []string{"a.txt", "b.txt"}, path: "a.txt", why: "also writes /srv (from b.txt)"},
		{name: "a later directory merges the same path", df: base + "\nCOPY src/ /app/\nCOPY overrides/ /app/\n",
			files: []string{"src/a.js", "overrides/a.js"}, path: "src/a.js", why: "COPY overrides/ /app/ at Dockerfile:3 also writes /app/a.js (from overrides/a.js)"},
		{name: "a later wildcard match merges the same path", df: base + "\nCOPY src/* /app/\n",
			files: []string{"src/a/u.js", "src/b/u.js"}, path: "src/a/u.js", why: "also writes /app/u.js (from src/b/u.js)"},
		{name: "a later COPY --from over it", df: base + " AS build\nRUN make\nFROM rebuildd-test/busybox\nCOPY . /app\nCOPY --from=build /out /app/dist\n",
			files: []string{"dist/x.js"}, path: "dist/x.js", why: "COPY --from=build /out /app/dist at Dockerfile:5 may overwrite /app/dist/x.js"},
		{name: "a later ADD of a URL to the same name", df: base + "\nCOPY . /app/\nADD https://example.com/y.js /app/\n",
			files: []string{"y.js"}, path: "y.js", why: "may overwrite /app/y.js"},
		{name: "copied on by COPY --from", df: base + " AS app\nCOPY . /app/\nFROM app\nCOPY --from=app /app/src /srv/\n",
			files: []string{"src/a.js"}, path: "src/a.js", why: "COPY --from=app /app/src /srv/ at Dockerfile:4 copies it on from stage app"},
		{name: "mounted by a RUN of another stage", df: base + " AS app\nCOPY . /app/\nFROM rebuildd-test/busybox AS test\nRUN --mount=from=app,target=/x ls\nFROM app\nCOPY --from=test /etc/passwd /p\n",
			files: []string{"a.js"}, path: "a.js", why: "RUN ls at Dockerfile:4 runs after COPY at Dockerfile:2"},
		{name: "variable from the base image", df: base + "\nCOPY . $APP_HOME/\n",
			files: []string{"a.js"}, path: "a.js", why: "$APP_HOME is not set by the Dockerfile"},
		{name: "variable with a default from the base image", df: base + "\nCOPY . ${APP_HOME:-/app}/\n",
			files: []string{"a.js"}, path: "a.js", why: "$APP_HOME is not set"},
		{name: "WORKDIR from the base image's variable", df: base + "\nWORKDIR $HOME\nCOPY . .\n",
			files: []string{"a.js"}, path: "a.js", why: "the WORKDIR: $HOME is not set"},
		{name: "relative, then a WORKDIR", df: base + "\nCOPY . .\nWORKDIR /app\n",
			files: []string{"a.js"}, path: "a.js", why: "relative to the base image's WORKDIR"},
		{name: "symbolic chmod", df: base + "\nCOPY --chmod=u+x . /app/\n",
			files: []string{"a.sh"}, path: "a.sh", why: "symbolic --chmod"},
		{name: "chmod from a variable", df: base + "\nARG M=0755\nCOPY --chmod=$M . /app/\n",
			files: []string{"a.sh"}, path: "a.sh", why: "--chmod=$M"},
		{name: "setuid chmod", df: base + "\nCOPY --chmod=4755 . /app/\n",
			files: []string{"a.sh"}, path: "a.sh", why: "setuid"},
		{name: "remove a file an earlier COPY also puts there", df: base + "\nCOPY defaults/ /app/\nCOPY . /app/\n",
			files: []string{"defaults/x.conf", "x.conf"}, path: "x.conf", removed: true,
			why: "COPY defaults/ /app/ at Dockerfile:2 writes it first: removing it would bring back /app/x.conf (from defaults/x.conf)"},
		{name: "remove a source directory", df: base + "\nCOPY src /app/src\n",
			files: []string{"src/a.js"}, path: "src", dir: true, removed: true, why: "it is a source of COPY at Dockerfile:2"},
		{name: "chown by name, then a new /etc/passwd", df: base + "\nCOPY --chown=app src/ /app/\nCOPY etc/passwd /etc/passwd\n",
			files: []string{"src/a.js", "etc/passwd"}, path: "src/a.js",
			why: `--chown=app at Dockerfile:2 names "app", but the container's /etc/passwd may not be the one the COPY saw: COPY etc/passwd /etc/passwd at Dockerfile:3 also writes /etc/passwd (from etc/passwd)`},
		{name: "chown by group name, the same COPY writes /etc/group", df: base + "\nCOPY --chown=1:staff . /\n",
			files: []string{"a.js", "etc/group"}, path: "a.js", why: `names "staff", but the container's /etc/group may not be the one the COPY saw`},
		{name: "remove a file a COPY names", df: base + "\nCOPY a.txt /srv/\n",
			files: []string{}, path: "a.txt", removed: true, why: "COPY at Dockerfile:2 names it: without it the build fails"},
		{name: "wildcard to a name, a later match", df: base + "\nCOPY *.txt /srv/out\n",
			files: []string{"a.txt", "b.txt"}, path: "a.txt", why: "also writes /srv/out (from b.txt)"},
	})
}

func TestSyncOwnerAndMode(t *testing.T) {
	runSyncCases(t, []syncCase{
		{name: "no chown: root", df: base + "\nCOPY . /app/\n", files: []string{"a"}, path: "a", want: []string{"/app/a"}},
		{name: "numeric user sets the group too", df: base + "\nCOPY --chown=1000 . /app/\n", files: []string{"a"}, path: "a", want: []string{"/app/a owner=1000:1000"}},
		{name: "numeric pair", df: base + "\nCOPY --chown=1000:2000 . /app/\n", files: []string{"a"}, path: "a", want: []string{"/app/a owner=1000:2000"}},
		{name: "root is a number", df: base + "\nCOPY --chown=root:root . /app/\n", files: []string{"a"}, path: "a", want: []string{"/app/a"}},
		{name: "names are resolved in the container", df: base + "\nCOPY --chown=node:staff . /app/\n", files: []string{"a"}, path: "a", want: []string{"/app/a user=node group=staff"}},
		{name: "name and number", df: base + "\nCOPY --chown=node:7 . /app/\n", files: []string{"a"}, path: "a", want: []string{"/app/a user=node owner=0:7"}},
		{name: "names after the user database arrived", df: base + "\nCOPY etc/ /etc/\nCOPY --chown=app:staff . /app/\n", files: []string{"a", "etc/passwd"}, path: "a", want: []string{"/app/a user=app group=staff"}},
		{name: "chown from an ARG", df: base + "\nARG UID=501\nCOPY --chown=$UID:$UID . /app/\n", files: []string{"a"}, path: "a", want: []string{"/app/a owner=501:501"}},
		{name: "octal chmod", df: base + "\nCOPY --chmod=640 . /app/\n", files: []string{"a"}, path: "a", want: []string{"/app/a mode=0640"}},
		{name: "ADD --chown --chmod of a directory", df: base + "\nADD --chown=5:6 --chmod=0600 d/ /app/\n", files: []string{"d/a"}, path: "d/a", want: []string{"/app/a owner=5:6 mode=0600"}},
	})
}

func TestSyncDirectories(t *testing.T) {
	runSyncCases(t, []syncCase{
		{name: "new directory under a synced one", df: base + "\nWORKDIR /app\nCOPY src ./src\n",
			files: []string{"src/new/"}, path: "src/new", dir: true, want: []string{"/app/src/new"}},
		{name: "the source directory itself", df: base + "\nCOPY src /app/src\n",
			files: []string{"src/"}, path: "src", dir: true, want: []string{"/app/src follow mkdir"}},
		{name: "removed file a wildcard matched", df: base + "\nCOPY *.txt /srv/\n",
			files: []string{"b.txt"}, path: "a.txt", removed: true, want: []string{"/srv/a.txt follow"}},
		{name: "removed the last file a wildcard matched", df: base + "\nCOPY conf/*.yaml /srv/\n",
			files: []string{"conf/"}, path: "conf/a.yaml", removed: true, why: "it is the last file conf/*.yaml at Dockerfile:2 matches"},
		{name: "removed directory below a source", df: base + "\nCOPY src /app/src\n",
			files: []string{"src/"}, path: "src/old", dir: true, removed: true, want: []string{"/app/src/old"}},
		{name: "directory whose files a wildcard copies", df: base + "\nCOPY pkgs/*/index.js /app/\n",
			files: []string{"pkgs/c/"}, path: "pkgs/c", dir: true, want: []string{}, why: "its files sync one by one"},
	})
}
