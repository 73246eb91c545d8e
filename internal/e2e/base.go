package e2e

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
)

// Each test builds FROM a base image of its own, which nothing others do
// can take away (BaseImage); this file makes, guards and removes them. The
// machine's shared base image they are copied from is made in image.go.

// Labels on a test's own base image and on the container that keeps it.
const (
	labelBase   = "org.rebuildd.test.base"   // on a test's base: the test's name
	labelAnchor = "org.rebuildd.test.anchor" // on the container keeping a base: its tag
	labelPID    = "org.rebuildd.test.pid"    // on that container: the test process, host:pid
)

// BaseImage returns the tag of a base image of t's own for its Dockerfiles
// to build FROM, and removes it when t ends. Nothing another test, package
// or person does to other images can take it away:
//
//   - It has its own image ID (a copy of BaseImageTag with a label naming
//     the test), so the classic builder's cache, which looks up every child
//     of the parent image, sees only this test's builds; with one shared
//     parent, another package's cleanup removed an intermediate image that
//     a concurrent build had just listed or taken from the cache ("unable
//     to find image sha256:...").
//   - A created (never started) container uses it, so `docker image rm`
//     without -f and `docker image prune -a` refuse to remove it.
//   - Its tag is checked just before use (NewProject, Mark, and compose
//     commands that build) and restored when someone removed it with -f,
//     which a container that never runs does not stop: the tag put back on
//     the image when only the tag went, the image made again otherwise.
//
// It fails the test when busybox-static is not installed. Call Require
// first.
func BaseImage(t testing.TB) string {
	t.Helper()
	b, err := newBase(t.Name())
	if err != nil {
		t.Fatalf("e2e: base image: %v", Classify(err))
	}
	t.Cleanup(func() { bases.remove(b) })
	return b.tag
}

// base is one test's own base image.
type base struct {
	tag    string // BaseRepository:t-<hex>
	id     string // its image ID when made
	anchor string // the container that keeps it
	test   string
}

// bases are the live base images of this test binary, so a check before
// use can restore each one.
var bases = &baseSet{live: map[string]*base{}}

type baseSet struct {
	mu       sync.Mutex
	live     map[string]*base // tag -> base
	restored []string         // what ensure had to restore, for environment reports
}

// newBase makes a base image for test under a fresh tag and registers it
// for ensureBases.
func newBase(test string) (*base, error) {
	sweepStaleAnchors()
	b, err := makeBase(BaseRepository+":t-"+randomHex(6), test)
	if err != nil {
		return nil, err
	}
	bases.mu.Lock()
	bases.live[b.tag] = b
	bases.mu.Unlock()
	return b, nil
}

// makeBase copies the shared base image into tag and creates the
// container that keeps it. Both steps race others' cleanups: the shared
// image may vanish before the copy, and the copy, tagged but not yet
// anchored, may be removed before the anchor is made. Each is retried
// from the start.
func makeBase(tag, test string) (*base, error) {
	b := &base{tag: tag, test: test}
	var err error
	for attempt := 0; attempt < baseAttempts; attempt++ {
		if err = ensureBaseImage(); err != nil {
			continue
		}
		if b.id, err = copyImage(BaseImageTag, tag, labelBase+"="+test); err != nil {
			continue
		}
		if b.anchor, err = anchorImage(tag); err == nil {
			return b, nil
		}
		TryDocker("image", "rm", tag)
	}
	return nil, err
}

// baseAttempts bounds the retries of newBase: each failure means someone
// removed the shared image between our check and our use of it, which
// takes a cleanup racing ours; three in a row is a machine deleting images
// in a loop, reported as such (Classify).
const baseAttempts = 3

// copyImage commits a container of src as dst with one more label and
// returns dst's ID: an image with content and config of src but an ID of
// its own.
func copyImage(src, dst, label string) (string, error) {
	ctr, err := TryDocker("create", "--label", labelPID+"="+pidLabel(), src)
	if err != nil {
		return "", err
	}
	ctr = strings.TrimSpace(ctr)
	defer TryDocker("rm", "-f", ctr)
	id, err := TryDocker("commit", "--change", "LABEL "+label, ctr, dst)
	return strings.TrimSpace(id), err
}

