package rebuild

import (
	"sort"
	"strings"

	"github.com/rebuildd/rebuildd/config"
	"github.com/rebuildd/rebuildd/docker"
	"github.com/rebuildd/rebuildd/dockerfile"
	"github.com/rebuildd/rebuildd/fingerprint"
)

// Watched is one build service as watch mode sees it.
type Watched struct {
	Service config.Service
	Model   fingerprint.Classifier // *dockerfile.Model
}

// Verdict is what one batch of changed paths means for one service.
type Verdict struct {
	Service string
	Action  dockerfile.Action // the strongest over the batch's paths
	Impact  dockerfile.Impact // the strongest impact
	// Paths are the batch's build inputs of the service (files a build
	// reads, the Dockerfile, the ignore file); when it has none, every
	// path of the batch inside its context (ignored, unused), which the
	// none verdict names.
	Paths   []string
	Decider string            // the path whose result decided Action (or Impact when Action is none)
	Result  dockerfile.Result // that path's classification
	Syncs   []docker.SyncOp   // develop.watch sync actions
	Exec    [][]string        // develop.watch sync+exec commands, run after the syncs
}

// impactRank orders impacts by how much they say about a service, so a
// batch is summarised by its strongest (docs/design.md: the log names it).
var impactRank = map[dockerfile.Impact]int{
	dockerfile.ImpactOutside:      0,
	dockerfile.ImpactIgnored:      1,
	dockerfile.ImpactUnused:       2,
	dockerfile.ImpactSource:       3,
	dockerfile.ImpactDeps:         4,
	dockerfile.ImpactDockerignore: 5,
	dockerfile.ImpactDockerfile:   6,
}

// Triage classifies every path of a batch for every service and keeps, per
// service, the strongest action (rebuild > restart > none). Services the
// batch does not touch at all (every path outside) get no verdict.
func Triage(svcs []Watched, paths []string) []Verdict {
	var out []Verdict
	for _, w := range svcs {
		v, ok := triageOne(w, paths)
		if ok {
			out = append(out, v)
		}
	}
	return out
}

func triageOne(w Watched, paths []string) (Verdict, bool) {
	v := Verdict{Service: w.Service.Name, Action: dockerfile.ActionNone, Impact: dockerfile.ImpactOutside}
	var inputs []string
	for _, p := range paths {
		r, ruled := w.ruled(p, &v)
		if !ruled {
			r = fingerprint.ClassifyPath(w.Model, p)
		}
		if r.Impact == dockerfile.ImpactOutside && !ruled {
			continue
		}
		v.Paths = append(v.Paths, p)
		if ruled || isInput(r.Impact) {
			inputs = append(inputs, p)
		}
		if stronger(r, v) {
			v.Action, v.Impact, v.Decider, v.Result = r.Action, r.Impact, p, r
		} else if impactRank[r.Impact] > impactRank[v.Impact] {
			v.Impact = r.Impact
		}
	}
	if len(v.Paths) == 0 {
		return v, false
	}
	if len(inputs) > 0 {
		v.Paths = inputs // a log line names what the build reads, not the files beside it
	}
	sort.Strings(v.Paths)
	return v, true
}

// isInput: a path with this impact is read by the build (or defines it).
func isInput(i dockerfile.Impact) bool {
	switch i {
	case dockerfile.ImpactDeps, dockerfile.ImpactSource, dockerfile.ImpactDockerfile, dockerfile.ImpactDockerignore:
		return true
	}
	return false
}

// stronger reports whether r should replace the verdict's deciding result:
// a stronger action, or the same action with a stronger impact.
func stronger(r dockerfile.Result, v Verdict) bool {
	if v.Decider == "" {
		return true
	}
	if a := dockerfile.Stronger(v.Action, r.Action); a != v.Action {
		return true
	}
	return r.Action == v.Action && impactRank[r.Impact] > impactRank[v.Impact]
}

// ruled applies the service's develop.watch rules to p: a rule that names p
// decides instead of the layer model, and its sync and exec are collected.
func (w Watched) ruled(p string, v *Verdict) (dockerfile.Result, bool) {
	rr, ok := matchRules(w.Service.Watch, p)
	if !ok {
		return dockerfile.Result{}, false
	}
	if rr.sync != nil {
		v.Syncs = append(v.Syncs, *rr.sync)
	}
	if len(rr.exec) > 0 && !hasCommand(v.Exec, rr.exec) {
		v.Exec = append(v.Exec, rr.exec)
	}
	return dockerfile.Result{Impact: dockerfile.ImpactSource, Action: rr.action, Reason: rr.reason}, true
}

func hasCommand(list [][]string, c []string) bool {
	for _, x := range list {
		if strings.Join(x, "\x00") == strings.Join(c, "\x00") {
			return true
		}
	}
	return false
}
