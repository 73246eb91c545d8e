package rebuild

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"testing/synctest"

	"github.com/rebuildd/rebuildd/dockerfile"
)

// gatedWork is a Work whose calls announce themselves on started and block
// until the test releases them (or their context is cancelled).
type gatedWork struct {
	started chan Request
	release chan error
	done    chan finished
}

func newGatedWork() *gatedWork {
	return &gatedWork{started: make(chan Request), release: make(chan error), done: make(chan finished, 16)}
}

func (g *gatedWork) do(ctx context.Context, r Request) error {
	g.started <- r
	select {
	case err := <-g.release:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (g *gatedWork) observe(r Request, err error) { g.done <- finished{r, err} }

func (g *gatedWork) scheduler(t *testing.T, opts SchedulerOptions) *Scheduler {
	opts.Do, opts.Done = g.do, g.observe
	s := NewScheduler(context.Background(), opts)
	t.Cleanup(s.Close)
	return s
}

func rebuildReq(svc string, paths ...string) Request {
	return Request{Service: svc, Action: dockerfile.ActionRebuild, Paths: paths}
}

func TestChangesDuringBuildCauseExactlyOneFollowUp(t *testing.T) {
	synctest.Test(t, testChangesDuringBuild)
}

func testChangesDuringBuild(t *testing.T) {
	g := newGatedWork()
	s := g.scheduler(t, SchedulerOptions{})
	s.Submit(rebuildReq("api", "a.js"))
	first := <-g.started
	s.Submit(rebuildReq("api", "b.js"))
	s.Submit(Request{Service: "api", Action: dockerfile.ActionRestart, Paths: []string{"c.js"}})
	s.Submit(rebuildReq("api", "b.js"))
	g.release <- nil
	<-g.done
	follow := <-g.started
	g.assertNoStart(t, "a second build of a running service")
	g.release <- nil
	<-g.done
	if !reflect.DeepEqual(first.Paths, []string{"a.js"}) {
		t.Errorf("first build paths = %v", first.Paths)
	}
	if follow.Action != dockerfile.ActionRebuild || !reflect.DeepEqual(follow.Paths, []string{"b.js", "c.js"}) {
		t.Errorf("follow-up = %+v, want one rebuild of b.js and c.js", follow)
	}
	g.assertNoStart(t, "a third build")
}

// assertNoStart fails when some work starts once every goroutine of the
// bubble has settled.
func (g *gatedWork) assertNoStart(t *testing.T, why string) {
	t.Helper()
	synctest.Wait()
	select {
	case r := <-g.started:
		t.Fatalf("%s: %+v started", why, r)
	default:
	}
}

func TestParallelLimit(t *testing.T) {
	synctest.Test(t, testParallelLimit)
}

func testParallelLimit(t *testing.T) {
	g := newGatedWork()
	s := g.scheduler(t, SchedulerOptions{Parallel: 1})
	s.Submit(rebuildReq("api"))
	<-g.started
	s.Submit(rebuildReq("web"))
	g.assertNoStart(t, "the only slot is taken")
	g.release <- nil
	if f := <-g.done; f.req.Service != "api" {
		t.Fatalf("first to finish: %s", f.req.Service)
	}
	if r := <-g.started; r.Service != "web" {
		t.Fatalf("second build: %s", r.Service)
	}
	g.release <- nil
	<-g.done
}

func TestParallelTwoRunTogether(t *testing.T) {
	g := newGatedWork()
	s := g.scheduler(t, SchedulerOptions{Parallel: 2})
	s.Submit(rebuildReq("api"))
	s.Submit(rebuildReq("web"))
	got := map[string]bool{(<-g.started).Service: true, (<-g.started).Service: true}
	if !got["api"] || !got["web"] {
		t.Fatalf("both builds should run at once, got %v", got)
	}
	g.release <- nil
	g.release <- nil
	<-g.done
	<-g.done
}

func TestCancelOnBusy(t *testing.T) {
	g := newGatedWork()
	s := g.scheduler(t, SchedulerOptions{CancelOnBusy: true})
	s.Submit(rebuildReq("api", "a.js"))
	<-g.started
	s.Submit(rebuildReq("api", "b.js"))
	f := <-g.done
	if !ErrCancelled(f.err) {
		t.Fatalf("running build should be cancelled, got err %v", f.err)
	}
	again := <-g.started
	if !reflect.DeepEqual(again.Paths, []string{"b.js"}) {
		t.Errorf("restarted build paths = %v", again.Paths)
	}
	g.release <- nil
	if f := <-g.done; f.err != nil {
		t.Fatal(f.err)
	}
}

func TestBaseServiceBuildsFirstAndRebuildsDependents(t *testing.T) {
	synctest.Test(t, testBaseFirst)
}

func testBaseFirst(t *testing.T) {
	g := newGatedWork()
	s := g.scheduler(t, SchedulerOptions{Parallel: 2, BuildsOn: map[string][]string{"app": {"base"}}})
	s.Submit(rebuildReq("base"))
	if r := <-g.started; r.Service != "base" {
		t.Fatalf("first: %s", r.Service)
	}
	s.Submit(rebuildReq("app", "x"))
	g.assertNoStart(t, "app must wait for its base service even with a free slot")
	g.release <- nil
	<-g.done
	r := <-g.started
	if r.Service != "app" || !reflect.DeepEqual(r.Paths, []string{"x"}) {
		t.Fatalf("after base: %+v", r)
	}
	g.release <- nil
	<-g.done
	g.assertNoStart(t, "app was rebuilt once, for its change and its base together")
}

func TestFailedBaseDoesNotRebuildDependents(t *testing.T) {
	g := newGatedWork()
	s := g.scheduler(t, SchedulerOptions{BuildsOn: map[string][]string{"app": {"base"}}})
	s.Submit(rebuildReq("base"))
	<-g.started
	g.release <- errors.New("build failed")
	if f := <-g.done; f.err == nil {
		t.Fatal("want the failure reported")
	}
	// A later, unrelated request proves the loop is idle and nothing else was queued.
	s.Submit(rebuildReq("web"))
	if r := <-g.started; r.Service != "web" {
		t.Fatalf("dependent rebuilt after a failed base: %+v", r)
	}
	g.release <- nil
	<-g.done
}

func TestCloseCancelsRunningAndIsIdempotent(t *testing.T) {
	g := newGatedWork()
	s := NewScheduler(context.Background(), SchedulerOptions{Do: g.do, Done: g.observe})
	s.Submit(rebuildReq("api"))
	<-g.started
	s.Submit(rebuildReq("api", "queued"))
	s.Close()
	if f := <-g.done; !ErrCancelled(f.err) {
		t.Fatalf("running build: err %v, want cancelled", f.err)
	}
	s.Close()
	s.Submit(rebuildReq("api")) // must not block after Close
	select {
	case r := <-g.started:
		t.Fatalf("work started after Close: %+v", r)
	default:
	}
}

// A base rebuilt on its own rebuilds the services built FROM its image.
func TestBaseRebuildTriggersDependent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := newGatedWork()
		s := g.scheduler(t, SchedulerOptions{BuildsOn: map[string][]string{"app": {"base"}}})
		s.Submit(rebuildReq("base"))
		<-g.started
		g.release <- nil
		<-g.done
		r := <-g.started
		if r.Service != "app" || r.Action != dockerfile.ActionRebuild {
			t.Fatalf("want app rebuilt after its base, got %+v", r)
		}
		g.release <- nil
		<-g.done
	})
}

