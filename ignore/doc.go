// Package ignore reads .dockerignore files exactly as Docker does
// (github.com/moby/patternmatcher and its ignorefile reader), answers whether
// a context-relative path is excluded, whether a whole directory can be
// skipped by the watcher, and whether a file name is an editor or tool temp
// file that must never trigger a rebuild on its own.
package ignore
