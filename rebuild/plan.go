package rebuild

import (
	"fmt"
	"slices"
	"sort"

	"github.com/rebuildd/rebuildd/dockerfile"
)

// Plan decides every service: the one decision function every mode calls
// (docs/design.md, "One decision"). Services sharing a tag are built once, by the
// first stale one in name order; every service using a built tag, with or
// without build:, is recreated after the build.
func Plan(inputs []Input, pol Policy) ([]Decision, error) {
	out := make([]Decision, len(inputs))
	for i, in := range inputs {
		d, err := decideBuild(in, pol, syncedTo(inputs, in))
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
			decideRecreate(in, tagRecord(inputs, in), &out[i])
		}
	}
	return out, nil
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
		switch {
		case !d.Build && out[b].Status == StatusSynced:
			d.Build, d.Adopt, d.Status = true, false, StatusSynced
			d.Impacts = out[b].Impacts
			d.Reason = fmt.Sprintf("uses image %s, whose containers hold the sources synced for %s; it is built without recreating them", in.Tag, out[b].Service)
		case !d.Build:
			d.Build, d.Adopt, d.Status = true, false, StatusStale
			d.Impacts = out[b].Impacts
			d.Reason = fmt.Sprintf("uses image %s, rebuilt for %s", in.Tag, out[b].Service)
		}
		d.Recreate = true
		d.RefreshVolumes = renews(out[b].Impacts) || (inputs[b].SourceRuns && slices.Contains(out[b].Impacts, string(dockerfile.ImpactSource)))
	}
}

// renews: after a rebuild caused by a deps or Dockerfile change (or by a
// source change that a RUN follows, Input.SourceRuns), an
// anonymous volume may hide new files of the image (the container would
// keep the old node_modules of its volume). So may one after a build whose
// cause is unknown (no record, or no image) when it gives a new image:
// only volumes that hide the new image's files are refreshed, so a
// refresh on doubt loses no data.
func renews(impacts []string) bool {
	for _, i := range impacts {
		if i == "deps" || i == "dockerfile" || i == StatusUnknown || i == "image missing" {
			return true
		}
	}
	return false
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
				d.Build, d.Builder, d.Adopt, d.Status = true, true, false, StatusStale
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
