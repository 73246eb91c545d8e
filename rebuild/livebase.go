package rebuild

import (
	"context"
	"path"
	"sort"
	"strings"
	"sync"

	"github.com/rebuildd/rebuildd/docker"
	"github.com/rebuildd/rebuildd/dockerfile"
	"github.com/rebuildd/rebuildd/fingerprint"
)

// What a container holds before a live update (docs/design.md, "Live
// update"): a sync copies the difference between that and the current
// print, so it must know it exactly. It does when the container runs the
// image whose record is settled (the record's stored files), or when its
// sync mark names a print this process synced (kept in memory, files and
// all) or the print the current record was built from. Anything else is
// unknown, and the change rebuilds.

// base is what one container holds.
type base struct {
	Sum     string
	Parts   fingerprint.Parts
	Files   map[string]fingerprint.FileSum
	Removed []string // container paths earlier syncs removed (its mark's)
}

// heldPrints keeps the prints this process synced into containers, by container
// ID: the files behind a sync mark's Sum, which the mark does not store.
// Shared by the scheduler's workers.
type heldPrints struct {
	mu     sync.Mutex
	prints map[string]*fingerprint.Print
	// recent are the last prints each service's decisions were taken
	// from, newest last: the print a record was built from is usually one,
	// so the first sync after a start need not read the record's stored
	// files (about 110 ms at 50,000 files).
	recent map[string][]*fingerprint.Print
}

// keepRecent bounds recent per service: the print before a save and the
// one after it.
const keepRecent = 2

// remember notes a print a decision is taken from.
func (h *heldPrints) remember(service string, p *fingerprint.Print) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.recent == nil {
		h.recent = map[string][]*fingerprint.Print{}
	}
	list := h.recent[service]
	if n := len(list); n > 0 && list[n-1].Sum == p.Sum && list[n-1].Parts == p.Parts {
		list[n-1] = p
		return
	}
	if len(list) == keepRecent {
		list = append(list[:0:0], list[1:]...)
	}
	h.recent[service] = append(list, p)
}

// recorded is a remembered print of service equal to what rec was built
// from (Sum, and the bind mounts that make files live), nil when none.
func (h *heldPrints) recorded(service string, rec *fingerprint.Record) *fingerprint.Print {
	if rec == nil {
		return nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, p := range h.recent[service] {
		if p.Sum == rec.Fingerprint && p.Parts.Mounts == rec.Parts.Mounts {
			return p
		}
	}
	return nil
}

func (h *heldPrints) get(id string) *fingerprint.Print {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.prints[id]
}

func (h *heldPrints) set(id string, p *fingerprint.Print) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.prints == nil {
		h.prints = map[string]*fingerprint.Print{}
	}
	if p == nil {
		delete(h.prints, id)
		return
	}
	h.prints[id] = p
}

// baseOf says what container c holds, or why that is not known. rec is the
// record of the image's build service and files loads its stored files.
func baseOf(c docker.Container, rec *fingerprint.Record, marks map[string]fingerprint.SyncMark,
	h *heldPrints, files func() (map[string]fingerprint.FileSum, error)) (base, string, error) {
	// recorded: the container holds what the record's build was from.
	recorded := func(b base) (base, string, error) {
		fs, err := files()
		if err != nil || fs == nil {
			return base{}, "the files of the last build are not stored", err
		}
		b.Files = fs
		return b, "", nil
	}
	settled := rec != nil && rec.Unsettled == ""
	m, marked := marks[c.ID]
	switch {
	case !marked && settled && c.ImageID == rec.ImageID:
		return recorded(base{Sum: rec.Fingerprint, Parts: rec.Parts})
	case !marked:
		return base{}, "what container " + c.Name + " holds is not known from a record", nil
	}
	if p := h.get(c.ID); p != nil && p.Sum == m.Sum {
		return base{Sum: m.Sum, Parts: m.Parts, Files: p.Files, Removed: m.Removed}, "", nil
	}
	if settled && m.Sum == rec.Fingerprint {
		return recorded(base{Sum: m.Sum, Parts: m.Parts, Removed: m.Removed})
	}
	return base{}, "container " + c.Name + " holds synced files this rebuildd did not sync", nil
}

