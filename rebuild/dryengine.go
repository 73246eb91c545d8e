package rebuild

import (
	"context"
	"sync"

	"github.com/rebuildd/rebuildd/docker"
)

// dryEngine is the engine as a watch-mode dry run pretends it is after
// the builds and recreates it only said it would run: a pretended image
// under each tag it "built", and the services it "recreated" running the
// tag's image. Without it every later decision would find the image still
// missing, or the container still old, and say "would rebuild" again for
// a touch (docs/design.md, "One decision": dry runs decide as real ones).
type dryEngine struct {
	docker.Engine

	mu     sync.Mutex
	images map[string]*docker.Image // normalised tag -> pretended image
	runs   map[string]string        // service -> the image ID it pretends to run
}

func newDryEngine(real docker.Engine) *dryEngine {
	return &dryEngine{Engine: real, images: map[string]*docker.Image{}, runs: map[string]string{}}
}

// Image implements docker.Engine.
func (e *dryEngine) Image(ctx context.Context, ref string) (*docker.Image, error) {
	e.mu.Lock()
	img, ok := e.images[normalTag(ref)]
	e.mu.Unlock()
	if ok {
		cp := *img
		return &cp, nil
	}
	return e.Engine.Image(ctx, ref)
}

// Containers implements docker.Engine: a service the dry run recreated
// has one running container of the image it would have run.
func (e *dryEngine) Containers(ctx context.Context, project string) ([]docker.Container, error) {
	list, err := e.Engine.Containers(ctx, project)
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	out := list[:0:0]
	has := map[string]bool{}
	for _, c := range list {
		if id, pretended := e.runs[c.Service]; pretended {
			// The recreated container keeps the real one's ID, so a live
			// update planned for it asks a container the engine knows
			// (its files are the old image's: what a dry run can see).
			c.ImageID, c.State, c.ExitCode = id, "running", 0
			has[c.Service] = true
		}
		out = append(out, c)
	}
	for svc, id := range e.runs {
		if !has[svc] {
			out = append(out, docker.Container{ID: "dry-run-" + svc, Name: svc + " (dry run)", Service: svc, ImageID: id, State: "running"})
		}
	}
	return out, nil
}

// built pretends tag now holds a new image, and returns its ID.
func (e *dryEngine) built(tag, sum string) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	id := "dry-run:" + sum
	e.images[normalTag(tag)] = &docker.Image{ID: id}
	return id
}

// ran pretends service now runs imageID.
func (e *dryEngine) ran(service, imageID string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.runs[service] = imageID
}
