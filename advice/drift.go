package advice

import (
	"fmt"
	"strings"

	"github.com/rebuildd/rebuildd/config"
	"github.com/rebuildd/rebuildd/dockerfile"
)

// role is what a service or stage is for, read from its name.
type role string

const (
	roleNone role = ""
	roleDev  role = "dev"
	roleProd role = "prod"
)

var roleWords = map[string]role{
	"dev": roleDev, "develop": roleDev, "development": roleDev, "debug": roleDev, "local": roleDev, "watch": roleDev,
	"prod": roleProd, "production": roleProd, "release": roleProd, "runtime": roleProd, "final": roleProd, "deploy": roleProd,
}

// nameRole reads a role from a name's words (api-prod, dev_server, release).
func nameRole(name string) role {
	for _, w := range strings.FieldsFunc(strings.ToLower(name), func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9')
	}) {
		if r := roleWords[w]; r != roleNone {
			return r
		}
	}
	return roleNone
}

// serviceRole is what a service is for, and why we think so: its explicit
// target says it best, then its name, then a bind mount into its build
// context (source mounted for live editing is dev use), then the stage it
// resolves to.
func serviceRole(svc config.Service, target string) (role, string) {
	if r := nameRole(svc.Build.Target); r != roleNone {
		return r, "its target says so"
	}
	if r := nameRole(svc.Name); r != roleNone {
		return r, "its name says so"
	}
	for _, b := range svc.BindMounts {
		if within(b.Source, svc.Build.Context) {
			return roleDev, "it bind-mounts its source"
		}
	}
	return nameRole(target), "its stage's name says so"
}

// targetDrift reports a service for one role whose stage chain includes the
// other role's stages, when another service builds the same Dockerfile for
// that other role: a dev target that builds on the prod stage runs the whole
// production build on every dev rebuild; a prod target that builds on a dev
// stage ships dev tools and dev dependencies.
func targetDrift(s *subject) []Finding {
	mine, why := serviceRole(s.svc, s.an.Target)
	if mine == roleNone {
		return nil
	}
	for _, o := range s.proj.Services {
		if o.Name == s.svc.Name || o.Build == nil || !sameDockerfile(o.Build, s.svc.Build) {
			continue
		}
		oan := analyzeOther(o.Build)
		if oan == nil {
			continue
		}
		if r, _ := serviceRole(o, oan.Target); r == mine || r == roleNone {
			continue
		}
		if bad := s.foreignStages(mine, oan.Target); len(bad) > 0 {
			return []Finding{s.driftFinding(mine, why, o.Name, oan.Target, bad)}
		}
	}
	return nil
}

// foreignStages are the chain stages that belong to the other role: a
// stage named for it, or the other service's target stage. For a prod
// service the other target counts only when prod builds FROM it (its layers
// ship); copying an artifact out of it with COPY --from ships nothing else.
func (s *subject) foreignStages(mine role, otherTarget string) []string {
	var out []string
	last := s.an.Stages[len(s.an.Stages)-1].Index // the target: chains end with it
	for _, st := range s.an.Stages {
		r := nameRole(st.Name)
		// Both resolving to one stage is the dev service's mistake, not prod's.
		isOther := st.Name != "" && strings.EqualFold(st.Name, otherTarget) &&
			(mine == roleDev || !strings.EqualFold(otherTarget, s.an.Target))
		switch {
		case r != roleNone && r != mine:
			out = append(out, st.Name)
		case isOther && (mine == roleDev || s.doc.builtOn(last, st.Index)):
			out = append(out, st.Name)
		}
	}
	return out
}

func (s *subject) driftFinding(mine role, why, other, otherTarget string, bad []string) Finding {
	file, line := s.composeAt("build", "target")
	how := "its target " + dockerfile.StageLabel(s.an.Target)
	if s.svc.Build.Target == "" {
		how = "it sets no target, so the last stage, " + dockerfile.StageLabel(s.an.Target) + ","
	}
	f := Finding{Code: CodeTargetDrift, Severity: Warn, File: file, Line: line}
	stages := strings.Join(bad, ", ")
	if mine == roleDev {
		what := fmt.Sprintf("builds on %s, part of the production build of %s (target %s)", stages, other, dockerfile.StageLabel(otherTarget))
		if len(bad) == 1 && strings.EqualFold(bad[0], s.an.Target) {
			what = fmt.Sprintf("is the production build of %s (target %s)", other, dockerfile.StageLabel(otherTarget))
		}
		f.Message = fmt.Sprintf("%s is a dev service (%s) but %s %s: every dev rebuild runs the production steps too",
			s.svc.Name, why, how, what)
		f.Fix = "add a dev stage that does not build on the production stages, and set target: to it"
		if dev := s.stageFor(roleDev); dev != "" {
			f.Fix = fmt.Sprintf("set target: %s on %s", dev, s.svc.Name)
		}
		return f
	}
	f.Message = fmt.Sprintf("%s is a production service (%s) but %s builds on %s, the dev stage that %s builds: dev tools and dev dependencies ship in the production image",
		s.svc.Name, why, how, stages, other)
	f.Fix = "build the production stage FROM a base stage that the dev stage also builds on, not FROM the dev stage"
	return f
}

// stageFor returns a stage of the Dockerfile named for role r, "" if none.
func (s *subject) stageFor(r role) string {
	for _, n := range s.an.Names {
		if nameRole(n) == r {
			return n
		}
	}
	return ""
}

func sameDockerfile(a, b *config.Build) bool {
	if a.Dockerfile != "" || b.Dockerfile != "" {
		return a.Dockerfile == b.Dockerfile
	}
	return a.DockerfileInline == b.DockerfileInline
}

// analyzeOther runs the layer model on another service's build; nil when
// its Dockerfile does not load (that service's own load reports why).
func analyzeOther(b *config.Build) *dockerfile.Analysis {
	src, name := []byte(b.DockerfileInline), "dockerfile_inline"
	if b.Dockerfile != "" {
		var err error
		if src, err = dockerfile.ReadFile(b.Dockerfile); err != nil {
			return nil
		}
		name = b.Dockerfile
	}
	an, err := dockerfile.Analyze(src, name, b.Target, b.Args)
	if err != nil {
		return nil
	}
	return an
}

// within reports whether p is dir or below it.
func within(p, dir string) bool {
	return p == dir || strings.HasPrefix(p, strings.TrimSuffix(dir, "/")+"/")
}
