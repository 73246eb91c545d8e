package fingerprint

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"path/filepath"
	"slices"
	"time"

	"github.com/rebuildd/rebuildd/statedir"
)

// A record says what an image was built from. A live update (docs/design.md,
// "Live update") changes what a container holds without changing its
// image: a sync mark, kept per container, says what that is. The decision
// function reads the marks (docs/design.md, "One decision"): a container
// whose mark is the print its image is being built from, or was built
// from, holds what a recreate would give it, so nothing recreates it.
//
// A mark is written only when the container's content before the sync was
// known (it ran the recorded image, or had a mark) and the sync changed
// source files alone; a sync removes the mark before it copies, so one cut
// short leaves the container unvouched for, and the next decision
// recreates it.

// SyncMark is what one container holds after syncs.
type SyncMark struct {
	// Service is the build service whose print Sum is (the container may
	// belong to another service that runs the same image).
	Service string `json:"service"`
	// Sum is the print whose files the container holds: a build of it
	// gives the container's content, but for Removed.
	Sum string `json:"sum"`
	// Parts are that print's parts: a later sync moves the mark only while
	// the build definition and the deps files stay as they are here.
	Parts Parts `json:"parts"`
	// Removed are the container paths syncs removed. What a rebuilt image
	// holds there (the base image's file, an earlier RUN's) only that image
	// shows, so a container with removals is spared a recreate only after
	// the image it is compared with was looked into (and Removed cleared).
	Removed []string  `json:"removed,omitempty"`
	At      time.Time `json:"at"` // when the last sync wrote it
}

// Holds reports whether the mark vouches that the container holds what a
// build of the print sum gives.
func (m SyncMark) Holds(sum string) bool {
	return m.Sum != "" && m.Sum == sum && len(m.Removed) == 0
}

func (s *Store) marksPath() string {
	return filepath.Join(s.dir, statedir.Version, "synced.json")
}

// SyncMarks returns every container's mark, by container ID; nil when
// there are none. A damaged file is no marks: every container is then
// judged by its image alone.
func (s *Store) SyncMarks() (map[string]SyncMark, error) {
	b, err := statedir.ReadFile(s.marksPath())
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read state %q: %w", s.marksPath(), err)
	}
	var marks map[string]SyncMark
	if json.Unmarshal(b, &marks) != nil {
		return nil, nil
	}
	return marks, nil
}

// UpdateSyncMarks changes the marks with update (which may add, change and
// delete entries of the map it gets) and writes them atomically. Updates
// within the process run one at a time; one rebuildd per project holds the
// state directory.
func (s *Store) UpdateSyncMarks(update func(map[string]SyncMark)) error {
	s.marksMu.Lock()
	defer s.marksMu.Unlock()
	marks, err := s.SyncMarks()
	if err != nil {
		return err
	}
	if marks == nil {
		marks = map[string]SyncMark{}
	}
	update(marks)
	return writeJSON(s.marksPath(), marks)
}

// SyncMarks implements Records: the overlay's marks once it changed them,
// else the base's.
func (o *Overlay) SyncMarks() (map[string]SyncMark, error) {
	o.mu.Lock()
	marks := o.marks
	o.mu.Unlock()
	if marks != nil {
		return maps.Clone(marks), nil
	}
	if o.Base == nil {
		return nil, nil
	}
	return o.Base.SyncMarks()
}

// UpdateSyncMarks implements Records, in memory.
func (o *Overlay) UpdateSyncMarks(update func(map[string]SyncMark)) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.marks == nil {
		o.marks = map[string]SyncMark{}
		if o.Base != nil {
			base, err := o.Base.SyncMarks()
			if err != nil {
				o.marks = nil
				return err
			}
			maps.Copy(o.marks, base)
		}
	}
	update(o.marks)
	return nil
}

// Without returns the mark with paths no longer removed: the sync wrote
// them again, so the container and the image hold the same file there.
func (m SyncMark) Without(paths []string) SyncMark {
	m.Removed = slices.DeleteFunc(slices.Clone(m.Removed), func(p string) bool { return slices.Contains(paths, p) })
	if len(m.Removed) == 0 {
		m.Removed = nil
	}
	return m
}
