package docker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"
)

// FakeEngine is an in-memory Engine for tests here and in other packages.
// FakeRunner changes it the way a real build and recreate change an engine.
type FakeEngine struct {
	mu     sync.Mutex
	Images map[string]*Image // tag -> image
	List   []Container
	Waited []string              // container IDs passed to Wait, in order
	WaitFn func(id string) error // nil: every container is ready at once
	Err    error                 // returned by every call when set (engine down)
}

// NewFakeEngine returns an engine with no images and no containers.
func NewFakeEngine() *FakeEngine {
	return &FakeEngine{Images: map[string]*Image{}}
}

// Image implements Engine.
func (e *FakeEngine) Image(_ context.Context, ref string) (*Image, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.Err != nil {
		return nil, e.Err
	}
	img := e.Images[strings.TrimSuffix(ref, ":latest")]
	if img == nil {
		return nil, nil
	}
	cp := *img
	return &cp, nil
}

// Containers implements Engine; the fake holds one project.
func (e *FakeEngine) Containers(context.Context, string) ([]Container, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.Err != nil {
		return nil, e.Err
	}
	return append([]Container(nil), e.List...), nil
}

// Wait implements Engine.
func (e *FakeEngine) Wait(_ context.Context, id string, _ time.Duration) error {
	e.mu.Lock()
	e.Waited = append(e.Waited, id)
	fn := e.WaitFn
	e.mu.Unlock()
	if fn != nil {
		return fn(id)
	}
	return nil
}

// SetImage puts an image under tag.
func (e *FakeEngine) SetImage(tag, id string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.Images[tag] = &Image{ID: id}
}

// Run replaces the containers of service with one running imageID.
func (e *FakeEngine) Run(service, imageID string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	kept := e.List[:0]
	for _, c := range e.List {
		if c.Service != service {
			kept = append(kept, c)
		}
	}
	id := fmt.Sprintf("c-%s-%d", service, len(e.Waited)+len(kept)+1)
	e.List = append(kept, Container{ID: id, Name: service + "-1", Service: service, ImageID: imageID, State: "running"})
}

// FakeRunner is a Runner that records its calls and acts on a FakeEngine:
// a build puts a new image under the service's tag, an up runs it.
type FakeRunner struct {
	mu      sync.Mutex
	Engine  *FakeEngine
	Tags    map[string]string // service -> tag (every service the test ups)
	Now     func() time.Time  // the created time of built images
	SameID  map[string]bool   // service -> its build reproduces the current image ID
	Fail    map[string]string // service -> output of a failing build
	FailUp  error             // returned by Up when set
	Calls   []string          // "build api", "up api web", "up -V api"
	builds  int
	Flavor1 bool // v1 image names
}

// NewFakeRunner returns a runner acting on engine.
func NewFakeRunner(engine *FakeEngine, tags map[string]string, now func() time.Time) *FakeRunner {
	return &FakeRunner{Engine: engine, Tags: tags, Now: now, SameID: map[string]bool{}, Fail: map[string]string{}}
}

// Build implements Runner.
func (r *FakeRunner) Build(_ context.Context, service string, out io.Writer) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Calls = append(r.Calls, "build "+service)
	if msg, ok := r.Fail[service]; ok {
		io.WriteString(out, msg)
		return errors.New("exit status 1")
	}
	fmt.Fprintf(out, "built %s\n", service)
	tag := r.Tags[service]
	if r.SameID[service] {
		return nil
	}
	r.builds++
	r.Engine.SetImage(tag, fmt.Sprintf("sha256:built-%s-%d", service, r.builds))
	return nil
}

// Up implements Runner.
func (r *FakeRunner) Up(_ context.Context, services []string, renewAnon bool, _ io.Writer) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	call := "up"
	if renewAnon {
		call += " -V"
	}
	sorted := append([]string(nil), services...)
	sort.Strings(sorted)
	r.Calls = append(r.Calls, call+" "+strings.Join(sorted, " "))
	if r.FailUp != nil {
		return r.FailUp
	}
	for _, s := range services {
		img, _ := r.Engine.Image(context.Background(), r.Tags[s])
		if img != nil {
			r.Engine.Run(s, img.ID)
		}
	}
	return nil
}

// ImageName implements Runner.
func (r *FakeRunner) ImageName(project, service string) string {
	if r.Flavor1 {
		return project + "_" + service
	}
	return project + "-" + service
}

// TakeCalls returns the calls so far and forgets them.
func (r *FakeRunner) TakeCalls() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	calls := r.Calls
	r.Calls = nil
	return calls
}

// CallLog returns the calls so far.
func (r *FakeRunner) CallLog() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.Calls...)
}
