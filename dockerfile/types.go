package dockerfile

import (
	"strconv"

	"github.com/rebuildd/rebuildd/ignore"
)

// Layer is the layer a context input feeds.
type Layer string

const (
	LayerDeps   Layer = "deps"
	LayerSource Layer = "source"
)

// Impact is what a change to one path means for one service (docs/design.md,
// "Impact of a path P on a service", first rule that holds).
type Impact string

const (
	ImpactDockerfile   Impact = "dockerfile"
	ImpactDockerignore Impact = "dockerignore"
	ImpactOutside      Impact = "outside"
	ImpactIgnored      Impact = "ignored"
	ImpactUnused       Impact = "unused"
	ImpactDeps         Impact = "deps"
	ImpactSource       Impact = "source"
)

// Action is what rebuildd does about a change, ordered none < restart < rebuild.
type Action string

const (
	ActionNone    Action = "none"
	ActionRestart Action = "restart"
	ActionRebuild Action = "rebuild"
)

func (a Action) rank() int {
	switch a {
	case ActionRebuild:
		return 2
	case ActionRestart:
		return 1
	}
	return 0
}

// Stronger returns the stronger of two actions (rebuild > restart > none).
func Stronger(a, b Action) Action {
	if b.rank() > a.rank() {
		return b
	}
	return a
}

// Step is one instruction of the Dockerfile.
type Step struct {
	Stage string `json:"stage"` // stage name, or its index when unnamed
	Line  int    `json:"line"`  // 1-based line of the instruction's first line
	Text  string `json:"text"`  // the instruction as written (continuations joined)
}

// Input is one instruction of a chain stage that reads the build context.
type Input struct {
	Step
	Kind     string   `json:"kind"`               // "COPY", "ADD" or "RUN" (bind mount from the context)
	Sources  []string `json:"sources"`            // cleaned, context-relative, slash-separated patterns; "." = all
	Excludes []string `json:"excludes,omitempty"` // --exclude patterns, relative to each source (as BuildKit applies them)
	Layer    Layer    `json:"layer"`
	DepsRun  *Step    `json:"deps_run,omitempty"`  // the RUN that puts the input in the deps layer; nil for source
	RunAfter *Step    `json:"run_after,omitempty"` // the first RUN that runs after the input; nil when none

	srcs []pattern       // Sources, split for matching
	excl *ignore.Matcher // Excludes; nil when none
	// spanStars: "**" spans directories (COPY --parents matches with
	// patternmatcher); otherwise BuildKit's copier uses filepath.Match, where
	// "**" is just "*" within one segment.
	spanStars bool
}

// StageLabel is how output names a stage: its name, or "stage N" for an
// unnamed one. Step.Stage and Analysis.Target hold a bare index for an
// unnamed stage (a stage name cannot start with a digit), which a person
// would read as a count or a line.
func StageLabel(stage string) string {
	if stage == "" || stage[0] < '0' || stage[0] > '9' {
		return stage
	}
	return "stage " + stage
}

// Label is the stage as output names it (StageLabel).
func (s Stage) Label() string {
	if s.Name != "" {
		return s.Name
	}
	return StageLabel(strconv.Itoa(s.Index))
}

// Stage is one stage of the chain.
type Stage struct {
	Name  string `json:"name,omitempty"` // AS name, "" when unnamed
	Index int    `json:"index"`          // 0-based position in the Dockerfile
	Line  int    `json:"line"`
	Base  string `json:"base"` // the FROM argument, ARG-expanded
}

// Stmt is one instruction of a chain stage, for callers that give advice
// about the Dockerfile (cache mounts, what a RUN does).
type Stmt struct {
	Step
	Cmd    string  `json:"cmd"`              // upper-case instruction: RUN, COPY, ENV, ...
	From   string  `json:"from,omitempty"`   // COPY --from value
	Mounts []Mount `json:"mounts,omitempty"` // RUN --mount flags, expanded
}

// Mount is one RUN --mount, ARG/ENV-expanded.
type Mount struct {
	Type   string `json:"type"` // bind, cache, tmpfs, secret, ssh
	From   string `json:"from,omitempty"`
	Source string `json:"source,omitempty"`
	Target string `json:"target,omitempty"`
}

// Analysis is what the Dockerfile means for one target.
type Analysis struct {
	File   string   `json:"file"`   // the name Analyze was given, for messages
	Target string   `json:"target"` // resolved target stage name (or its index when unnamed)
	Stages []Stage  `json:"stages"` // the chain stages, in Dockerfile order
	Inputs []*Input `json:"inputs"` // context inputs of chain stages, in Dockerfile order
	Syntax string   `json:"syntax,omitempty"`
	Names  []string `json:"names"` // every named stage of the file, in order
	Stmts  []Stmt   `json:"stmts"` // every instruction of the chain stages, in Dockerfile order

	plan *syncPlan     // what Sync reads (syncplan.go); nil when built by hand
	proc *ImageProcess // what the image runs (process.go); nil when built by hand
}

// Result is the classification of one path for one service.
type Result struct {
	Impact Impact `json:"impact"`
	Action Action `json:"action"`
	Input  *Input `json:"-"`      // the input that decided deps/source; nil otherwise
	Reason string `json:"reason"` // for people: "read by COPY at Dockerfile:4, deps layer (RUN npm ci at line 5)"
	// Mount is the bind mount that already carries a source change into
	// the container ("./src:/app/src") when no RUN follows its COPY: why
	// the action is none, unless on_source asks for more.
	Mount string `json:"mount,omitempty"`
}
