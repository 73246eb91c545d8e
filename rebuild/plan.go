package rebuild

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/rebuildd/rebuildd/docker"
	"github.com/rebuildd/rebuildd/dockerfile"
	"github.com/rebuildd/rebuildd/fingerprint"
)

// Input is everything known about one service before deciding.
type Input struct {
	Service     string
	Tag         string // the image the service runs (image: or compose's default name)
	Build       bool   // has a build: section (else it only names Tag)
	AnonVolumes bool
	Print       *fingerprint.Print  // current fingerprint; nil without build:
	Record      *fingerprint.Record // last build rebuildd recorded; nil when none
	// Files loads the per-file sums stored with Record, only when a reason
	// must name changed files (the map can be large).
	Files      func() (map[string]fingerprint.FileSum, error)
	Image      *docker.Image // the image under Tag; nil when missing
	Bases      []string      // normalised tags of project images the build is FROM
	Containers []docker.Container
}

// Decision is what happens to one service.
type Decision struct {
	Service   string
	Tag       string
	Build     bool // Tag is built (by this service or one sharing the tag)
	Builder   bool // this service's build runs (one per tag)
	Recreate  bool // up -d the service after any build (recreate or create)
	RenewAnon bool // recreate with --renew-anon-volumes
	Adopt     bool // record the current print as the image's (built outside rebuildd)
	Recheck   bool // built again only because inputs changed during the last build
	Impacts   []string
	Reason    string
}

// Stale reports whether the decision changes anything.
func (d Decision) Stale() bool { return d.Build || d.Recreate }

// maxNamed is how many changed files a reason names before "and N more".
const maxNamed = 3

// Plan decides every service. Services sharing a tag are built once, by the
// first stale one in name order; every service using a built tag, with or
// without build:, is recreated after the build.
func Plan(inputs []Input) ([]Decision, error) {
	out := make([]Decision, len(inputs))
	for i, in := range inputs {
		d, err := decideBuild(in)
		if err != nil {
			return nil, err
		}
		out[i] = d
	}
	shareBuilds(inputs, out)
	for followBases(inputs, out) {
		shareBuilds(inputs, out)
	}
	for i, in := range inputs {
		if !out[i].Build {
			decideRecreate(in, &out[i])
		}
	}
	return out, nil
}

// decideBuild applies the staleness rules, in order, to one build service.
func decideBuild(in Input) (Decision, error) {
	d := Decision{Service: in.Service, Tag: in.Tag}
	switch {
	case !in.Build:
		return d, nil
	case in.Image == nil:
		d.Build, d.Impacts, d.Reason = true, []string{"image missing"}, "image missing"
	case in.Record != nil && in.Record.ImageID == in.Image.ID && in.Record.Unsettled != "" && in.Record.Fingerprint == in.Print.Sum:
		what := in.Record.Unsettled + " files"
		if in.Record.Unsettled == string(dockerfile.ImpactDockerfile) {
			what = "the Dockerfile or ignore file"
		}
		d.Build, d.Recheck, d.Impacts = true, true, []string{in.Record.Unsettled}
		d.Reason = what + " changed while the last build ran; building again so the image holds what is on disk"
	case in.Record != nil && in.Record.ImageID == in.Image.ID:
		if in.Record.Fingerprint == in.Print.Sum {
			return d, nil
		}
		reason, impacts, err := changeReason(in)
		if err != nil {
			return d, err
		}
		if reason == "" && in.Record.Parts.Deps == "" && in.Record.Unsettled == "" {
			// A record from before the folds: its Sum is computed another
			// way, and no part and no file differs, so the image is current.
			d.Adopt, d.Impacts = true, []string{"adopted"}
			return d, nil
		}
		if reason == "" {
			reason, impacts = "inputs changed since the last build", []string{string(dockerfile.ImpactSource)}
		}
		if u := in.Record.Unsettled; u != "" && !slices.Contains(impacts, u) {
			impacts = append(impacts, u) // a deps change during that build still renews volumes
			sort.Strings(impacts)
		}
		d.Build, d.Impacts, d.Reason = true, impacts, reason
	case in.Print.Newest.After(in.Image.Created):
		// Built outside rebuildd (or the record is lost): the image is only
		// trusted when every input is older than it.
		d.Build, d.Impacts = true, newerImpacts(in)
		d.Reason = fmt.Sprintf("%s is newer than the image", in.Print.NewestPath)
	default:
		d.Adopt, d.Impacts = true, []string{"adopted"}
	}
	d.Builder = d.Build
	return d, nil
}

