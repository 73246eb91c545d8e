package dockerfile

import "github.com/rebuildd/rebuildd/ignore"

// Ignore returns the build's ignore matcher (nil when the context has no
// ignore file), so the fingerprint walk prunes exactly what Docker skips.
func (m *Model) Ignore() *ignore.Matcher { return m.ign }

// SkipWatch reports whether the context directory rel (slash-separated,
// context-relative) needs no watch: nothing under it can reach the image
// (.dockerignore skips it) or trigger anything (rebuild.yaml's extra ignore
// patterns skip it).
func (m *Model) SkipWatch(rel string) bool {
	if m.ign != nil && m.ign.SkipDir(rel) {
		return true
	}
	return m.trig != nil && m.trig.SkipDir(rel)
}
