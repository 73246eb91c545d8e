package ignore

// API CONTRACT (implemented in this package; other packages rely on it):
//
//   // Load finds the ignore file Docker would use for a build: <dockerfile>.dockerignore
//   // beside the Dockerfile when it exists, else <context>/.dockerignore. It returns the
//   // matcher and the absolute path of the file used ("" when none exists; the matcher
//   // then excludes nothing). dockerfile may be "" (dockerfile_inline).
//   func Load(context, dockerfile string) (m *Matcher, file string, err error)
//
//   // New builds a matcher from patterns (already read, one per element). Errors name
//   // the pattern. Parse errors from Load name the file and line.
//   func New(patterns []string) (*Matcher, error)
//
//   // Excluded reports whether the context-relative, slash-separated path rel is
//   // excluded from the build context. "" and "." are never excluded.
//   // Safe for concurrent use; reuses parent-directory results (cached).
//   func (m *Matcher) Excluded(rel string) bool
//
//   // SkipDir reports whether the directory rel (context-relative) and everything
//   // under it is excluded, i.e. no `!` exception could re-include anything below it.
//   // Errs on the side of false (descend).
//   func (m *Matcher) SkipDir(rel string) bool
//
//   // Patterns returns the patterns as read (for fingerprints and explain).
//   func (m *Matcher) Patterns() []string
//
//   // IsTempFile reports whether the base name of path is an editor or tool
//   // temp file (vim 4913, *~, .*.sw?, JetBrains ___jb_tmp___/___jb_old___,
//   // emacs .#* and #*#, kate *.kate-swp, .DS_Store, VS Code / atomic-save temps).
//   func IsTempFile(path string) bool