// anchorImage creates a container that never runs from ref: while it
// exists, the engine refuses to remove the image without -f, and prune
// leaves it alone.
func anchorImage(ref string) (string, error) {
	out, err := TryDocker("create", "--label", labelAnchor+"="+ref, "--label", labelPID+"="+pidLabel(), ref)
	return strings.TrimSpace(out), err
}

// KeepImage protects an image a test made (ref) from removal by others
// until the test ends, as BaseImage does for base images; the test still
// removes the image itself.
func KeepImage(t testing.TB, ref string) {
	t.Helper()
	anchor, err := anchorImage(ref)
	if err != nil {
		t.Fatalf("e2e: keep image %s: %v", ref, Classify(err))
	}
	t.Cleanup(func() { TryDocker("rm", "-f", anchor) })
}

// remove deletes a test's base image when the test ends. Images the test
// built FROM it are gone by then (their projects' cleanups run first); if
// one is left, rm only untags the base, and the engine removes it with its
// last child.
func (s *baseSet) remove(b *base) {
	s.mu.Lock()
	delete(s.live, b.tag)
	s.mu.Unlock()
	TryDocker("rm", "-f", b.anchor)
	TryDocker("image", "rm", b.tag)
}

// ensureBases checks, just before use, that every live base image of this
// binary still has its tag, restoring what someone removed: the tag when
// only it went (an rmi of one of the image's several tags), the image when
// that went too (rmi -f). It returns what it restored, for the log.
func ensureBases() ([]string, error) {
	bases.mu.Lock()
	defer bases.mu.Unlock()
	if len(bases.live) == 0 {
		return nil, nil
	}
	var tags []string
	for tag := range bases.live {
		tags = append(tags, tag)
	}
	found := map[string]bool{}
	out, _ := TryDocker(append([]string{"image", "inspect", "--format", "{{.Id}}"}, tags...)...)
	for _, id := range strings.Fields(out) {
		found[id] = true
	}
	var restored []string
	for _, tag := range tags {
		b := bases.live[tag]
		if found[b.id] {
			continue // one inspect for all: the common case
		}
		id, err := TryDocker("image", "inspect", "--format", "{{.Id}}", tag)
		id = strings.TrimSpace(id)
		switch {
		case err == nil && id == b.id:
			continue
		case err != nil && !strings.Contains(strings.ToLower(err.Error()), "no such image"):
			return restored, err // the engine, not the image: nothing to restore
		}
		what := "gone"
		if err == nil {
			what = "on another image " + shortID(id)
		}
		if err := restoreBase(b); err != nil {
			return restored, err
		}
		restored = append(restored, tag+" ("+what+")")
	}
	bases.restored = append(bases.restored, restored...)
	return restored, nil
}

// restoreBase puts b's tag back on its image, or makes the image again.
func restoreBase(b *base) error {
	if _, err := TryDocker("tag", b.id, b.tag); err == nil {
		return nil
	}
	TryDocker("rm", "-f", b.anchor)
	nb, err := makeBase(b.tag, b.test)
	if err != nil {
		return err
	}
	b.id, b.anchor = nb.id, nb.anchor
	return nil
}

func imageIDOf(ref string) string {
	out, err := TryDocker("image", "inspect", "--format", "{{.Id}}", ref)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(out)
}

// pidLabel names this test process: host:pid.
func pidLabel() string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%s:%d", host, os.Getpid())
}

var sweepOnce sync.Once

// sweepStaleAnchors removes, once per test binary, the base images and
// anchors that test processes on this host left when they were killed
// before their cleanup ran (a go test timeout, ^C).
func sweepStaleAnchors() {
	sweepOnce.Do(func() {
		host, _ := os.Hostname()
		out, err := TryDocker("ps", "-a", "--filter", "label="+labelPID, "--format",
			"{{.ID}}\t{{.Label \""+labelPID+"\"}}\t{{.Label \""+labelAnchor+"\"}}")
		if err != nil {
			return
		}
		for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
			f := strings.Split(line, "\t")
			if len(f) != 3 {
				continue
			}
			h, pid, ok := strings.Cut(f[1], ":")
			n, err := strconv.Atoi(pid)
			if !ok || err != nil || h != host || processAlive(n) {
				continue
			}
			TryDocker("rm", "-f", f[0])
			if strings.HasPrefix(f[2], BaseRepository+":t-") {
				TryDocker("image", "rm", f[2])
			}
		}
	})
}

func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
