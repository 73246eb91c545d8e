package main

import (
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// session is one scripted edit and the number of builds it deserves.
type session struct {
	name   string
	builds int // builds a correct tool runs: 0 where no content changed
	edit   func(dir string) error
}

func sessions(l layout) []session {
	src := filepath.Join("src", "index.html")
	return []session{
		{"touch a source file", 0, func(dir string) error {
			now := time.Now()
			return os.Chtimes(filepath.Join(dir, src), now, now)
		}},
		{"save without change", 0, func(dir string) error { return rewrite(dir, src, nil) }},
		{"edit + revert", 0, func(dir string) error {
			// Both writes land inside either tool's quiet window.
			return rewrite(dir, src, func(b []byte) error {
				return os.WriteFile(filepath.Join(dir, src), append(b, "edit\n"...), 0o644)
			})
		}},
		{"README edit", 0, func(dir string) error {
			return appendFile(filepath.Join(dir, "README.md"), "more words\n")
		}},
		{fmt.Sprintf("git checkout of %d files", l.changed), 1, func(dir string) error {
			return git(dir, "checkout", "-q", "other")
		}},
		{"deps edit (package.json)", 1, func(dir string) error {
			return os.WriteFile(filepath.Join(dir, "package.json"), []byte(`{"name":"bench","version":"1.0.1"}`+"\n"), 0o644)
		}},
	}
}

// rewrite reads rel, calls between (if any), and writes the original
// content back: a save that changes nothing.
func rewrite(dir, rel string, between func([]byte) error) error {
	p := filepath.Join(dir, rel)
	b, err := os.ReadFile(p)
	if err != nil {
		return fmt.Errorf("read %q: %w", p, err)
	}
	if between != nil {
		if err := between(b); err != nil {
			return err
		}
	}
	return os.WriteFile(p, b, 0o644)
}

func appendFile(p, s string) error {
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return fmt.Errorf("append %q: %w", p, err)
	}
	_, err = f.WriteString(s)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// counted is what one tool did in one session.
type counted struct {
	started  int  // builds started: build commands stamped (rebuildd), "Rebuilding" lines (compose watch)
	recreate int  // container creations, from the engine's events
	newImage bool // the service's tag points at another image afterwards
	err      error
}

// runSessions runs every session against one tool, in order, on one
// running instance, each after the previous one settled.
func (e *env) runSessions(tool string, ss []session) []counted {
	out := make([]counted, len(ss))
	p, err := e.watchWith(tool)
	if err != nil {
		for i := range out {
			out[i].err = err
		}
		return out
	}
	defer p.stop()
	for i, s := range ss {
		out[i] = e.runSession(p, tool, s)
	}
	return out
}

func (e *env) runSession(p *proc, tool string, s session) counted {
	before, mark, from := e.stack.imageID(), p.mark(), time.Now()
	if err := s.edit(e.stack.dir); err != nil {
		return counted{err: err}
	}
	if err := e.settle(p, tool, mark); err != nil {
		return counted{err: err}
	}
	to := time.Now()
	c := counted{newImage: e.stack.imageID() != before}
	if tool == toolRebuildd {
		ss, err := readStamps(e.stamps)
		if err != nil {
			return counted{err: err}
		}
		c.started = len(builds(ss, from, to))
	} else {
		for _, l := range p.since(mark) {
			if rebuildStarted(tool)(l) {
				c.started++
			}
		}
	}
	var err error
	c.recreate, err = e.stack.containerCreates(from, to)
	c.err = err
	return c
}