// newerImpacts are the impacts of the inputs newer than the image, so a
// deps change renews anonymous volumes even without a record.
func newerImpacts(in Input) []string {
	set := map[string]bool{}
	for _, f := range in.Print.Files {
		if f.ModTime().After(in.Image.Created) {
			set[string(f.Impact)] = true
		}
	}
	if len(set) == 0 { // only the Dockerfile or ignore file is newer
		set[string(dockerfile.ImpactDockerfile)] = true
	}
	return sortedKeys(set)
}

// change is one difference between the recorded and the current inputs.
type change struct {
	text   string
	impact string
	rank   int // deps and definition changes are named first
}

// changeReason names what changed since the recorded build:
// "package-lock.json changed (deps layer, RUN npm ci)".
func changeReason(in Input) (string, []string, error) {
	changes := partChanges(in.Record.Parts, in.Print.Parts)
	var old map[string]fingerprint.FileSum
	if in.Files != nil {
		var err error
		if old, err = in.Files(); err != nil {
			return "", nil, err
		}
	}
	switch {
	case old != nil:
		changes = append(changes, fileChanges(old, in.Print.Files)...)
	case in.Record.Parts.Deps != "" || in.Record.Parts.Source != "":
		changes = append(changes, layerChanges(in.Record.Parts, in.Print.Parts)...)
	case len(changes) == 0:
		return "inputs changed since the last build", []string{"source"}, nil
	}
	sort.SliceStable(changes, func(i, j int) bool { return changes[i].rank < changes[j].rank })
	set := map[string]bool{}
	var texts []string
	for i, c := range changes {
		set[c.impact] = true
		if i < maxNamed {
			texts = append(texts, c.text)
		}
	}
	if len(changes) > maxNamed {
		texts = append(texts, fmt.Sprintf("and %d more", len(changes)-maxNamed))
	}
	return strings.Join(texts, ", "), sortedKeys(set), nil
}

func partChanges(old, cur fingerprint.Parts) []change {
	var out []change
	add := func(differs bool, text, impact string) {
		if differs {
			out = append(out, change{text: text, impact: impact})
		}
	}
	add(old.Dockerfile != cur.Dockerfile, "Dockerfile changed", "dockerfile")
	add(old.Ignore != cur.Ignore, "ignore file changed", "dockerignore")
	add(old.Target != cur.Target, "build target changed", "dockerfile")
	add(old.Args != cur.Args, "build args changed", "dockerfile")
	add(old.Compose != cur.Compose && old.Args == cur.Args && old.Target == cur.Target,
		"build section of the compose file changed", "dockerfile")
	add(old.Bases != cur.Bases, "base image (another service's) changed", "deps")
	return out
}

// layerChanges names the changed layers from the folds alone, for watch
// mode, which names the files in its decision line and must not load the
// stored per-file sums between a save and its build.
func layerChanges(old, cur fingerprint.Parts) []change {
	var out []change
	if old.Deps != cur.Deps {
		out = append(out, change{text: "deps files changed", impact: string(dockerfile.ImpactDeps), rank: 1})
	}
	if old.Source != cur.Source {
		out = append(out, change{text: "source files changed", impact: string(dockerfile.ImpactSource), rank: 2})
	}
	return out
}

// fileChanges lists changed, added and removed files in path order.
func fileChanges(old, cur map[string]fingerprint.FileSum) []change {
	var out []change
	for rel, f := range cur {
		o, ok := old[rel]
		switch {
		case !ok:
			out = append(out, fileChange(rel, "added", f.Impact, f.Why))
		case o.Sum != f.Sum || o.Impact != f.Impact:
			out = append(out, fileChange(rel, "changed", f.Impact, f.Why))
		}
	}
	for rel, o := range old {
		if _, ok := cur[rel]; !ok {
			out = append(out, fileChange(rel, "removed", o.Impact, string(o.Impact)+" layer"))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].text < out[j].text })
	return out
}

