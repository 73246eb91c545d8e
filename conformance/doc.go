// Package conformance checks rebuildd's idea of a build against Docker's own
// (issue 7, "Conformance (real engine)"). It holds only generators; the
// oracles are tests (context_test.go, layer_test.go) that build the generated
// cases with a real engine and compare what Docker did with what the ignore
// and dockerfile packages say:
//
//   - the context oracle: random trees and random ignore files, built with a
//     Dockerfile that copies the whole context; the files the image received
//     must be exactly the files d.Load(...).Excluded leaves in, for the
//     ignore dialect d rebuildd uses for that builder (buildkit, classic,
//     classic-20.10, docker-py);
//   - the layer oracle: random multi-stage Dockerfiles, built, one file
//     changed, built again; the steps that missed the cache must start at
//     the inputs dockerfile.Model.Classify names, and a path it calls unused
//     or ignored must re-run nothing;
//   - the sync oracle: generated Dockerfiles that copy files with their own
//     modes and owners every way COPY can; where dockerfile.Model.Sync says
//     the image holds each file, with which owner and mode, must be exactly
//     where the built image has it, and a removal Sync allows must leave
//     nothing there after a rebuild.
//
// Every case comes from its own seed (math/rand/v2 PCG), so a difference is
// reproduced with -conformance.seed=S -conformance.n=1 whatever machine it was
// found on. docs/conformance.md says how to run thousands of cases and what
// was found.
package conformance
