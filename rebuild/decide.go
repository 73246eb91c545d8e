package rebuild

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/rebuildd/rebuildd/docker"
	"github.com/rebuildd/rebuildd/dockerfile"
	"github.com/rebuildd/rebuildd/fingerprint"
)

// The one answer every mode gives for a service (docs/design.md, "One
// decision"), and what --once made of it.
const (
	StatusUpToDate = "up-to-date"
	StatusStale    = "stale"
	StatusUnknown  = "unknown" // no record says what the image was built from
	// StatusSynced: the running containers hold the current sources,
	// synced into them (docs/design.md, "Live update"); the image is built
	// from them without recreating them. --check exits 0 for it (the stack
	// serves the current sources); --images makes it stale.
	StatusSynced    = "synced"
	StatusRebuilt   = "rebuilt"
	StatusRecreated = "recreated"
	StatusFailed    = "failed"
)

// Policy says what "current" means for a run.
type Policy struct {
	// Images asks for the images themselves to hold the current sources
	// (--images): a change a bind mount already delivers to the running
	// containers then makes the image stale. By default up to date means
	// the running stack serves the current sources.
	Images bool
}

// Input is everything known about one service before deciding.
type Input struct {
	Service     string
	Tag         string   // the image the service runs (image: or compose's default name)
	Build       bool     // has a build: section (else it only names Tag)
	AnonVolumes []string // container paths of the compose file's anonymous volumes
	// SourceRuns: a RUN runs after some source-layer input of the
	// Dockerfile, so a source change re-runs it and may change what the
	// image has under an anonymous volume (`COPY package*.json ./` then
	// `RUN npm ci` with no context input after it: the lock file is source).
	SourceRuns bool
	Print      *fingerprint.Print  // current fingerprint; nil without build:
	Record     *fingerprint.Record // last build rebuildd recorded; nil when none
	// Files loads the per-file sums stored with Record: to name changed
	// files, and to compare file by file when the folds cannot tell.
	Files func() (map[string]fingerprint.FileSum, error)
	// Brief reasons name changed layers, not files: watch mode names the
	// files itself and must not load the stored sums just for a reason.
	Brief      bool
	Binds      []string      // the service's bind mounts, for reasons ("./src:/app/src")
	Image      *docker.Image // the image under Tag; nil when missing
	Bases      []string      // normalised tags of project images the build is FROM
	Containers []docker.Container
	// Unasked: the engine was not asked (a dry run without one), so Image
	// and Containers say nothing.
	Unasked bool
	// Interrupted: a compose up of this service started and never
	// reported back (rebuildd was killed during a recreate).
	Interrupted bool
	// Synced are the project's sync marks by container ID
	// (fingerprint.SyncMark): what live updates left in each container.
	Synced map[string]fingerprint.SyncMark
}

// Decision is the answer for one service and what to do about it.
type Decision struct {
	Service  string
	Tag      string
	Status   string // StatusUpToDate, StatusStale or StatusUnknown
	Build    bool   // Tag is built (by this service or one sharing the tag)
	Builder  bool   // this service's build runs (one per tag)
	Recreate bool   // up -d the service after any build (recreate or create)
	// RefreshVolumes: the build's cause (deps, the Dockerfile, or unknown)
	// may change what the image has under an anonymous volume, so the
	// recreate refreshes the volumes that hide the new image's files
	// (volumes.go).
	RefreshVolumes bool
	Adopt          bool // record the current print for the current image: an old record's files all equal
	Recheck        bool // built again only because inputs changed during the last build
	Impacts        []string
	Reason         string
}

// Stale reports whether the decision changes anything.
func (d Decision) Stale() bool { return d.Build || d.Recreate }

// Action names what the decision does: "rebuild" (build, then recreate
// what runs the image), "recreate" or "none" — the words watch mode's
// decisions use too.
func (d Decision) Action() string {
	switch {
	case d.Builder:
		return "rebuild"
	case d.Build || d.Recreate:
		return "recreate"
	}
	return "none"
}

// decideBuild answers whether a build service's image holds what it must.
// No rule reads a timestamp: what the record cannot vouch for is unknown.
// synced: every running container of the image holds the current print
// (syncedTo).
func decideBuild(in Input, pol Policy, synced bool) (Decision, error) {
	d := Decision{Service: in.Service, Tag: in.Tag, Status: StatusUpToDate}
	if !in.Build {
		return d, nil
	}
	if in.Unasked && in.Record != nil {
		in.Image = &docker.Image{ID: in.Record.ImageID} // assumed: the engine was not asked
	}
	switch {
	case in.Image == nil && !in.Unasked:
		d.stale("image missing", []string{"image missing"})
	case in.Record == nil:
		d.unknown(fmt.Sprintf("no record of what image %s was built from; a build (cheap from the cache) finds out and records it", in.Tag))
	case in.Record.ImageID != in.Image.ID:
		d.unknown(fmt.Sprintf("image %s was built outside rebuildd, not from the inputs rebuildd recorded; a build (cheap from the cache) finds out and records it", in.Tag))
	case in.Record.Unsettled != "" && in.Record.Fingerprint == in.Print.Sum:
		what := in.Record.Unsettled + " files"
		if in.Record.Unsettled == string(dockerfile.ImpactDockerfile) {
			what = "the Dockerfile or ignore file"
		}
		d.stale(what+" changed while the last build ran; building again so the image holds what is on disk",
			[]string{in.Record.Unsettled})
		d.Recheck = true
	default:
		if err := compare(in, pol, &d); err != nil {
			return d, err
		}
		if d.Build && synced {
			d.synced(pol)
		}
	}
	d.Builder = d.Build
	return d, nil
}

