package docker

import (
	"bytes"
	"io"
)

// The classic builder (Compose v1 here) commits every step as an untagged
// image, and until the next step is committed on top of it that image is
// dangling: a `docker image prune` or another cleanup running at that
// moment removes it, and the build fails with "failed to set parent ...:
// unknown parent image ID" (a COPY after a RUN), "failed to get digest
// sha256:..." (a RUN's commit) or, looking for a cached step among images
// being removed, `unable to find image "sha256:..."`.
// Nothing was wrong with the build; the same command builds a moment later.
// So a build that fails that way is run again (Build), and the output says
// why.

// vanishedAttempts bounds the runs of one build: each step of a classic
// build leaves a window of a second or so, and a machine pruning every
// second (scripts/e2e-prune-stress.sh) was seen to hit two runs in a row;
// three in a row means the machine is deleting images faster than anyone
// can build, and the error says so.
const vanishedAttempts = 3

// vanishedSigns are the classic builder's messages for an image removed
// while the build used it.
var vanishedSigns = [][]byte{
	[]byte("unknown parent image ID"),
	[]byte("failed to set parent sha256:"),
	[]byte(`unable to find image "sha256:`),
	[]byte("No such image: sha256:"),
	[]byte("failed to get digest sha256:"),
}

// vanishWatch passes output through and notes whether it showed an image
// removed during the build. Lines may arrive split across writes, so the
// end of the previous write is kept to match across the seam.
type vanishWatch struct {
	out  io.Writer // nil: discard
	seam []byte
	seen bool
}

// seamLen covers the longest sign.
const seamLen = 64

func (w *vanishWatch) Write(p []byte) (int, error) {
	if !w.seen {
		buf := append(w.seam, p...)
		for _, s := range vanishedSigns {
			if bytes.Contains(buf, s) {
				w.seen = true
				break
			}
		}
		w.seam = append(w.seam[:0], buf[max(0, len(buf)-seamLen):]...)
	}
	if w.out == nil {
		return len(p), nil
	}
	return w.out.Write(p)
}
