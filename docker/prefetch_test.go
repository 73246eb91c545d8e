package docker

import (
	"context"
	"io"
	"sync"
	"testing"
	"time"
)

// countingEngine counts the queries that reach the engine.
type countingEngine struct {
	*FakeEngine
	mu             sync.Mutex
	lists, inspect int
}

func (c *countingEngine) Containers(ctx context.Context, project string) ([]Container, error) {
	c.mu.Lock()
	c.lists++
	c.mu.Unlock()
	return c.FakeEngine.Containers(ctx, project)
}

func (c *countingEngine) Image(ctx context.Context, ref string) (*Image, error) {
	c.mu.Lock()
	c.inspect++
	c.mu.Unlock()
	return c.FakeEngine.Image(ctx, ref)
}

func (c *countingEngine) counts() (int, int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lists, c.inspect
}

type prefetchRig struct {
	eng   *countingEngine
	p     *Prefetch
	clock time.Time
}

func newPrefetchRig() *prefetchRig {
	r := &prefetchRig{eng: &countingEngine{FakeEngine: NewFakeEngine()}, clock: time.Unix(1_800_000_000, 0)}
	r.eng.SetImage("proj-api", "sha256:one")
	r.p = NewPrefetch(r.eng, func() time.Time { return r.clock })
	return r
}

func (r *prefetchRig) query(t *testing.T) *Image {
	t.Helper()
	ctx := context.Background()
	if _, err := r.p.Containers(ctx, "proj"); err != nil {
		t.Fatal(err)
	}
	img, err := r.p.Image(ctx, "proj-api")
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// A prefetched answer serves one query; the next one asks the engine.
func TestPrefetchAnswersOnce(t *testing.T) {
	r := newPrefetchRig()
	r.p.Start("proj", []string{"proj-api"})
	if img := r.query(t); img == nil || img.ID != "sha256:one" {
		t.Fatalf("prefetched image %v", img)
	}
	if l, i := r.eng.counts(); l != 1 || i != 1 {
		t.Fatalf("engine asked %d lists, %d inspects for one Prefetch; want 1, 1", l, i)
	}
	r.query(t)
	if l, i := r.eng.counts(); l != 2 || i != 2 {
		t.Errorf("a second query was answered from the Prefetch: %d lists, %d inspects", l, i)
	}
}

// Anything rebuildd runs (a build, an up) makes the answers unusable, as
// does their age; the engine is asked again.
func TestPrefetchForgetsAndAges(t *testing.T) {
	for _, tc := range []struct {
		name   string
		before func(r *prefetchRig)
	}{
		{"a build ran", func(r *prefetchRig) {
			run := forgetful{Runner: NewFakeRunner(r.eng.FakeEngine, map[string]string{"api": "proj-api"}, func() time.Time { return r.clock }), p: r.p}
			if err := run.Build(context.Background(), "api", io.Discard); err != nil {
				panic(err)
			}
		}},
		{"too old", func(r *prefetchRig) { r.clock = r.clock.Add(prefetchFresh + time.Millisecond) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newPrefetchRig()
			r.p.Start("proj", []string{"proj-api"})
			<-r.p.containers["proj"].done // the round's queries have reached the engine
			<-r.p.images["proj-api"].done
			tc.before(r)
			img := r.query(t)
			if l, i := r.eng.counts(); l != 2 || i != 2 {
				t.Errorf("engine asked %d lists, %d inspects; want the Prefetch's and one more of each", l, i)
			}
			if want, _ := r.eng.FakeEngine.Image(context.Background(), "proj-api"); img.ID != want.ID {
				t.Errorf("image %s, the engine has %s", img.ID, want.ID)
			}
		})
	}
}

// Changes keep coming during a checkout: one round of queries per
// prefetchEvery, not one per change.
func TestPrefetchThrottled(t *testing.T) {
	r := newPrefetchRig()
	r.p.Start("proj", []string{"proj-api"})
	r.p.Start("proj", []string{"proj-api"})
	r.query(t) // waits for the round's answers
	if l, _ := r.eng.counts(); l != 1 {
		t.Errorf("two starts within %v ran %d rounds", prefetchEvery, l)
	}
	r.clock = r.clock.Add(prefetchEvery)
	r.p.Start("proj", []string{"proj-api"})
	r.query(t)
	if l, _ := r.eng.counts(); l != 2 {
		t.Errorf("a start %v later ran no round (%d lists)", prefetchEvery, l)
	}
}
