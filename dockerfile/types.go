package dockerfile

// Layer is the layer a context input feeds.
type Layer string

const (
	LayerDeps   Layer = "deps"
	LayerSource Layer = "source"
)

// Impact is what a change to one path means for one service (DESIGN.md,
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
	Stage string // stage name, or its index when unnamed
	Line  int    // 1-based line of the instruction's first line
	Text  string // the instruction as written (continuations joined)
}

// Input is one instruction of a chain stage that reads the build context.
type Input struct {
	Step
	Kind     string   // "COPY", "ADD" or "RUN" (bind mount from the context)
	Sources  []string // cleaned, context-relative, slash-separated patterns; "." = all
	Excludes []string // --exclude patterns, same form as Sources
	Layer    Layer
	DepsRun  *Step // the RUN that puts the input in the deps layer; nil for source
	RunAfter *Step // the first RUN that runs after the input; nil when none
}

// Stage is one stage of the chain.
type Stage struct {
	Name  string // AS name, "" when unnamed
	Index int    // 0-based position in the Dockerfile
	Line  int
	Base  string // the FROM argument, ARG-expanded
}

// Result is the classification of one path for one service.
type Result struct {
	Impact Impact
	Action Action
	Input  *Input // the input that decided deps/source; nil otherwise
	Reason string // for people: "read by COPY at Dockerfile:4, deps layer (RUN npm ci at line 5)"
}
