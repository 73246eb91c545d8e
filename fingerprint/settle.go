package fingerprint

import (
	"path/filepath"

	"github.com/rebuildd/rebuildd/dockerfile"
)

// counts are the changes seen so far to one service's build inputs. They
// are kept per service name, not per print, so a reload (which makes new
// prints) does not forget what changed while a build ran.
type counts struct {
	any  uint64 // every change that may reach the image
	deps uint64 // of which deps files
	defs uint64 // of which the Dockerfile or ignore file
}

// taken is where a print stood in its service's changes when it was
// handed out.
type taken struct {
	c   *counts
	was counts
}

// changes is the counter of a service; called with mu held.
func (l *Live) changes(service string) *counts {
	c := l.counts[service]
	if c == nil {
		c = &counts{}
		l.counts[service] = c
	}
	return c
}

// take notes where a print stands; called with mu held.
func (l *Live) take(service string) *taken {
	c := l.changes(service)
	return &taken{c: c, was: *c}
}

// Touch counts changed paths against every service whose build they may
// reach. The watcher calls it for each raw event, before the quiet window
// forms a batch, so a build that ends within the window of an edit still
// learns of it. It reports whether any path may reach a build.
func (l *Live) Touch(paths []string) bool {
	l.mu.Lock()
	srcs := make([]Source, 0, len(l.by))
	for _, e := range l.by {
		srcs = append(srcs, e.src)
	}
	l.mu.Unlock()
	type hit struct {
		service string
		impact  dockerfile.Impact
	}
	var hits []hit
	for _, src := range srcs { // classify and stat outside the lock
		for _, p := range paths {
			if i := mayFeed(src, p); i != "" {
				hits = append(hits, hit{src.Service, i})
			}
		}
	}
	if len(hits) == 0 {
		return false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, h := range hits {
		c := l.changes(h.service)
		c.any++
		switch h.impact {
		case dockerfile.ImpactDeps:
			c.deps++
		case dockerfile.ImpactDockerfile, dockerfile.ImpactDockerignore:
			c.defs++
		}
	}
	return true
}

// mayFeed is the impact a changed path may have on src's build: deps or
// source for a file an instruction reads, or for a directory (existing or
// gone) holding such files; dockerfile or dockerignore for the definition
// files; "" for what no build reads (ignored, unused, outside) and for live
// source, which a bind mount delivers whatever the image holds.
func mayFeed(src Source, abs string) dockerfile.Impact {
	if abs == src.Dockerfile {
		return dockerfile.ImpactDockerfile
	}
	if abs == src.IgnoreFile {
		return dockerfile.ImpactDockerignore
	}
	if !Within(src.Context, abs) || filepath.Clean(abs) == filepath.Clean(src.Context) {
		return ""
	}
	r := ClassifyPath(src.Classify, abs) // triage's: a directory is what was below it
	if liveResult(r) {
		return "" // the containers see it through a bind mount; no build needs it settled
	}
	switch r.Impact {
	case dockerfile.ImpactDeps, dockerfile.ImpactSource, dockerfile.ImpactDockerfile, dockerfile.ImpactDockerignore:
		return r.Impact
	}
	return ""
}

// Unsettled says whether an input of p's service changed after p was
// taken, and the strongest kind ("dockerfile", "deps" or "source"): a
// build started from p may have read a file half-way through an edit and
// its revert, so its image is not known to match p even when the files
// are back as they were.
func (l *Live) Unsettled(p *Print) dockerfile.Impact {
	t := p.taken
	if t == nil {
		return ""
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	switch now := *t.c; {
	case now.defs != t.was.defs:
		return dockerfile.ImpactDockerfile
	case now.deps != t.was.deps:
		return dockerfile.ImpactDeps
	case now.any != t.was.any:
		return dockerfile.ImpactSource
	}
	return ""
}
