package docker

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"strings"
)

// FakeFile is one path in a fake container's file system.
type FakeFile struct {
	Mode     fs.FileMode
	UID, GID int
	Content  string
	Link     string
}

// fakeLive is the Live part of FakeEngine (guarded by its mu).
type fakeLive struct {
	LiveOf   map[string]LiveContainer       // container ID -> what Inspect says
	FS       map[string]map[string]FakeFile // container ID -> abs path -> file; a parent directory is implied
	NoRm     map[string]bool                // containers without rm
	Holds    map[string][]string            // image tag -> paths where its images have something (ImageHas)
	LiveErr  error                          // returned by every Live call when set
	PutErr   error                          // returned by Put when set
	Puts     []string                       // "<container> <path>" per entry written, in order
	Removes  []string                       // "<container> <path>" per path removed, in order
	Compared []string                       // "<image> <path>" per path ImageHas was asked about
}

func (e *FakeEngine) liveInit() {
	if e.FS == nil {
		e.LiveOf, e.FS, e.NoRm, e.Holds = map[string]LiveContainer{}, map[string]map[string]FakeFile{}, map[string]bool{}, map[string][]string{}
	}
}

// SetFile puts a file in a fake container.
func (e *FakeEngine) SetFile(id, p string, f FakeFile) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.liveInit()
	if e.FS[id] == nil {
		e.FS[id] = map[string]FakeFile{}
	}
	e.FS[id][p] = f
}

// File returns a fake container's file.
func (e *FakeEngine) File(id, p string) (FakeFile, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	f, ok := e.FS[id][p]
	return f, ok
}

// SetLive sets what Inspect says about a container.
func (e *FakeEngine) SetLive(id string, c LiveContainer) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.liveInit()
	e.LiveOf[id] = c
}

// Inspect implements Live.
func (e *FakeEngine) Inspect(_ context.Context, id string) (LiveContainer, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.liveInit()
	if err := e.liveErr(); err != nil {
		return LiveContainer{}, err
	}
	return e.LiveOf[id], nil
}

// Stat implements Live; a path with files below it is a directory.
func (e *FakeEngine) Stat(_ context.Context, id, p string) (bool, bool, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.liveInit()
	if err := e.liveErr(); err != nil {
		return false, false, err
	}
	exists, dir := e.stat(id, p)
	return exists, dir, nil
}

func (e *FakeEngine) stat(id, p string) (bool, bool) {
	if f, ok := e.FS[id][p]; ok {
		return true, f.Mode.IsDir()
	}
	for q := range e.FS[id] {
		if p == "/" || strings.HasPrefix(q, p+"/") {
			return true, true
		}
	}
	return false, false
}

// ReadFile implements Live.
func (e *FakeEngine) ReadFile(_ context.Context, id, p string, max int64) ([]byte, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.liveInit()
	if err := e.liveErr(); err != nil {
		return nil, err
	}
	f, ok := e.FS[id][p]
	if !ok || !f.Mode.IsRegular() {
		return nil, nil
	}
	b := []byte(f.Content)
	return b[:min(int64(len(b)), max)], nil
}

// Put implements Live: the tar's entries land in the container's files.
func (e *FakeEngine) Put(_ context.Context, id string, archive io.Reader) error {
	tr := tar.NewReader(archive)
	type entry struct {
		p string
		f FakeFile
	}
	var got []entry
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		body, err := io.ReadAll(tr)
		if err != nil {
			return err
		}
		f := FakeFile{Mode: h.FileInfo().Mode(), UID: h.Uid, GID: h.Gid, Content: string(body), Link: h.Linkname}
		got = append(got, entry{"/" + strings.TrimSuffix(h.Name, "/"), f})
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.liveInit()
	if err := e.liveErr(); err != nil {
		return err
	}
	if e.PutErr != nil {
		return e.PutErr
	}
	if e.FS[id] == nil {
		e.FS[id] = map[string]FakeFile{}
	}
	for _, en := range got {
		e.FS[id][en.p] = en.f
		e.Puts = append(e.Puts, id+" "+en.p)
	}
	return nil
}

// Remove implements Live.
func (e *FakeEngine) Remove(_ context.Context, id string, paths []string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.liveInit()
	if err := e.liveErr(); err != nil {
		return err
	}
	if e.NoRm[id] {
		return fmt.Errorf("remove in container %s: %w", id, ErrNoRm)
	}
	for _, p := range paths {
		for q := range e.FS[id] {
			if q == p || strings.HasPrefix(q, p+"/") {
				delete(e.FS[id], q)
			}
		}
		e.Removes = append(e.Removes, id+" "+p)
	}
	return nil
}

// ImageHas implements Live, from Holds by the image's tag.
func (e *FakeEngine) ImageHas(_ context.Context, _, image string, paths []string) (map[string]bool, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.liveInit()
	if err := e.liveErr(); err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for _, p := range paths {
		e.Compared = append(e.Compared, image+" "+p)
		out[p] = slices.ContainsFunc(e.Holds[e.tagOf(image)], func(h string) bool { return h == p || strings.HasPrefix(h, p+"/") })
	}
	return out, nil
}

func (e *FakeEngine) liveErr() error {
	if e.Err != nil {
		return e.Err
	}
	return e.LiveErr
}

// LiveCalls returns the entries Put wrote and the paths Remove removed so
// far, and forgets them.
func (e *FakeEngine) LiveCalls() (puts, removes []string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	puts, removes = e.Puts, e.Removes
	e.Puts, e.Removes = nil, nil
	return puts, removes
}

var _ Live = (*FakeEngine)(nil)
var _ Live = (*DockerEngine)(nil)