// sameDefinition reports whether a and b differ in source files alone
// (and which bind mounts make them live): a sync changes nothing else.
func sameDefinition(a, b fingerprint.Parts) string {
	if ch := partChanges(a, b); len(ch) > 0 { // the build definition: what the decision names too
		return ch[0].text
	}
	switch {
	case a.Deps != b.Deps:
		return "deps files changed"
	case a.Mounts != b.Mounts:
		return "the bind mounts or on_source changed"
	}
	return ""
}

// fileDiff is what a sync must copy or remove to take a container from
// its base to the current print: context-relative slash paths.
type fileDiff struct {
	Put, Removed []string
	NewDirs      []string // directories of Put files that hold no file of the base, shallowest first
}

// diffFiles compares the base's files with the current print's. A live
// file (a bind mount delivers it) is skipped: the container already sees
// it. A deps file that differs makes no diff at all (why says so).
//
// It looks up every file of the context, so the usual save costs one
// pass, not three: when every file of old is also in cur none was
// removed, and when every file put is in old no directory is new
// (BenchmarkDiffFiles50k: 29 ms for three passes on this project's 2-core
// machine, 8 ms for one; bench row 7).
func diffFiles(old, cur map[string]fingerprint.FileSum) (fileDiff, string) {
	var d fileDiff
	kept, added := 0, false // kept: files of cur that old has too
	for rel, f := range cur {
		o, ok := old[rel]
		if ok {
			kept++
		}
		if ok && o.Sum == f.Sum {
			continue
		}
		if f.Impact != dockerfile.ImpactSource || (ok && o.Impact != dockerfile.ImpactSource) {
			return fileDiff{}, rel + " is a deps file"
		}
		if f.Live {
			continue
		}
		d.Put = append(d.Put, rel)
		added = added || !ok
	}
	for rel, o := range old {
		if kept == len(old) {
			break // every file of old is in cur: none was removed
		}
		if _, ok := cur[rel]; ok {
			continue
		}
		if o.Impact != dockerfile.ImpactSource {
			return fileDiff{}, rel + " is a deps file"
		}
		if !o.Live {
			d.Removed = append(d.Removed, rel)
		}
	}
	sort.Strings(d.Put)
	sort.Strings(d.Removed)
	if added { // else every file put is one old has, in a directory old has
		d.NewDirs = newDirs(old, d.Put)
	}
	return d, ""
}

// newDirs are the directories of added files that no file of old is in:
// they are new, and get the owner and mode the image would give them.
func newDirs(old map[string]fingerprint.FileSum, added []string) []string {
	had := map[string]bool{}
	for rel := range old {
		for d := path.Dir(rel); d != "."; d = path.Dir(d) {
			if had[d] {
				break
			}
			had[d] = true
		}
	}
	seen := map[string]bool{}
	var out []string
	for _, rel := range added {
		for d := path.Dir(rel); d != "." && !had[d] && !seen[d]; d = path.Dir(d) {
			seen[d] = true
			out = append(out, d)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if a, b := strings.Count(out[i], "/"), strings.Count(out[j], "/"); a != b {
			return a < b
		}
		return out[i] < out[j]
	})
	return out
}

// prints is the reconciler's Prints in watch mode: the live prints, each
// remembered for the next sync's base (heldPrints.recent).
func (d *Daemon) prints(ctx context.Context, src fingerprint.Source) (*fingerprint.Print, error) {
	p, err := d.live.Print(ctx, src)
	if err == nil && p != nil {
		d.copied.remember(src.Service, p)
	}
	return p, err
}
