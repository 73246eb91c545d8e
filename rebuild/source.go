package rebuild

import (
	"github.com/rebuildd/rebuildd/config"
	"github.com/rebuildd/rebuildd/dockerfile"
)

// SourceOf describes a build service's inputs from its layer model, so
// the fingerprint classifies with the same model and prunes exactly what
// Docker leaves out of the context.
func SourceOf(svc config.Service, m *dockerfile.Model) Source {
	b := svc.Build
	src := Source{
		Service:          svc.Name,
		Context:          m.Context(),
		Dockerfile:       m.Dockerfile(),
		DockerfileInline: b.DockerfileInline,
		IgnoreFile:       m.IgnoreFile(),
		Target:           b.Target,
		Args:             b.Args,
		Classify:         m,
	}
	if ig := m.Ignore(); ig != nil {
		src.Prune = ig
	}
	return src
}
