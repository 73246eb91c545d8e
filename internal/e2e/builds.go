package e2e

import (
	"sort"
	"strings"
	"time"
)

// Builds counts the builds of the project's images since since, as the
// engine saw them, with either builder:
//
//   - classic builder (Compose v1 here): every "tag" event counts, so a
//     build command whose steps all came from the cache counts too;
//   - BuildKit (Compose v2 here): Engine 20.10 emits no event for a BuildKit
//     build, so a build counts when it produced an image created after
//     since. A BuildKit build that changed nothing (same image ID) is
//     invisible to the engine and does not count.
//
// So "no build ran" is checked exactly only under v1; under v2 it means "no
// new image". Name images "<p.Name>-..." when a test sets image:.
func (p *Project) Builds(since time.Time) int {
	p.t.Helper()
	events := p.Events(since)
	tagged := map[string]bool{}
	for _, e := range events {
		if e.Type == "image" && e.Action == "tag" {
			tagged[e.ID] = true
		}
	}
	n := events.Tags()
	for _, id := range p.NewImages(since) {
		if !tagged[id] {
			n++
		}
	}
	return n
}

// NewImages returns the IDs of the project's images (tagged or left
// dangling by a rebuild) created after since, sorted. An image belongs to
// the project when it carries the project's Compose label (v2 labels what
// it builds) or was tagged under the project's name (v1 labels nothing).
func (p *Project) NewImages(since time.Time) []string {
	p.t.Helper()
	out, err := TryDocker("image", "ls", "-a", "-q", "--no-trunc", "--filter", "label=com.docker.compose.project="+p.Name)
	if err != nil {
		p.t.Fatalf("e2e: %v", err)
	}
	ids := strings.Fields(out)
	for _, e := range p.Events(p.created) {
		if e.Type == "image" && e.Action == "tag" {
			ids = append(ids, e.ID)
		}
	}
	var fresh []string
	for _, id := range uniq(ids) {
		if created, ok := imageCreated(id); ok && created.After(since) {
			fresh = append(fresh, id)
		}
	}
	sort.Strings(fresh)
	return fresh
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
