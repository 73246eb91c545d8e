package rebuild

import (
	"fmt"
	"sort"
	"strings"

	"github.com/rebuildd/rebuildd/dockerfile"
	"github.com/rebuildd/rebuildd/fingerprint"
)

// maxNamed is how many changed files a reason names before "and N more".
const maxNamed = 3

// change is one difference between the recorded and the current inputs.
type change struct {
	text   string
	impact string
	rank   int  // deps and definition changes are named first
	live   bool // a live source file (fingerprint.FileSum.Live)
}

// changeReason names what changed since the recorded build:
// "package-lock.json changed (deps layer, RUN npm ci)". known, when not
// nil, are the file changes already found; otherwise Brief inputs name
// the changed layers and the others load the stored per-file sums.
func changeReason(in Input, known []change) (string, []string, error) {
	changes := partChanges(in.Record.Parts, in.Print.Parts)
	switch {
	case known != nil:
		changes = append(changes, known...)
	case in.Brief && in.Record.Parts.Deps != "":
		changes = append(changes, layerChanges(in.Record.Parts, in.Print.Parts)...)
	default:
		old, err := loadFiles(in)
		if err != nil {
			return "", nil, err
		}
		if old != nil {
			changes = append(changes, fileChanges(old, in.Print.Files)...)
		} else if in.Record.Parts.Deps != "" {
			changes = append(changes, layerChanges(in.Record.Parts, in.Print.Parts)...)
		}
	}
	if len(changes) == 0 {
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
	switch {
	case old.Baked != "" && old.Mounts == cur.Mounts && old.Baked != cur.Baked:
		out = append(out, change{text: "source files changed", impact: string(dockerfile.ImpactSource), rank: 2})
	case old.Baked != "" && old.Mounts == cur.Mounts && old.Live != cur.Live:
		out = append(out, change{text: "bind-mounted source files changed", impact: string(dockerfile.ImpactSource), rank: 2, live: true})
	case old.Source != cur.Source:
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
			out = append(out, fileChange(rel, "added", f))
		case o.Sum != f.Sum || o.Impact != f.Impact:
			out = append(out, fileChange(rel, "changed", f))
		}
	}
	for rel, o := range old {
		if _, ok := cur[rel]; !ok {
			o.Why = string(o.Impact) + " layer"
			out = append(out, fileChange(rel, "removed", o))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].text < out[j].text })
	return out
}

func fileChange(rel, verb string, f fingerprint.FileSum) change {
	why := f.Why
	if why == "" {
		why = string(f.Impact) + " layer"
	}
	rank := 2
	if f.Impact == dockerfile.ImpactDeps {
		rank = 1
	}
	return change{text: fmt.Sprintf("%s %s (%s)", rel, verb, why), impact: string(f.Impact), rank: rank, live: f.Live}
}
