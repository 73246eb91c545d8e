package docker

import "context"

// A background build (a live update's converge, docs/design.md "Live
// update") reports no progress: the person watching saw their change
// served already, and its result line says when the image caught up.

type backgroundKey struct{}

// Background marks ctx's commands as background work.
func Background(ctx context.Context) context.Context {
	return context.WithValue(ctx, backgroundKey{}, true)
}

// InBackground reports whether ctx's commands are background work.
func InBackground(ctx context.Context) bool {
	b, _ := ctx.Value(backgroundKey{}).(bool)
	return b
}
