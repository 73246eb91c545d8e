package advice

import (
	"fmt"
	"path"
	"path/filepath"
	"strings"

	"github.com/rebuildd/rebuildd/dockerfile"
)

// maxSyncProbes bounds the context files syncGain asks the reordered model
// about (each Classify and Sync is 10–70µs): one that syncs is enough, and
// a context whose first files under the COPY do not sync is not the case
// this advice is for.
const maxSyncProbes = 200

// syncGain says what moving run above copyInstr (after a COPY of the
// manifests, as installFix writes it) would give live update
// (docs/design.md, "Live update"): "src/index.js -> /app/src/index.js",
// a source file of the COPY that then syncs into the
// running containers instead of rebuilding. It is decided by the layer
// model itself on the reordered Dockerfile, so it holds only where the
// COPY is in the final image's stack and nothing else (another RUN, a
// COPY --from of its stage, a destination the Dockerfile cannot settle)
// still blocks the sync. "" when the move gains no sync, when on_source
// or develop.watch rules keep the service from syncing, or when the RUN
// is not simply movable (another stage, a heredoc).
func (s *subject) syncGain(run, copyInstr *instr, manifests []string) string {
	m := s.model
	switch {
	case m == nil || s.svc.Build == nil || len(s.svc.Watch) > 0:
		return ""
	case m.OnSource() == dockerfile.OnSourceRebuild || m.OnSource() == dockerfile.OnSourceNone:
		return ""
	case run.heredoc || run.stage != copyInstr.stage || run.line <= copyInstr.line || run.end < run.line:
		return ""
	}
	src := reordered(s.src, run, copyInstr, manifests)
	an, err := dockerfile.Analyze(src, s.an.File, s.svc.Build.Target, s.svc.Build.Args)
	if err != nil {
		return ""
	}
	moved := dockerfile.NewModel(dockerfile.Parts{Context: s.context, Dockerfile: s.dockerfile, IgnoreFile: s.ignoreFile,
		Analysis: an, Ignore: s.ign, Binds: s.svc.BindMounts, OnSource: m.OnSource(), Dialect: m.Dialect()})
	shift := 1 // the RUN, above the COPY now
	if len(manifests) > 0 {
		shift++ // and the COPY of the manifests
	}
	in := inputAt(moved, copyInstr.line+shift)
	scan := s.files()
	if in == nil || scan == nil {
		return ""
	}
	probes := 0
	for _, f := range scan.files {
		if !in.Reads(f.rel) || s.notSource(f.rel) {
			continue
		}
		if probes++; probes > maxSyncProbes {
			break
		}
		abs := filepath.Join(s.context, filepath.FromSlash(f.rel))
		if r := moved.Classify(abs); r.Impact != dockerfile.ImpactSource || r.Action != dockerfile.ActionRebuild {
			continue // bind-mounted: it needs nothing either way
		}
		sy := moved.Sync(dockerfile.Change{Path: abs})
		if !sy.OK || len(sy.Targets) == 0 || m.Sync(dockerfile.Change{Path: abs}).OK {
			continue
		}
		return fmt.Sprintf("%s -> %s", f.rel, placeOf(sy.Targets[0]))
	}
	return ""
}

// reordered is src with run moved above copyInstr, after a COPY of the
// manifests when there are any: the Dockerfile installFix describes.
func reordered(src []byte, run, copyInstr *instr, manifests []string) []byte {
	lines := strings.SplitAfter(string(src), "\n")
	var b strings.Builder
	for i, l := range lines {
		n := i + 1
		if n == copyInstr.line {
			if len(manifests) > 0 {
				b.WriteString("COPY " + strings.Join(manifests, " ") + " ./\n")
			}
			b.WriteString(run.full() + "\n")
		}
		if n >= run.line && n <= run.end {
			continue
		}
		b.WriteString(l)
	}
	return []byte(b.String())
}

// inputAt is the context input of the reordered model at line.
func inputAt(m *dockerfile.Model, line int) *dockerfile.Input {
	for _, in := range m.Analysis().Inputs {
		if in.Line == line {
			return in
		}
	}
	return nil
}

// notSource: the Dockerfile, ignore files and manifests are not the source
// edits live update is for (bringsSource's rule).
func (s *subject) notSource(rel string) bool {
	base := path.Base(rel)
	if strings.HasSuffix(base, ".dockerignore") || isManifest(base) {
		return true
	}
	df, err := filepath.Rel(s.context, s.dockerfile)
	return s.dockerfile != "" && err == nil && rel == filepath.ToSlash(df)
}

// placeOf is where a target puts the file, as explain writes it.
func placeOf(t dockerfile.Target) string {
	p, d := t.Path, t.Dir
	if t.Rel {
		p, d = path.Join("<WORKDIR>", p), path.Join("<WORKDIR>", d)
	}
	switch {
	case t.Dir == "":
		return p
	case t.Path == "":
		return path.Join(d, t.Base)
	}
	return p + " or " + path.Join(d, t.Base)
}
