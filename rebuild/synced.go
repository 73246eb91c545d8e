package rebuild

import (
	"github.com/rebuildd/rebuildd/docker"
	"github.com/rebuildd/rebuildd/fingerprint"
)

// What the decision function reads from the sync marks (docs/design.md,
// "One decision" and "Live update"). A live update copies source files
// into the running containers and leaves their image as it was; the mark
// a sync writes says which print's content a container then holds. Two
// rules follow:
//
//   - synced: the image's record is older than the current print, and
//     every running container of the image holds exactly the current
//     print. The running stack serves the current sources (--check says
//     synced and exits 0); the image is built from them, and the
//     containers that hold it are not recreated (run.go, spared);
//     --images calls it stale.
//   - a container that runs an older image but holds exactly the print
//     the current image was recorded from (and whose removals were
//     compared with that image) is as good as one that runs it.

// synced marks d as the convergence of an image whose containers already
// hold its sources: built, and nothing recreated for it.
func (d *Decision) synced(pol Policy) {
	if pol.Images {
		d.Reason += "; synced into the containers, not yet built into the image"
		return
	}
	d.Status, d.Impacts = StatusSynced, []string{StatusSynced}
	d.Reason = "the containers hold the current sources, synced into them; the image is built from them without recreating them"
}

// syncedTo reports whether every running container of in's image (its own
// and those of services sharing the tag) holds in's current print, and
// there is at least one.
func syncedTo(inputs []Input, in Input) bool {
	if !in.Build || in.Print == nil || in.Unasked {
		return false
	}
	n := 0
	for _, o := range inputs {
		if normalTag(o.Tag) != normalTag(in.Tag) {
			continue
		}
		for _, c := range o.Containers {
			if c.State != "running" {
				continue
			}
			if in.Synced[c.ID].Sum != in.Print.Sum {
				return false
			}
			n++
		}
	}
	return n > 0
}

// tagRecord is the record of the image in runs: its own, or, for a
// service that only names a tag, the record of a build service with the
// same tag.
func tagRecord(inputs []Input, in Input) *fingerprint.Record {
	if in.Build {
		return in.Record
	}
	for _, o := range inputs {
		if o.Build && o.Record != nil && normalTag(o.Tag) == normalTag(in.Tag) {
			return o.Record
		}
	}
	return nil
}

// holdsOther: c runs in's image, but live updates left other files in it
// than that image was recorded from (an edit synced, then reverted).
func holdsOther(in Input, rec *fingerprint.Record, c docker.Container) bool {
	m, ok := in.Synced[c.ID]
	return ok && (rec == nil || !m.Holds(rec.Fingerprint))
}

// holdsImage: c runs another image than in's, but its sync mark says it
// holds exactly what in's image was recorded from.
func holdsImage(in Input, rec *fingerprint.Record, c docker.Container) bool {
	return rec != nil && rec.ImageID == in.Image.ID && rec.Unsettled == "" && in.Synced[c.ID].Holds(rec.Fingerprint)
}
