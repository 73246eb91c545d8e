package conformance

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"path"
	"strings"

	"github.com/rebuildd/rebuildd/ignore"
)

// SyncCase is one generated project for the sync oracle: a context whose
// files have their own modes and owners, and a Dockerfile that copies them
// in the ways dockerfile.Model.Sync has to place exactly.
type SyncCase struct {
	Seed       uint64
	Tree       Tree                   // the context, with Dockerfile (and .dockerignore)
	Modes      map[string]fs.FileMode // context path (file or directory) -> permission bits
	Owners     map[string][2]int      // context path -> host uid, gid (the image must not keep them)
	Dockerfile string
	Ignore     []string // .dockerignore lines; none: no file
}

// syncFiles are the files sync contexts are drawn from: sources in nested
// directories, look-alike names for the wildcards, an overrides directory
// that merges into the same places, and a user database to copy to /etc.
var syncFiles = []string{
	"index.html", "app.js", "README.md", "a.txt", "b.txt", "ab.txt", ".env",
	"conf/app.yaml", "conf/db.yaml", "src/main.js", "src/util.js", "src/lib/x.js",
	"src/lib/y.txt", "src/a b.js", "web/index.html", "web/css/site.css", "web/js/app.js",
	"pkgs/one/index.js", "pkgs/two/index.js", "pkgs/two/extra.js",
	"overrides/app.js", "overrides/src/util.js",
}

// syncUsers is the /etc/passwd and /etc/group a case may copy in before it
// chowns by name (the base image knows only root and nobody).
const syncPasswd = "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\napp:x:1000:1001::/home/app:/bin/sh\nwww:x:33:33::/www:/bin/false\n"
const syncGroup = "root:x:0:\nnogroup:x:65534:\nstaff:x:50:app\napp:x:1001:\nwww:x:33:\n"

var (
	syncFileModes = []fs.FileMode{0o644, 0o644, 0o755, 0o600, 0o640, 0o444, 0o700, 0o664}
	syncDirModes  = []fs.FileMode{0o755, 0o755, 0o775, 0o750, 0o700}
	syncOwners    = [][2]int{{0, 0}, {1000, 1000}, {1234, 5678}, {33, 50}}
	syncChowns    = []string{"1000", "1000:50", "app", "app:staff", "www:www", "root", "nosuch", "33", "0:1001", "app:7", ":50", "7:", "app:"}
	classicChowns = []string{"1000", "1000:50", "33", "0:1001", "root"}
	syncChmods    = []string{"0640", "755", "0600", "444", "0700", "0751"}
)

// GenSyncCase makes case seed. Without buildkit it writes only what the
// classic builder accepts: no --chmod, numeric --chown (it fails on a name
// its /etc/passwd lacks), and several sources only into "dir/".
func GenSyncCase(seed uint64, base string, buildkit bool) SyncCase {
	r := rng(seed)
	c := SyncCase{Seed: seed, Tree: Tree{}, Modes: map[string]fs.FileMode{}, Owners: map[string][2]int{}}
	for _, f := range syncFiles {
		if chance(r, 0.7) {
			c.Tree[f] = fmt.Sprintf("%s\n", f)
		}
	}
	c.Tree["src/main.js"] = "src/main.js\n"
	c.Tree["etc/passwd"], c.Tree["etc/group"] = syncPasswd, syncGroup
	for _, p := range c.Tree.Paths() {
		c.Modes[p] = pick(r, syncFileModes)
		c.Owners[p] = pick(r, syncOwners)
	}
	for _, d := range c.Tree.Dirs() {
		c.Modes[d] = pick(r, syncDirModes)
		c.Owners[d] = pick(r, syncOwners)
	}
	if chance(r, 0.25) {
		c.Ignore = []string{pick(r, []string{"*.md", "src/lib", "**/*.txt", ".env"})}
		c.Tree[".dockerignore"] = strings.Join(c.Ignore, "\n") + "\n"
		c.Modes[".dockerignore"] = 0o644
	}
	g := &syncGen{r: r, c: &c, classic: !buildkit}
	g.ign, _ = ignore.New(c.Ignore) // fixed lines, all valid (TestSyncCasesAreValid)
	c.Dockerfile = g.dockerfile(base)
	c.Tree["Dockerfile"] = c.Dockerfile
	c.Modes["Dockerfile"] = 0o644
	return c
}

