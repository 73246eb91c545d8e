package docker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
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

	// Volumes: the fake runs one container per service, and a plain up
	// keeps its volumes the way compose carries them over to the new one.
	Vols       map[string][]FakeVolume // service -> the volumes its container mounts
	Declared   map[string][]string     // image tag -> the paths its images declare with VOLUME
	Filled     map[string][]string     // image tag -> the paths where its images have files
	RefreshErr error                   // returned by RefreshVolume when set
	LookErr    error                   // returned by Populated when set (a probe that failed)
	Stopped    []string                // containers StopContainer stopped, in order
	Refreshed  []string                // "volume path" per RefreshVolume, in order
	renewed    int

	fakeLive // live update: containers' files, Inspect answers (fake_live.go)
}

// FakeVolume is a volume mounted in a fake service's container.
type FakeVolume struct {
	Name string
	Path string
	Anon bool   // anonymous: up -V gives the container a new one
	Data string // what it holds: "image <id>" when filled from an image, else what the test says
}

// NewFakeEngine returns an engine with no images and no containers.
func NewFakeEngine() *FakeEngine {
	e := &FakeEngine{Images: map[string]*Image{}, Vols: map[string][]FakeVolume{},
		Declared: map[string][]string{}, Filled: map[string][]string{}}
	e.liveInit()
	return e
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
			if renewAnon {
				r.Engine.renew(s, r.Tags[s], img.ID)
			}
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

// Mounts implements Volumes.
func (e *FakeEngine) Mounts(_ context.Context, id string) ([]Mount, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.Err != nil {
		return nil, e.Err
	}
	for _, c := range e.List {
		if c.ID != id {
			continue
		}
		var out []Mount
		for _, v := range e.Vols[c.Service] {
			out = append(out, Mount{Volume: v.Name, Path: v.Path})
		}
		return out, nil
	}
	return nil, fmt.Errorf("inspect container %q: no such container", id)
}

// ImageVolumes implements Volumes.
func (e *FakeEngine) ImageVolumes(_ context.Context, image string) ([]string, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.Err != nil {
		return nil, e.Err
	}
	return append([]string(nil), e.Declared[e.tagOf(image)]...), nil
}

// Populated implements Volumes.
func (e *FakeEngine) Populated(_ context.Context, _, image string, paths []string) (map[string]bool, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.Err != nil {
		return nil, e.Err
	}
	if e.LookErr != nil {
		return nil, e.LookErr
	}
	out := map[string]bool{}
	for _, p := range paths {
		out[p] = slices.Contains(e.Filled[e.tagOf(image)], p)
	}
	return out, nil
}

// StopContainer implements Volumes.
func (e *FakeEngine) StopContainer(_ context.Context, id string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.Err != nil {
		return e.Err
	}
	e.Stopped = append(e.Stopped, id)
	for i := range e.List {
		if e.List[i].ID == id {
			e.List[i].State = "exited"
		}
	}
	return nil
}

// RefreshVolume implements Volumes: the volume then holds the image.
func (e *FakeEngine) RefreshVolume(_ context.Context, _, image, volume, path string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.Err != nil {
		return e.Err
	}
	if e.RefreshErr != nil {
		return e.RefreshErr
	}
	e.Refreshed = append(e.Refreshed, volume+" "+path)
	for _, vs := range e.Vols {
		for i := range vs {
			if vs[i].Name == volume {
				vs[i].Data = "image " + image
			}
		}
	}
	return nil
}

// Volume returns the named volume; false when no container mounts it.
func (e *FakeEngine) Volume(name string) (FakeVolume, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, vs := range e.Vols {
		for _, v := range vs {
			if v.Name == name {
				return v, true
			}
		}
	}
	return FakeVolume{}, false
}

// renew gives a service's container new anonymous volumes, as up -V does:
// filled from the image where it has files, else empty.
func (e *FakeEngine) renew(service, tag, imageID string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for i, v := range e.Vols[service] {
		if !v.Anon {
			continue
		}
		e.renewed++
		v.Name, v.Data = fmt.Sprintf("anon-%d", e.renewed), ""
		if slices.Contains(e.Filled[tag], v.Path) {
			v.Data = "image " + imageID
		}
		e.Vols[service][i] = v
	}
}

// tagOf is the tag whose image has the ID; the fake's rules are by tag.
func (e *FakeEngine) tagOf(id string) string {
	for tag, img := range e.Images {
		if img.ID == id {
			return tag
		}
	}
	return ""
}