func fileChange(rel, verb string, impact dockerfile.Impact, why string) change {
	if why == "" {
		why = string(impact) + " layer"
	}
	rank := 2
	if impact == dockerfile.ImpactDeps {
		rank = 1
	}
	return change{text: fmt.Sprintf("%s %s (%s)", rel, verb, why), impact: string(impact), rank: rank}
}

// shareBuilds makes every service using a built tag part of that build:
// one builder per tag, the others recreated after it.
func shareBuilds(inputs []Input, out []Decision) {
	builder := map[string]int{} // tag -> index of the builder
	for i := range out {
		if out[i].Builder {
			if _, ok := builder[out[i].Tag]; ok {
				out[i].Builder = false
			} else {
				builder[out[i].Tag] = i
			}
		}
	}
	for i, in := range inputs {
		b, ok := builder[in.Tag]
		if !ok {
			continue
		}
		d := &out[i]
		if !d.Build {
			d.Build, d.Adopt = true, false
			d.Impacts = out[b].Impacts
			d.Reason = fmt.Sprintf("uses image %s, rebuilt for %s", in.Tag, out[b].Service)
		}
		d.Recreate = true
		d.RenewAnon = in.AnonVolumes && renews(out[b].Impacts)
	}
}

// renews: a rebuild caused by a deps or Dockerfile change renews anonymous
// volumes, or the container keeps the old node_modules of its volume.
func renews(impacts []string) bool {
	for _, i := range impacts {
		if i == "deps" || i == "dockerfile" {
			return true
		}
	}
	return false
}

// decideRecreate handles a service whose image is not being built: up when
// it has no container, recreate when a container runs another image.
func decideRecreate(in Input, d *Decision) {
	if in.Image == nil {
		return // an image-only service whose image nobody built: compose pulls, not us
	}
	if len(in.Containers) == 0 {
		d.Recreate, d.Reason = true, "no container"
		return
	}
	for _, c := range in.Containers {
		if c.ImageID != in.Image.ID {
			d.Recreate, d.Reason = true, "container runs an older image"
			return
		}
	}
}

func sortedKeys(set map[string]bool) []string {
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// followBases makes a service built FROM a project image that this run
// rebuilds stale too (its base changes under it), and reports whether it
// changed anything, so chains of bases settle in a few passes.
func followBases(inputs []Input, out []Decision) bool {
	built := map[string]string{} // normalised tag -> the service that builds it
	for i := range out {
		if out[i].Builder {
			built[normalTag(out[i].Tag)] = out[i].Service
		}
	}
	changed := false
	for i, in := range inputs {
		if !in.Build || out[i].Build {
			continue
		}
		for _, b := range in.Bases {
			if svc, ok := built[b]; ok {
				d := &out[i]
				d.Build, d.Builder, d.Adopt = true, true, false
				d.Impacts = []string{string(dockerfile.ImpactDeps)}
				d.Reason = fmt.Sprintf("its base image %s is rebuilt (service %s)", b, svc)
				changed = true
				break
			}
		}
	}
	return changed
}

// BuildOrder returns the decisions that run a build, each after the
// builds of the project images it is FROM.
func BuildOrder(inputs []Input, decisions []Decision) []Decision {
	bases := map[string][]string{}
	for _, in := range inputs {
		bases[in.Service] = in.Bases
	}
	pending := []Decision{}
	for _, d := range decisions {
		if d.Builder {
			pending = append(pending, d)
		}
	}
	var out []Decision
	done := map[string]bool{}
	for len(pending) > 0 {
		var next []Decision
		for _, d := range pending {
			if waitsFor(bases[d.Service], pending, d, done) {
				next = append(next, d)
				continue
			}
			out = append(out, d)
			done[normalTag(d.Tag)] = true
		}
		if len(next) == len(pending) { // a cycle: FROM loops cannot build anyway
			return append(out, next...)
		}
		pending = next
	}
	return out
}

// waitsFor: one of d's bases is built by another pending decision.
func waitsFor(bases []string, pending []Decision, d Decision, done map[string]bool) bool {
	for _, b := range bases {
		for _, p := range pending {
			if p.Service != d.Service && normalTag(p.Tag) == b && !done[b] {
				return true
			}
		}
	}
	return false
}