func (d *Decision) stale(reason string, impacts []string) {
	d.Status, d.Build, d.Reason, d.Impacts = StatusStale, true, reason, impacts
}

// unknown: the image may or may not hold the sources. A building mode
// builds once (BuildKit's cache makes it cheap, and an unchanged image ID
// recreates nothing); --check reports it.
func (d *Decision) unknown(reason string) {
	d.Status, d.Build, d.Reason, d.Impacts = StatusUnknown, true, reason, []string{StatusUnknown}
}

// compare decides from the record and the current print. Equal Sums: the
// image holds the current inputs. Otherwise the build is stale unless
// every difference is a live file (a bind mount delivers it) and the
// policy asks only for the running stack to be current. The folds answer
// in O(1); the stored per-file sums are read only when they cannot (the
// bind mounts changed, or the record is older than the folds it needs).
func compare(in Input, pol Policy, d *Decision) error {
	rec, cur := in.Record.Parts, in.Print.Parts
	switch {
	case in.Record.Fingerprint == in.Print.Sum:
		return nil
	case len(partChanges(rec, cur)) > 0:
		return staleWithReason(in, d, nil)
	case rec.Deps == "": // written before the folds: its Sum is computed another way
		return compareFiles(in, pol, d)
	case rec.Deps != cur.Deps || pol.Images:
		return staleWithReason(in, d, nil)
	case rec.Mounts == "" || rec.Mounts != cur.Mounts:
		return compareFiles(in, pol, d)
	case rec.Baked == cur.Baked:
		d.Reason = liveReason(in)
		return nil
	}
	return staleWithReason(in, d, nil)
}

// compareFiles compares the recorded files with the current ones, one by
// one. Differences in live files alone leave the service up to date
// (unless the policy wants the image current).
func compareFiles(in Input, pol Policy, d *Decision) error {
	old, err := loadFiles(in)
	if err != nil {
		return err
	}
	if old == nil {
		return staleWithReason(in, d, nil)
	}
	var changes, baked []change
	for _, c := range fileChanges(old, in.Print.Files) {
		changes = append(changes, c)
		if !c.live || pol.Images {
			baked = append(baked, c)
		}
	}
	switch {
	case len(baked) > 0:
		return staleWithReason(in, d, baked)
	case len(changes) == 0 && in.Record.Unsettled == "":
		// Every file is equal, the definition too: an older record whose
		// Sum is computed another way. The image holds these inputs.
		d.Adopt, d.Impacts = true, []string{"adopted"}
	default:
		d.Reason = liveReason(in)
	}
	return nil
}

func loadFiles(in Input) (map[string]fingerprint.FileSum, error) {
	if in.Files == nil {
		return nil, nil
	}
	return in.Files()
}

// staleWithReason marks d stale, naming what changed; known, when not nil,
// are the changes already found.
func staleWithReason(in Input, d *Decision, known []change) error {
	reason, impacts, err := changeReason(in, known)
	if err != nil {
		return err
	}
	if reason == "" {
		reason, impacts = "inputs changed since the last build", []string{string(dockerfile.ImpactSource)}
	}
	if u := in.Record.Unsettled; u != "" && !slices.Contains(impacts, u) {
		impacts = append(impacts, u) // a deps change during that build still renews volumes
		sort.Strings(impacts)
	}
	d.stale(reason, impacts)
	return nil
}

// liveReason says why changed files leave the service up to date.
func liveReason(in Input) string {
	how := "bind-mounted"
	if len(in.Binds) > 0 {
		how += ": " + strings.Join(in.Binds, ", ")
	}
	return "changed source files are live in the containers (" + how + "); the image keeps the files it was built with (--images rebuilds it)"
}

// decideRecreate handles a service whose image is not being built: up when
// a container is missing, not running after rebuildd's own interrupted
// recreate, never started, or runs another image without holding this
// one's content (rec: the record of the image, for the sync marks).
func decideRecreate(in Input, rec *fingerprint.Record, d *Decision) {
	if in.Unasked {
		if d.Reason == "" {
			d.Reason = "the Docker engine was not asked: containers not checked"
		}
		return
	}
	if in.Image == nil {
		return // an image-only service whose image nobody built: compose pulls, not us
	}
	reason := containerProblem(in, rec)
	if reason == "" {
		return
	}
	d.Status, d.Recreate = StatusStale, true
	if d.Reason == "" {
		d.Reason = reason
	} else {
		d.Reason = reason + "; " + d.Reason
	}
}

// containerProblem is why the service's containers do not serve its image,
// "" when they do. An exited container counts only when it failed or a
// recreate of rebuildd's was cut short: one that finished with code 0 is a
// one-shot job's, or stopped on purpose. A container of an older image
// whose sync mark is exactly the image's recorded print holds what the
// image holds (synced.go).
func containerProblem(in Input, rec *fingerprint.Record) string {
	if in.Interrupted {
		return "a recreate was interrupted before it finished"
	}
	if len(in.Containers) == 0 {
		return "no container"
	}
	for _, c := range in.Containers {
		switch {
		case c.ImageID != in.Image.ID && !holdsImage(in, rec, c):
			return fmt.Sprintf("container %s runs an older image", c.Name)
		case c.ImageID == in.Image.ID && holdsOther(in, rec, c):
			return fmt.Sprintf("container %s holds synced files its image does not", c.Name)
		case c.State == "created":
			return fmt.Sprintf("container %s was created but never started", c.Name)
		case c.State == "dead", c.State == "exited" && c.ExitCode != 0:
			return fmt.Sprintf("container %s %s with code %d", c.Name, c.State, c.ExitCode)
		}
	}
	return ""
}
