package fingerprint

import (
	"strings"

	"github.com/rebuildd/rebuildd/config"
	"github.com/rebuildd/rebuildd/dockerfile"
)

// SourceOf is SourceFor with everything taken from the service's layer
// model, so the fingerprint classifies with the same model and prunes
// exactly what Docker leaves out of the context.
func SourceOf(svc config.Service, m *dockerfile.Model) Source {
	var prune Pruner
	if ig := m.Ignore(); ig != nil { // a nil *Matcher in the interface would not be nil
		prune = ig
	}
	src := SourceFor(svc, m, m.Dockerfile(), prune, m.IgnoreFile())
	for _, st := range m.Analysis().Stages {
		src.Bases = append(src.Bases, st.Base)
	}
	src.Binds = m.Binds()
	src.Mounts = "on_source=" + m.OnSource() + "\x00" + strings.Join(src.Binds, "\x00")
	return src
}