// A restart (or a develop.watch sync) of one service never waits behind
// another service's build: only builds count against parallel.
func TestRestartDoesNotWaitForBuildSlot(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := newGatedWork()
		s := g.scheduler(t, SchedulerOptions{Parallel: 1})
		s.Submit(rebuildReq("api"))
		<-g.started
		s.Submit(Request{Service: "web", Action: dockerfile.ActionRestart})
		if r := <-g.started; r.Service != "web" {
			t.Fatalf("started %+v, want web's restart", r)
		}
		s.Submit(rebuildReq("db"))
		g.assertNoStart(t, "a second build with parallel: 1")
		g.release <- nil
		g.release <- nil
		<-g.done
		<-g.done
		if r := <-g.started; r.Service != "db" {
			t.Fatalf("then %+v, want db's build", r)
		}
		g.release <- nil
		<-g.done
	})
}

// TestNoStarvation is issue 17's scenario: with parallel: 1, "web" changes
// during every one of its builds. "worker", queued meanwhile, must build
// after at most one more web build; in name order web's follow-ups came
// first for as long as web kept changing.
func TestNoStarvation(t *testing.T) {
	synctest.Test(t, testNoStarvation)
}

func testNoStarvation(t *testing.T) {
	g := newGatedWork()
	s := g.scheduler(t, SchedulerOptions{Parallel: 1})
	s.Submit(rebuildReq("web", "a"))
	<-g.started
	s.Submit(rebuildReq("web", "b")) // web changed first: its follow-up is ahead of worker
	s.Submit(rebuildReq("worker", "w"))
	var order []string
	for len(order) < 4 {
		g.release <- nil
		<-g.done
		r := <-g.started
		order = append(order, r.Service)
		if r.Service == "web" && len(order) < 4 {
			s.Submit(rebuildReq("web", "c")) // web keeps changing while it builds
		}
	}
	g.release <- nil
	<-g.done
	if want := []string{"web", "worker", "web", "web"}; !reflect.DeepEqual(order, want) {
		t.Errorf("builds after worker queued: %v, want %v (worker within one web build)", order, want)
	}
}