// syncGen writes one Dockerfile.
type syncGen struct {
	r       *rand.Rand
	c       *SyncCase
	b       strings.Builder
	build   bool     // a builder stage exists for COPY --from
	vars    []string // ARG/ENV names of the current stage holding an absolute path
	svars   []string // ARG names holding a source directory
	nf      int      // unique /f/<n> destinations
	ign     *ignore.Matcher
	classic bool
}

func (g *syncGen) line(format string, a ...any) { fmt.Fprintf(&g.b, format+"\n", a...) }

func (g *syncGen) dockerfile(base string) string {
	if chance(g.r, 0.3) {
		g.build = true
		g.line("FROM %s AS build", base)
		src := pick(g.r, []string{"src", "web", "conf", "."})
		if src != "." && !g.has(src) {
			src = "src"
		}
		g.line("COPY %s /out/", src)
	}
	if chance(g.r, 0.35) {
		g.line("FROM %s AS app", base)
		g.stage(2 + g.r.IntN(4))
		g.line("FROM app AS final")
		g.vars, g.svars = nil, nil // ARGs do not cross stages; ENV does, but keep it simple
		g.stage(1 + g.r.IntN(4))
	} else {
		g.line("FROM %s", base)
		g.stage(3 + g.r.IntN(5))
	}
	return g.b.String()
}

// stage writes n instructions, most often after a WORKDIR (a relative
// COPY before a WORKDIR is not syncable, which checks nothing).
func (g *syncGen) stage(n int) {
	if chance(g.r, 0.6) {
		g.line("WORKDIR %s", pick(g.r, []string{"/app", "/srv/site", "/www/w"}))
	}
	for range n {
		switch x := g.r.IntN(100); {
		case x < 8:
			g.workdir()
		case x < 22:
			g.variable()
		case x < 27:
			g.line("COPY etc/passwd etc/group /etc/")
		case x < 30:
			g.line("RUN true")
		case x < 36 && g.build:
			g.line("COPY --from=build /out %s", pick(g.r, []string{"/app/dist", "/srv/", "./built/"}))
		case x < 41:
			g.add()
		default:
			g.copy()
		}
	}
}

func (g *syncGen) workdir() {
	w := pick(g.r, []string{"/app", "/srv/site", "sub", "../w", "/app/./x/..", "var"})
	if len(g.vars) > 0 && chance(g.r, 0.3) {
		w = "$" + pick(g.r, g.vars) + pick(g.r, []string{"", "/web"})
	}
	g.line("WORKDIR %s", w)
}

func (g *syncGen) variable() {
	if chance(g.r, 0.5) {
		name := fmt.Sprintf("D%d", len(g.vars))
		g.line("%s %s=%s", pick(g.r, []string{"ARG", "ENV"}), name, pick(g.r, []string{"/opt/d", "/app/v", "/www/x"}))
		g.vars = append(g.vars, name)
		return
	}
	name := fmt.Sprintf("S%d", len(g.svars))
	dir := pick(g.r, []string{"src", "web", "conf"})
	if !g.has(dir) {
		dir = "src"
	}
	g.line("ARG %s=%s", name, dir)
	g.svars = append(g.svars, name)
}

// copy writes a COPY of one to three sources with optional flags.
func (g *syncGen) copy() {
	srcs, wild, files := g.sources()
	flags, dest := g.flags(), g.dest(len(srcs) > 1 || wild, files)
	if !strings.Contains(strings.Join(srcs, ""), " ") {
		g.line("COPY %s%s %s", flags, strings.Join(srcs, " "), dest)
		return
	}
	quoted, _ := json.Marshal(append(srcs, dest)) // a name with a space: the JSON form
	g.line("COPY %s%s", flags, strings.ReplaceAll(string(quoted), ",", ", "))
}

// add writes an ADD of a directory (its files are copied as by COPY) or,
// rarely, of a file (which the model leaves to a rebuild).
func (g *syncGen) add() {
	src := pick(g.r, []string{"web/", "conf", "src/lib", "index.html"})
	if !g.has(strings.TrimSuffix(src, "/")) {
		src = "src"
	}
	g.line("ADD %s%s %s", g.flags(), src, pick(g.r, []string{"/www/", "/app/added/", "./a/"}))
}

