// Package e2e is the rig for rebuildd's end-to-end tests against a real Docker
// Engine and the real Compose CLIs. It is imported only from _test.go files.
//
// A typical test:
//
//	func TestServe(t *testing.T) {
//		e2e.Require(t) // skip (or fail with REBUILDD_E2E=1) without an engine
//		base := e2e.BaseImage(t)
//		for _, c := range e2e.Composes(t) {
//			t.Run(c.Name, func(t *testing.T) {
//				port := e2e.FreePort(t)
//				p := e2e.NewProject(t, c, map[string]string{
//					"compose.yaml": e2e.HTTPService("web", ".", port),
//					"Dockerfile":   "FROM " + base + "\nCOPY site /www\n" + e2e.HTTPDCmd,
//					"site/index.html": "v1",
//				})
//				since := p.Mark()
//				p.MustCompose("up", "-d", "--build")
//				e2e.WaitServing(t, e2e.URL(port, "/"), "v1", 30*time.Second)
//				if n := p.Builds(since); n != 1 { ... }
//			})
//		}
//	}
//
// Every project gets a unique name ("rbtest" + random hex) and is torn down
// with `down -v --rmi local --remove-orphans` plus a label sweep when the test
// ends, pass or fail, so a failing test leaves no containers, networks,
// volumes or images behind.
//
// Builds and container creations are counted from the engine itself
// (Project.Events, recorded live from `docker events`, and Project.Builds,
// which also reads the project's images because BuildKit builds emit no
// event), never from rebuildd's logs, so a test checks what Docker really
// did. Take since from p.Mark(): under BuildKit, Builds can only count images
// new to the project since a Mark (docs/e2e.md). Tests that start rebuildd
// give it os.Environ() plus p.Env(), so it runs Compose as the rig does.
//
// Environment:
//
//   - REBUILDD_E2E=1 turns every "no engine", "no compose" or "no busybox"
//     skip into a failure. CI (.ci/run) sets it when `docker info` answers.
//   - go test -short skips the e2e tests.
//
// docs/e2e.md describes what the machine needs (scripts/install-test-deps.sh
// installs it) and the differences between Compose v1 and v2 seen here.
package e2e
