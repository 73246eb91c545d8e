// Package docker owns how rebuildd drives Docker: the user's Compose CLI for
// every build, recreate and restart (compose.go, with its flavours v1/v2 in
// compose_flavor.go and the builder whose ignore rules each flavour follows
// in builder.go), and the Engine API for reading state — images,
// containers, readiness — for copying files into containers (engine.go,
// sync.go), and for refreshing a volume that hides a new image's files
// (volumes.go, with short-lived containers in throwaway.go). Prefetch asks
// the engine ahead of a decision in watch mode.
//
// Fakes for other packages' tests live in fake.go: FakeEngine holds images,
// containers and their volumes in memory, FakeRunner acts on it the way a build and an
// up act on a real engine. See docs/design.md, "Driving Docker".
package docker