// TestQueueOrderAcrossServices: waiting services start in the order they
// began to wait, not by name, and a merge keeps a service's place.
func TestQueueOrderAcrossServices(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := newGatedWork()
		s := g.scheduler(t, SchedulerOptions{Parallel: 1})
		s.Submit(rebuildReq("busy"))
		<-g.started
		for _, svc := range []string{"zeta", "alpha", "mid", "zeta"} {
			s.Submit(rebuildReq(svc))
		}
		var order []string
		for range 3 {
			g.release <- nil
			<-g.done
			order = append(order, (<-g.started).Service)
		}
		g.release <- nil
		<-g.done
		if want := []string{"zeta", "alpha", "mid"}; !reflect.DeepEqual(order, want) {
			t.Errorf("start order %v, want %v", order, want)
		}
	})
}

// A converge build (the image catching up after a live update) gives way
// to any new change of its service: that change's sync must not wait
// behind a build. Another converge does not cancel it.
func TestChangeCancelsConvergeBuild(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := newGatedWork()
		s := g.scheduler(t, SchedulerOptions{})
		s.Submit(Request{Service: "api", Action: dockerfile.ActionRebuild, Converge: true})
		<-g.started
		s.Submit(Request{Service: "api", Action: dockerfile.ActionRebuild, Converge: true})
		g.assertNoStart(t, "a second converge while one runs")
		select {
		case f := <-g.done:
			t.Fatalf("a converge cancelled by another converge: %+v", f)
		default:
		}
		s.Submit(rebuildReq("api", "a.js"))
		if f := <-g.done; !f.req.Converge || !ErrCancelled(f.err) {
			t.Fatalf("the running converge: %+v, want cancelled", f)
		}
		next := <-g.started
		if next.Converge || !reflect.DeepEqual(next.Paths, []string{"a.js"}) {
			t.Fatalf("after the cancel: %+v, want the change (merged, not a converge)", next)
		}
		g.release <- nil
		<-g.done
	})
}

// Build services of one image share a request per batch: one decision
// covers them all, and two workers must not build or sync one image at
// once. A runtime-section recreate stays its own.
func TestCoalesceByImage(t *testing.T) {
	group := func(s string) string {
		if s == "docs" || s == "docs-mirror" {
			return "image docs"
		}
		return s
	}
	got := coalesce([]Request{
		rebuildReq("docs", "/d/index.html"),
		rebuildReq("api", "/a/x"),
		rebuildReq("docs-mirror", "/d/index.html", "/d/more.html"),
		{Service: "docs-mirror", Action: dockerfile.ActionNone, Recreate: true},
	}, group)
	want := []Request{
		{Service: "docs", Action: dockerfile.ActionRebuild, Paths: []string{"/d/index.html", "/d/more.html"}},
		rebuildReq("api", "/a/x"),
		{Service: "docs-mirror", Action: dockerfile.ActionNone, Recreate: true},
	}
	if len(got) != len(want) {
		t.Fatalf("got %+v", got)
	}
	for i := range want {
		if got[i].Service != want[i].Service || got[i].Action != want[i].Action || got[i].Recreate != want[i].Recreate ||
			!reflect.DeepEqual(got[i].Paths, want[i].Paths) {
			t.Errorf("request %d: %+v, want %+v", i, got[i], want[i])
		}
	}
}
