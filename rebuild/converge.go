package rebuild

import (
	"context"

	"go.uber.org/zap"

	"github.com/rebuildd/rebuildd/docker"
	"github.com/rebuildd/rebuildd/fingerprint"
)

// After a live update the image converges (docs/design.md, "Live update"):
// it is built from the sources the containers already hold, and a
// container whose sync mark says it holds exactly what the build was from
// is not recreated. Syncs remove files with rm, and what the rebuilt image
// has at a removed path (its base image's file, an earlier RUN's) only that
// image shows: a container with removals is spared only when the new image
// has nothing at any of them. A sync that ran while the build did (its
// mark is newer than the run) spares the container too: every sync asks
// for the next build, which judges it.

// spare decides, for one run, which containers of an older image need no
// recreate. Owned by the run's goroutine.
type spare struct {
	x     *run
	marks map[string]fingerprint.SyncMark // read once, after the builds
	read  bool
}

func newSpare(x *run) *spare { return &spare{x: x} }

// holds reports whether container c, which runs another image than img
// (just built for tag), holds what img holds.
func (s *spare) holds(ctx context.Context, c docker.Container, tag string, img *docker.Image) bool {
	if !s.read {
		s.read = true
		marks, err := s.x.r.Store.SyncMarks()
		if err != nil {
			s.x.r.Log.Warn("sync marks not read; containers of older images are recreated", zap.Error(err))
		}
		s.marks = marks
	}
	m, ok := s.marks[c.ID]
	switch {
	case !ok:
		return false
	case m.Sum == "":
		// A sync that failed or was cut short (even one this run's work
		// began with) vouches for nothing: every decision recreates it
		// (docs/design.md, "One decision").
		return false
	case m.At.After(s.x.start):
		return true // synced during this run: the build that sync asked for judges it
	case m.Sum != s.builtFrom(tag):
		return false
	case len(m.Removed) == 0:
		return true
	}
	return s.compareRemoved(ctx, c, m, img)
}

// builtFrom is the print Sum the build of tag was decided from.
func (s *spare) builtFrom(tag string) string {
	for _, o := range s.x.out {
		if o.Decision.Builder && o.Decision.Tag == tag {
			if in := s.x.inputs[o.Service]; in.Print != nil {
				return in.Print.Sum
			}
		}
	}
	return ""
}

// compareRemoved asks the new image about the paths syncs removed from c:
// when it has nothing at any of them, the container holds what the image
// holds, and its mark says so from now on.
func (s *spare) compareRemoved(ctx context.Context, c docker.Container, m fingerprint.SyncMark, img *docker.Image) bool {
	if s.x.r.Live == nil {
		return false
	}
	has, err := s.x.r.Live.ImageHas(ctx, s.x.r.Project.Name, img.ID, m.Removed)
	if err != nil {
		s.x.r.Log.Warn("could not compare removed files with the new image; recreating the container",
			zap.String("container", c.Name), zap.Error(err))
		return false
	}
	for _, p := range m.Removed {
		if has[p] {
			s.x.r.Log.Info("the new image has a file a sync removed; recreating the container",
				zap.String("container", c.Name), zap.String("path", p))
			return false
		}
	}
	err = s.x.r.Store.UpdateSyncMarks(func(marks map[string]fingerprint.SyncMark) {
		if cur, ok := marks[c.ID]; ok && cur.Sum == m.Sum {
			cur.Removed = nil
			marks[c.ID] = cur
		}
	})
	if err != nil {
		s.x.r.Log.Warn("sync mark not updated; the next decision recreates the container", zap.String("container", c.Name), zap.Error(err))
		return false
	}
	return true
}
