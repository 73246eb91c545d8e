package conformance

// explain returns the name of the known difference that accounts for r, ""
// when none does.
func explain(b builder, r *contextResult) string { return "" }

// explainLayer returns the name of the known difference that accounts for
// a layer case's problems, "" when none does.
func explainLayer(b builder, r *layerRun, problems []string) string { return "" }
