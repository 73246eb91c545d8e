package e2e

import (
	"sort"
	"strings"
	"sync"
	"time"
)

// Counting builds needs care because the two builders leave different
// traces in Engine 20.10:
//
//   - the classic builder (Compose v1 here) emits an image "tag" event for
//     every build command, cache hits included;
//   - BuildKit (Compose v2 here) emits no event at all, sets no LastTagTime,
//     and gives the image the Created time of its newest layer, which comes
//     from BuildKit's cache, shared by every project on the engine: a build
//     whose layers were built before (by an earlier run of the same test,
//     say) makes an image "created" long ago.
//
// So for BuildKit the only trace is an image ID the project did not have
// before, and that needs a snapshot of the project's images: Mark.

// marks holds the snapshots Mark took, oldest first.
type marks struct {
	mu   sync.Mutex
	list []mark
}

type mark struct {
	at  time.Time
	ids map[string]bool
}

// Mark snapshots the project's images and returns the time to count from:
// pass it to Events and Builds. Take it right before the action whose
// builds are to be counted, with nothing else building the project.
func (p *Project) Mark() time.Time {
	p.t.Helper()
	p.ensureBases() // Mark comes right before an action that may build
	ids := map[string]bool{}
	for _, id := range p.imageIDs(p.Events(p.created)) {
		ids[id] = true
	}
	at := time.Now()
	p.marks.mu.Lock()
	p.marks.list = append(p.marks.list, mark{at: at, ids: ids})
	p.marks.mu.Unlock()
	return at
}

// markAt returns the snapshot Mark took at exactly since.
func (p *Project) markAt(since time.Time) (map[string]bool, bool) {
	p.marks.mu.Lock()
	defer p.marks.mu.Unlock()
	for _, m := range p.marks.list {
		if m.at.Equal(since) {
			return m.ids, true
		}
	}
	return nil, false
}

// Builds counts the builds of the project's images since since (best taken
// with Mark) as the engine saw them: the classic builder's "tag" events
// (cached builds count) plus the images no tag event named that the project
// did not have at the mark (BuildKit: builds that made an image new to the
// project; a BuildKit build that changed nothing is invisible to the engine).
// So "no build ran at all" is checked exactly under v1 only.
//
// With a since that Mark did not return, "new" falls back to "Created after
// since", which misses BuildKit builds whose layers all came from the cache.
func (p *Project) Builds(since time.Time) int {
	p.t.Helper()
	all := p.Events(p.created) // one barrier for both uses below
	events := all.Filter(func(e Event) bool { return !e.Time.Before(since) })
	tagged := map[string]bool{}
	for _, e := range events {
		if e.Type == "image" && e.Action == "tag" {
			tagged[e.ID] = true
		}
	}
	n := events.Tags()
	for _, id := range p.newImages(since, p.imageIDs(all)) {
		if !tagged[id] {
			n++
		}
	}
	return n
}

// NewImages returns, sorted, the IDs of the project's images (tagged or
// left dangling by a rebuild) that appeared since since: absent from the
// snapshot when Mark returned since, else created after since.
func (p *Project) NewImages(since time.Time) []string {
	p.t.Helper()
	return p.newImages(since, p.imageIDs(p.Events(p.created)))
}

func (p *Project) newImages(since time.Time, ids []string) []string {
	before, marked := p.markAt(since)
	var fresh []string
	for _, id := range ids {
		if marked && !before[id] {
			fresh = append(fresh, id)
		} else if created, ok := imageCreated(id); !marked && ok && created.After(since) {
			fresh = append(fresh, id)
		}
	}
	sort.Strings(fresh)
	return fresh
}

// imageIDs lists the project's images: those that exist with its Compose
// label (v2 labels what it builds, and the label makes the ID unique to the
// project), those that exist tagged under its name in events (v1 labels
// nothing), and those its containers were created from (createdFrom).
func (p *Project) imageIDs(events Events) []string {
	p.t.Helper()
	out, err := TryDocker("image", "ls", "-a", "-q", "--no-trunc", "--filter", "label=com.docker.compose.project="+p.Name)
	if err != nil {
		p.t.Fatalf("e2e: %v", err)
	}
	ids := strings.Fields(out)
	var tagged []string
	for _, e := range events {
		if e.Type == "image" && e.Action == "tag" {
			tagged = append(tagged, e.ID)
		}
	}
	return uniq(append(append(ids, existingImages(uniq(tagged))...), createdFrom(events, p.Name)...))
}

// createdFrom lists the IDs of the project's images its containers were
// created from, as Compose v2 labels each container
// (com.docker.compose.image), whether the image still exists or not. A
// BuildKit build leaves no other trace, and `docker image prune` removes
// an image a rebuild superseded as soon as its container is replaced: a
// count of the images that exist would then miss that build.
func createdFrom(events Events, project string) []string {
	var ids []string
	for _, e := range events {
		id := e.Attributes["com.docker.compose.image"]
		if e.Type == "container" && e.Action == "create" && strings.HasPrefix(id, "sha256:") &&
			strings.HasPrefix(e.Attributes["image"], project) {
			ids = append(ids, id)
		}
	}
	return uniq(ids)
}

// existingImages returns those of ids that still exist, asking the engine
// once: inspect prints the IDs it found and fails for the rest.
func existingImages(ids []string) []string {
	if len(ids) == 0 {
		return nil
	}
	out, _ := TryDocker(append([]string{"image", "inspect", "--format", "{{.Id}}"}, ids...)...)
	var found []string
	for _, line := range strings.Split(out, "\n") {
		if line = strings.TrimSpace(line); strings.HasPrefix(line, "sha256:") {
			found = append(found, line)
		}
	}
	return found
}

// imageCreated is the image's creation time; false when the image is gone.
func imageCreated(id string) (time.Time, bool) {
	out, err := TryDocker("image", "inspect", "--format", "{{.Created}}", id)
	if err != nil {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(out))
	return t, err == nil
}
