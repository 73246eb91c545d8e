package fingerprint

import (
	"os"

	"github.com/rebuildd/rebuildd/dockerfile"
)

// dirClassifier is implemented by *dockerfile.Model: Classify for a
// directory that may be gone.
type dirClassifier interface {
	ClassifyDir(abs string) dockerfile.Result
}

// ClassifyPath is Classify, except that a path no instruction reads as a file
// and that is not a file now (a directory, or nothing: moved or deleted
// away) is asked about as a directory: what was below it may have been read.
func ClassifyPath(c Classifier, p string) dockerfile.Result {
	r := c.Classify(p)
	dc, ok := c.(dirClassifier)
	if r.Impact != dockerfile.ImpactUnused || !ok {
		return r
	}
	if fi, err := os.Lstat(p); err == nil && !fi.IsDir() {
		return r
	}
	return dc.ClassifyDir(p)
}