// sources picks what a COPY reads: "." alone, or files, directories and
// wildcards that exist (a wildcard may match nothing). wild: a wildcard
// is among them; files: every source is a single file.
func (g *syncGen) sources() (srcs []string, wild, files bool) {
	if chance(g.r, 0.2) {
		return []string{"."}, false, false
	}
	files = true
	for range 1 + g.r.IntN(3) {
		var s string
		switch x := g.r.IntN(10); {
		case x < 3:
			s = g.existing()
		case x < 6:
			s = pick(g.r, []string{"src", "src/", "web", "conf/", "pkgs", "overrides/", "src/lib"})
			if !g.has(strings.TrimSuffix(s, "/")) {
				s = "src"
			}
			files = false
			if len(g.svars) > 0 && chance(g.r, 0.3) {
				s = "${" + pick(g.r, g.svars) + "}/"
			}
		default:
			s = pick(g.r, []string{"src/*.js", "*.txt", "pkgs/*/index.js", "pkgs/*", "web/*", "conf/?b.yaml", "[ab].txt", "src/*", "*.html"})
			if !g.matches(s) {
				// BuildKit 0.8 sends only the context files the sources
				// match, and then fails on a wildcard whose directory
				// did not come along ("lstat .../conf: no such file").
				s = "src/*"
			}
			wild = true
			files = files && !strings.HasSuffix(s, "*") // "x/*" matches directories too
		}
		srcs = append(srcs, s)
	}
	return srcs, wild, files
}

// existing picks an existing file of the context.
func (g *syncGen) existing() string {
	var ps []string
	for _, p := range g.c.Tree.Paths() {
		if !strings.HasPrefix(p, "etc/") && !g.ign.Excluded(p) {
			ps = append(ps, p)
		}
	}
	return pick(g.r, ps)
}

// matches reports whether the wildcard matches something the context
// sends.
func (g *syncGen) matches(pattern string) bool {
	segs := strings.Split(pattern, "/")
	for _, p := range g.c.Tree.Paths() {
		parts := strings.Split(p, "/")
		if len(parts) < len(segs) || g.ign.Excluded(p) {
			continue
		}
		ok := true
		for i, seg := range segs {
			if m, _ := path.Match(seg, parts[i]); !m {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

// has reports whether the context has p, a file or a directory, after the
// .dockerignore (a missing source fails the build).
func (g *syncGen) has(p string) bool {
	if g.ign.Excluded(p) {
		return false
	}
	for q := range g.c.Tree {
		if (q == p || strings.HasPrefix(q, p+"/")) && !g.ign.Excluded(q) {
			return true
		}
	}
	return false
}

// dest picks a destination. A destination without a trailing slash that
// may receive a single file is a fresh /f/<n> or a directory the base image
// has (/www, /tmp): it must not become a file a later COPY needs as a
// directory, which fails the build. /f/<n> takes only files: a wildcard
// matching a file and then a directory fails there too.
func (g *syncGen) dest(several, files bool) string {
	dirs := []string{"/app/", ".", "./", "x/", "/www/", "sub/dir/", "/app/./y/"}
	plain := []string{"/app", "x", "/srv/app"}
	if len(g.vars) > 0 {
		v := pick(g.r, g.vars)
		dirs = append(dirs, "${"+v+"}/", "$"+v+"/in/")
		plain = append(plain, "$"+v)
	}
	switch x := g.r.IntN(10); {
	case x < 5 || several && g.classic:
		return pick(g.r, dirs)
	case x < 7 && !files && !several:
		return pick(g.r, plain)
	case x < 8 || !files:
		return pick(g.r, []string{"/www", "/tmp"})
	}
	g.nf++
	return fmt.Sprintf("/f/n%d", g.nf)
}

// flags picks --chown and --chmod, or neither.
func (g *syncGen) flags() string {
	var f []string
	if chance(g.r, 0.35) {
		f = append(f, "--chown="+pick(g.r, syncChowns))
		if g.classic {
			f[len(f)-1] = "--chown=" + pick(g.r, classicChowns)
		}
	}
	if chance(g.r, 0.3) && !g.classic {
		f = append(f, "--chmod="+pick(g.r, syncChmods))
	}
	if len(f) == 0 {
		return ""
	}
	return strings.Join(f, " ") + " "
}
