// Package dockerfile is the layer model (docs/design.md, "The layer model"): it
// reads a Dockerfile the way BuildKit does, finds the stage chain of the
// build target and every instruction of it that reads the build context,
// puts each such input in the deps or the source layer, and then says, for
// any changed path, what the change means for one service and what to do.
//
// # Live update
//
// Model.Sync says whether a changed source file may be copied into the
// service's running containers instead of rebuilding the image, and where
// the image holds it (issue 16; the rule is docs/design.md's "Live update"):
//
//  1. its impact is source (Classify);
//  2. every chain instruction that reads it is a COPY or ADD of the final
//     image's layer stack: the target stage and the stages it is built
//     FROM. A path read in a stage the image takes with COPY --from (built
//     or bundled there), by RUN --mount=type=bind, or as a local file of
//     ADD is not syncable. ADD extracts a local tar archive and BuildKit
//     tells one by its content (after decompression), not its name, so
//     every file ADD names itself (not one below an ADDed directory) is
//     left to a rebuild; ADD --unpack=false is a copy;
//  3. no RUN follows that COPY (Input.RunAfter, the bind-mount rule's
//     condition), and no COPY --from or RUN --mount=from takes the path on
//     from its stage;
//  4. its destination is known from the Dockerfile: WORKDIR chains, ARG and
//     ENV expansion (a variable the Dockerfile never sets may come from the
//     base image: not syncable), directory sources copying their contents,
//     wildcards (each match a source of its own, in walk order), several
//     sources, --parents, --exclude; a relative destination in a stack with
//     no WORKDIR is relative to the image's WorkingDir (Target.Rel);
//  5. nothing later in the stack writes the same place with something else.
//     Later context sources are checked against the context as BuildKit
//     would copy it now (a later "COPY overrides/ /app/" vetoes only the
//     files overrides/ really has); other writes (COPY --from, ADD <url>,
//     heredocs) by their destination. The same path placed by several
//     COPYs is synced to each place; at one place the later COPY's owner
//     and mode win.
//
// The owner is --chown's (Owner: numeric, or names the runtime resolves in
// the container's /etc/passwd and /etc/group with Owner.Resolve, exactly as
// BuildKit does in the stage; a later write of those files makes the path
// not syncable, the container's database being another), else 0:0. The
// mode is --chmod's octal bits, else the host file's own. A symbolic
// --chmod, one with a variable, and one with bits above 0777 are not
// syncable: Docker 20.10's BuildKit ignores the first two and masks the
// last, later versions apply them.
//
// What the runtime must do with a Sync (the sync action builds on this):
//
//   - call Sync for every changed path of a batch whose Classify impact is
//     source and whose action is not none (a bind-mounted path needs
//     nothing); Change.Dir for directories, Change.Removed for paths that
//     are gone (a rename is a removal plus a write). Any path not OK
//     rebuilds the service, as today;
//   - for each Target, Target.Resolve with a Container (IsDir through the
//     Engine API's archive stat, Workdir from the image's config): a file
//     COPYed to a destination without a trailing slash went into it only
//     if it is a directory, which the container shows;
//   - write the host file's content (following a symlink when
//     Target.Follow, else the link itself) with Owner (Resolve Names from
//     the container's /etc/passwd and /etc/group) and Mode (Chmod, else the
//     host file's mode bits); create a missing directory with the same
//     rule (Target.Mkdir: 0755 and Owner);
//   - skip a path under a volume or bind mount of the container: the image
//     is not what the container sees there;
//   - a removal is exact with respect to the Dockerfile's context COPYs
//     (Sync vetoes one an earlier source would show through, and one the
//     next build would fail on: a file a COPY names, the last file a
//     wildcard matches); the base image, an earlier RUN or COPY --from may
//     also hold the path, which only the rebuilt image shows, so the
//     image's convergence must compare removed paths before it spares a
//     container its recreation.
//
// Sync reads the context's directory listing where BuildKit would (which
// files a wildcard matches; whether a later source holds the same path),
// never file contents; it takes 10–70µs per path (BenchmarkSync,
// BenchmarkSyncOverrides: the context is looked up when a later source may
// write the same place) and is safe for concurrent
// use.
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
//
//   // Live update (sync.go): may a change be copied into running containers, and where.
//   type Change struct { Path string /* abs */; Dir, Removed bool }
//   type Sync struct { OK bool; Reason string; Targets []Target }
//   type Target struct {
//       Path, Dir, Base string // Dir set: Dir/Base if Dir is a directory in the container, else Path ("" = not syncable)
//       Rel    bool            // Path and Dir are relative to the image config's WorkingDir
//       Mkdir  bool            // the COPY's destination directory itself: ensure it exists (0755, Owner)
//       Owner  Owner           // --chown; names resolved in the container: Owner.Resolve(passwd, group []byte) (uid, gid int)
//       Mode   fs.FileMode     // --chmod bits when Chmod; else the host file's mode
//       Chmod  bool
//       Follow bool            // a COPY source itself: copy what a symlink points to
//       Input  *Input          // the deciding COPY/ADD
//   }
//   type Owner struct { Chown string; UID, GID int; User, Group string }; func (o Owner) Known() bool
//   type Container interface { IsDir(path string) (bool, error); Workdir() (string, error) }
//   func (t Target) Resolve(c Container) (string, error) // errors.Is(err, ErrNotSyncable): rebuild instead
//   func (m *Model) Sync(ch Change) Sync // safe for concurrent use; 10-70µs/path
//   // What the image runs (process.go), as the final stack's ENTRYPOINT/CMD/ENV/WORKDIR leave it;
//   // *Set false: the base image's, which only the engine knows.
//   type ImageProcess struct { Base string; Entrypoint, Cmd []string; EntrypointSet, CmdSet bool; Env []string; Workdir string; WorkdirSet bool }
//   func (m *Model) Process() ImageProcess
//   type FakeContainer struct { Dirs map[string]bool; WorkingDir string; Err error; Asked []string } // for tests
