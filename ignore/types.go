package ignore

// Matcher answers .dockerignore questions for one build context.
// The zero value is not usable; build one with New or Load.
type Matcher struct {
	patterns []string
	// implementation fields are added by the package
}

// Patterns returns the patterns as read, for fingerprints and explain.
func (m *Matcher) Patterns() []string { return m.patterns }
