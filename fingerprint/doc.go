// Package fingerprint owns "what a build read": for one service it walks the
// build context (pruning what the ignore file excludes), sums every file the
// layer model says the build reads, and folds them into a Print whose Sum
// changes exactly when the build's inputs change (docs/design.md,
// "Fingerprints").
//
// It owns:
//   - the walk (walk_linux.go) and the stat index that lets an unchanged
//     tree be checked from stat alone (index.go, index_file.go);
//   - the Print and its order-free folds (fingerprint.go, fold.go);
//   - prints kept current from the watcher's batches in watch mode, and
//     the count of changes that unsettle a running build (live.go,
//     settle.go);
//   - the records of past builds (state.go, Store), kept in the state
//     directory that package statedir lays out.
//
// It knows nothing of Docker: image IDs of base images enter a print only
// as strings (WithBases).
package fingerprint
