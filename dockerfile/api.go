// Package dockerfile is the layer model (docs/design.md, "The layer model"): it
// reads a Dockerfile the way BuildKit does, finds the stage chain of the
// build target and every instruction of it that reads the build context,
// puts each such input in the deps or the source layer, and then says, for
// any changed path, what the change means for one service and what to do.
package dockerfile

// API CONTRACT (implemented in this package; cmd/rebuildd, rebuild and the
// watch loop rely on it). See docs/design.md "The layer model".
//
//   // Analyze parses src (named file, for messages) with buildkit's parser and
//   // instructions packages and computes the stage chain for target ("" = last
//   // stage) and every context input, with build args = compose args over
//   // Dockerfile ARG defaults. Errors are *config.InputError naming file:line.
//   func Analyze(src []byte, file, target string, args map[string]string) (*Analysis, error)
//
//   type Analysis struct {
//       File   string   // the name Analyze was given
//       Target string   // resolved target stage name (or its index as a string when unnamed)
//       Stages []Stage  // the chain stages, in Dockerfile order
//       Inputs []*Input // context inputs of chain stages, in Dockerfile order
//       Syntax string   // the "# syntax=" directive, "" when absent
//       Names  []string // every named stage of the file
//       Stmts  []Stmt   // every instruction of the chain stages (Cmd, COPY --from, RUN mounts)
//   }
//   type Stage struct { Name string; Index int; Line int; Base string /* FROM arg, expanded */ }
//   type Step  struct { Stage string; Line int; Text string /* original instruction text */ }
//   type Input struct {
//       Step                  // where it is
//       Kind     string       // "COPY", "ADD" or "RUN" (bind mount)
//       Sources  []string     // cleaned, context-relative, slash-separated patterns; "." = all
//       Excludes []string     // --exclude patterns (relative to each source, as BuildKit applies them)
//       Layer    Layer        // LayerDeps or LayerSource
//       DepsRun  *Step        // the RUN that puts it in the deps layer (nil for source)
//       RunAfter *Step        // first RUN that runs after it (action rule), nil when none;
//                             // a context-binding RUN is its own RunAfter
//   }
//   func (in *Input) Reads(rel string) bool // rel: context-relative slash path
//
//   type Layer string  // "deps" | "source"
//   type Impact string // "dockerfile","dockerignore","outside","ignored","unused","deps","source"
//   type Action string // "none" < "restart" < "rebuild"; func Stronger(a, b Action) Action
//
//   // Model answers, for one service, what a change to a path means.
//   // Build it from a config.Service (reads the Dockerfile and ignore file):
//   func Load(svc config.Service, s config.ServiceSettings) (*Model, error)
//   // or from parts (tests, fakes):
//   func NewModel(p Parts) *Model
//   type Parts struct {
//       Context, Dockerfile, IgnoreFile string   // abs; Dockerfile "" when inline
//       Analysis *Analysis; Ignore *ignore.Matcher
//       BindMounts []string           // abs host paths of the service's bind mounts
//       Binds      []config.BindMount // the same with container targets (for reasons)
//       OnSource   string             // auto|rebuild|restart|none (rebuild.yaml); "" = auto
//       Trigger    *ignore.Matcher    // rebuild.yaml's extra ignore patterns: never trigger
//   }
//   type Result struct { Impact Impact; Action Action; Input *Input; Reason string }
//   // Classify: abs path -> impact, action, the deciding input and a human reason
//   // such as "read by COPY at Dockerfile:4, deps layer (RUN npm ci at line 5)".
//   // Safe for concurrent use; caches per-directory work (< 2µs/path).
//   func (m *Model) Classify(abs string) Result
//   func (m *Model) Analysis() *Analysis; Context() string; Dockerfile() string; IgnoreFile() string; OnSource() string
