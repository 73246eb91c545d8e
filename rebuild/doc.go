// Package rebuild owns "what to do": it turns fingerprints, records and the
// engine's state into decisions (plan.go), carries them out for --once and
// --check (once.go, run.go), and in watch mode turns the watcher's batches
// into requests (triage.go, rules.go, roots.go) that a fair scheduler
// (scheduler.go) hands to the daemon's workers (daemon*.go).
//
// It sits at the end of the pipeline (docs/design.md, "Packages"): it reads
// config, dockerfile, fingerprint, docker and watcher, and none of them
// reads it.
package rebuild
