package conformance

// explain returns the name of the known difference that accounts for r, ""
// when none does.
func explain(b builder, r *contextResult) string { return "" }
