package dockerfile

import (
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
)

// writeKind is what an instruction does to its stage's file system, as far
// as Sync cares.
type writeKind uint8

const (
	writeNone    writeKind = iota // ENV, LABEL, USER, ...: nothing on disk
	writeCopy                     // COPY or ADD
	writeRun                      // RUN: anything, anywhere
	writeWorkdir                  // WORKDIR: creates a directory, moves "."
)

// write is one instruction of a chain stage as Sync needs it: where a COPY
// or ADD puts things, with which owner and mode. It is noted while the
// analyzer expands the stage (noteWrite), with the ARG and ENV values of
// that point, so destinations are expanded exactly as BuildKit does.
type write struct {
	step Step
	kind writeKind
	add  bool   // ADD rather than COPY
	from string // COPY --from, as written; "" for the build context

	srcs     []string // SourcePaths, ARG/ENV-expanded, as written (not cleaned)
	heredocs int      // heredoc sources (COPY <<EOF): written at dest, read from nowhere

	dest    string // cleaned; absolute, or relative to the base image's WORKDIR when relDest
	relDest bool   // the base image's WORKDIR (unknown without it) is a prefix of dest
	destDir bool   // written as a directory ("dir/", "." or ""): a file source goes into it

	chown    string // --chown, expanded
	chmodRaw string // --chmod as written (Docker 20.10's frontend does not expand it)
	chmod    string // --chmod, expanded
	parents  bool   // --parents
	link     bool   // --link
	unpack   *bool  // ADD --unpack; nil when not given

	// unknown, when set, says why dest (or the owner) cannot be known from
	// the Dockerfile alone: a variable that only the base image can set.
	unknown string

	input *Input // the context input of this instruction; nil when none
	uses  []int  // stages it reads (COPY --from, RUN --mount=from)
	stmt  *Stmt
}

// stageNotes is what noteWrite keeps for one chain stage while it is
// expanded.
type stageNotes struct {
	writes  []*write // one per instruction, in order (cmds[i] <-> writes[i])
	wd      string   // WORKDIR after the last instruction noted
	wdRel   bool     // wd is relative to the base image's WORKDIR (unknown)
	wdWhy   string   // when set, wd cannot be known (a variable only the base image sets)
	workdir bool     // the stage has a WORKDIR instruction of its own
}

// notesFor starts the notes of s: a stage built FROM another stage starts
// in that stage's WORKDIR; FROM scratch starts at "/"; FROM an image starts
// in the image's WORKDIR, which only the image knows.
func (a *analyzer) notesFor(s *stage) *stageNotes {
	if s.notes != nil {
		return s.notes
	}
	n := &stageNotes{wd: "/", writes: make([]*write, 0, len(s.cmds))}
	switch {
	case s.parent >= 0:
		p := a.notesFor(a.stages[s.parent])
		n.wd, n.wdRel, n.wdWhy = p.wd, p.wdRel, p.wdWhy
	case s.Base != "scratch":
		n.wd, n.wdRel = ".", true
	}
	s.notes = n
	return n
}

// noteWrite records what instruction c of chain stage s writes. It runs
// before expandCmd changes the instruction in place, with the variables of
// that point, and expands the words itself so it can tell a variable the
// Dockerfile never sets (the base image may) from one that is empty.
func (a *analyzer) noteWrite(s *stage, c *cmd, e *env) {
	n := a.notesFor(s)
	w := &write{step: c.step}
	n.writes = append(n.writes, w)
	expand := func(word string) string {
		if a.plainWord(word) {
			return word // what ProcessWord would return, with nothing unmatched
		}
		v, unmatched, err := a.lex.ProcessWord(word, e)
		if err != nil {
			w.unknown = fmt.Sprintf("%q cannot be expanded: %v", word, err)
			return word
		}
		if len(unmatched) > 0 && w.unknown == "" {
			w.unknown = unsetVar(unmatched)
		}
		return v
	}
	switch x := c.node.(type) {
	case *instructions.WorkdirCommand:
		w.kind = writeWorkdir
		n.workdir = true
		p := expand(x.Path)
		if w.unknown != "" {
			n.wdWhy = w.unknown
		}
		if path.IsAbs(p) {
			n.wd, n.wdRel = path.Clean(p), false
		} else {
			n.wd = path.Join(n.wd, p)
		}
	case *instructions.CopyCommand:
		w.from, w.parents, w.link = x.From, x.Parents, x.Link
		a.noteCopy(n, w, &x.SourcesAndDest, x.Chown, x.Chmod, expand)
	case *instructions.AddCommand:
		w.add, w.link, w.unpack = true, x.Link, x.Unpack
		a.noteCopy(n, w, &x.SourcesAndDest, x.Chown, x.Chmod, expand)
	case *instructions.RunCommand:
		w.kind = writeRun
	}
}

// noteCopy fills in a COPY or ADD: its sources and its destination, made
// absolute against the WORKDIR the way BuildKit's dispatchCopy does (a
// relative destination joins the working directory; "dir/", "." and ""
// name a directory).
func (a *analyzer) noteCopy(n *stageNotes, w *write, sd *instructions.SourcesAndDest, chown, chmod string, expand func(string) string) {
	w.kind = writeCopy
	for _, s := range sd.SourcePaths {
		w.srcs = append(w.srcs, expand(s))
	}
	w.heredocs = len(sd.SourceContents)
	raw := expand(sd.DestPath)
	w.chown = expand(chown)
	w.chmodRaw, w.chmod = chmod, expand(chmod)
	w.destDir = raw == "" || raw == "." || strings.HasSuffix(raw, "/")
	if path.IsAbs(raw) {
		w.dest = path.Clean(raw)
		return
	}
	if n.wdWhy != "" && w.unknown == "" {
		w.unknown = "the WORKDIR: " + n.wdWhy
	}
	w.dest, w.relDest = path.Join(n.wd, raw), n.wdRel
	if !w.relDest {
		w.dest = path.Join("/", w.dest)
	}
}

// unsetVar names the first variable (sorted, so the reason is stable) that
// no ARG or ENV of the Dockerfile set.
func unsetVar(names map[string]struct{}) string {
	var all []string
	for k := range names {
		all = append(all, k)
	}
	sort.Strings(all)
	return fmt.Sprintf("$%s is not set by the Dockerfile (only the base image could set it)", all[0])
}
