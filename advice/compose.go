package advice

import (
	"bufio"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"

	"github.com/rebuildd/rebuildd/config"
	"github.com/rebuildd/rebuildd/dockerfile"
)

// untaggedBuild reports a build: without image: whose image something else
// needs by name. Compose names such an image <project>-<service> (v2) or
// <project>_<service> (v1); the name changes with -p, COMPOSE_PROJECT_NAME
// or the directory, and it cannot be pushed to a registry. Two services with
// the same build and no image: build the same image twice under two names.
func untaggedBuild(s *subject) []Finding {
	if s.svc.Image != "" {
		return nil
	}
	file, line := s.composeAt("build")
	fix := fmt.Sprintf("set image: on %s (e.g. image: %s) and use that name wherever the image is needed", s.svc.Name, s.suggestedImage())
	var out []Finding
	for _, why := range s.nameUses() {
		out = append(out, Finding{Code: CodeUntaggedBuild, Severity: Warn, File: file, Line: line,
			Message: fmt.Sprintf("%s builds without image:, but %s; compose-generated names change with the project name and cannot be pushed", s.svc.Name, why),
			Fix:     fix})
	}
	for _, o := range s.proj.Services {
		if o.Name != s.svc.Name && o.Image == "" && o.Build != nil && sameBuild(o.Build, s.svc.Build) {
			out = append(out, Finding{Code: CodeUntaggedBuild, Severity: Info, File: file, Line: line,
				Message: fmt.Sprintf("%s and %s have the same build: and no image:, so Compose builds the same image twice under two names", s.svc.Name, o.Name),
				Fix:     fmt.Sprintf("give both the same image: (e.g. image: %s) so it is built once", s.suggestedImage())})
		}
	}
	return out
}

// suggestedImage is a tag to suggest: project/service:dev, as the article does.
func (s *subject) suggestedImage() string {
	return strings.ToLower(s.proj.Name) + "/" + s.svc.Name + ":dev"
}

// generatedNames are the names Compose v2 and v1 give this service's image.
func (s *subject) generatedNames() []string {
	p := strings.ToLower(s.proj.Name)
	return []string{p + "-" + s.svc.Name, p + "_" + s.svc.Name}
}

// nameUses says who relies on the generated name: a service's image:, a
// FROM in another service's Dockerfile, a script that pushes.
func (s *subject) nameUses() []string {
	gen := s.generatedNames()
	var out []string
	for _, o := range s.proj.Services {
		if o.Name == s.svc.Name {
			continue
		}
		if n := matchName(o.Image, gen); n != "" {
			out = append(out, fmt.Sprintf("service %s runs image %s, the generated name", o.Name, n))
		}
		if o.Build == nil {
			continue
		}
		for _, base := range stageBases(o.Build) {
			if n := matchName(base, gen); n != "" {
				out = append(out, fmt.Sprintf("service %s's Dockerfile builds FROM %s, the generated name", o.Name, n))
			}
		}
	}
	if where := s.pushScript(); where != "" {
		out = append(out, where+" pushes images with compose")
	}
	return out
}

// matchName returns the generated name that ref names (any tag), or "".
func matchName(ref string, gen []string) string {
	name := ref
	if i := strings.LastIndex(ref, ":"); i > strings.LastIndex(ref, "/") {
		name = ref[:i]
	}
	name = strings.TrimPrefix(name, "docker.io/library/")
	for _, g := range gen {
		if name == g {
			return ref
		}
	}
	return ""
}

// stageBases are the FROM arguments of a build's Dockerfile, as written.
func stageBases(b *config.Build) []string {
	src := []byte(b.DockerfileInline)
	if b.Dockerfile != "" {
		var err error
		if src, err = dockerfile.ReadFile(b.Dockerfile); err != nil {
			return nil
		}
	}
	doc, err := parseDockerfile(src)
	if err != nil {
		return nil
	}
	var out []string
	for _, st := range doc.stages {
		if st.parent < 0 {
			out = append(out, st.base)
		}
	}
	return out
}

func sameBuild(a, b *config.Build) bool {
	return a.Context == b.Context && a.Dockerfile == b.Dockerfile &&
		a.DockerfileInline == b.DockerfileInline && a.Target == b.Target &&
		reflect.DeepEqual(a.Args, b.Args)
}

// composePush matches a compose push command line in a script or CI file.
var composePush = regexp.MustCompile(`\bdocker(?:-compose| compose)\b[^\n#]*\spush\b`)

// pushScripts are where projects keep the commands they run: make targets,
// CI workflows, scripts at the root.
var pushScripts = []string{"Makefile", "makefile", "GNUmakefile", "justfile", "Taskfile.yml",
	".gitlab-ci.yml", "Jenkinsfile", ".github/workflows/*.yml", ".github/workflows/*.yaml", "*.sh", "scripts/*.sh"}

// pushScript returns "file:line" of the first compose push in the project's
// scripts, "" when there is none.
func (s *subject) pushScript() string {
	for _, g := range pushScripts {
		matches, _ := filepath.Glob(filepath.Join(s.proj.Dir, g))
		for _, f := range matches {
			if line := grepLine(f, composePush); line > 0 {
				return s.place(f, line)
			}
		}
	}
	return ""
}

// grepLine returns the first line of file that re matches, 0 when none.
func grepLine(file string, re *regexp.Regexp) int {
	f, err := os.Open(file)
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		if re.Match(sc.Bytes()) {
			return n
		}
	}
	return 0
}

// anonVolumeTrap reports an anonymous volume over a directory that an
// install RUN fills (node_modules, vendor, .venv). Docker copies the image's
// directory into a new anonymous volume once; `docker compose up --build`
// recreates the container but re-attaches the old volume, so after a
// dependency change the app keeps running with the stale packages. rebuildd
// refreshes such a volume when it rebuilds for a deps change, so this is
// info: it explains the behaviour rather than asking for a change.
func anonVolumeTrap(s *subject) []Finding {
	var out []Finding
	for _, vol := range s.svc.AnonVolumes {
		run, m := s.installFilling(vol)
		if run == nil {
			continue
		}
		file, line := s.composeFind([]string{"volumes"}, volumeItem(vol))
		dfile, dline := s.at(run.line)
		out = append(out, Finding{Code: CodeAnonVolumeTrap, Severity: Info, File: file, Line: line,
			Message: fmt.Sprintf("anonymous volume %s keeps the %s that %s (%s) filled when the container was first created; plain `docker compose up --build` re-attaches the old volume, so after a dependency change the app runs with stale packages. rebuildd refreshes it from the new image when it rebuilds for a dependency change",
				vol, path.Base(vol), run.brief(), s.place(dfile, dline)),
			Fix: fmt.Sprintf("nothing to do while rebuildd runs; without it, use `docker compose up --build --renew-anon-volumes` after changing %s", strings.Join(firstN(m.manifests, 2), " or "))})
	}
	return out
}

// installFilling returns the chain install RUN (and its manager) that fills
// the container directory vol: it runs in vol's parent as WORKDIR and the
// manager installs into vol's base name there.
func (s *subject) installFilling(vol string) (*instr, *manager) {
	vol = path.Clean(vol)
	for _, run := range s.doc.runs(s.chain) {
		if run.workdir != path.Dir(vol) {
			continue
		}
		for _, m := range installsIn(run.shell) {
			for _, d := range m.outDirs {
				if d == path.Base(vol) {
					return run, m
				}
			}
		}
	}
	return nil, nil
}

func firstN(list []string, n int) []string {
	if len(list) > n {
		return list[:n]
	}
	return list
}
