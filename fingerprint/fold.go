package fingerprint

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"

	"github.com/rebuildd/rebuildd/dockerfile"
)

// fold is an order-free digest of a set of files: the lane-wise sum
// (mod 2^64) of one SHA-256 per file over its path, content sum and
// impact. Adding or removing a file is O(1), so watch mode keeps a
// 50,000-file print current from the changed files alone, and a full
// walk needs no sort. Accidental collisions are as unlikely as SHA-256's;
// the fold is for telling builds apart, not for resisting an attacker who
// writes the build context.
type fold [4]uint64

// line is the digest of one file of the print.
func line(rel string, f FileSum) [32]byte {
	buf := make([]byte, 0, len(rel)+len(f.Sum)+len(f.Impact)+2)
	buf = append(append(append(append(append(buf, rel...), 0), f.Sum...), 0), f.Impact...)
	return sha256.Sum256(buf)
}

func (f *fold) add(h [32]byte) {
	for i := range f {
		f[i] += binary.LittleEndian.Uint64(h[8*i:])
	}
}

func (f *fold) sub(h [32]byte) {
	for i := range f {
		f[i] -= binary.LittleEndian.Uint64(h[8*i:])
	}
}

// minus is f without the files of g (g must be a subset of f's files).
func (f fold) minus(g fold) fold {
	for i := range f {
		f[i] -= g[i]
	}
	return f
}

// String is the fold as a part of the print (fileSumLen hex digits of its hash).
func (f fold) String() string {
	var b [32]byte
	for i, v := range f {
		binary.LittleEndian.PutUint64(b[8*i:], v)
	}
	sum := sha256.Sum256(b[:])
	return hex.EncodeToString(sum[:])[:fileSumLen]
}

// of is the fold a file of this impact belongs to (deps or source).
func (p *Print) of(i dockerfile.Impact) *fold {
	if i == dockerfile.ImpactDeps {
		return &p.deps
	}
	return &p.source
}

// refold recomputes the folds from Files.
func (p *Print) refold() {
	p.deps, p.source, p.live = fold{}, fold{}, fold{}
	for rel, f := range p.Files {
		p.fold(rel, f, line(rel, f))
	}
}

// fold adds one file's line h to the folds it belongs to.
func (p *Print) fold(rel string, f FileSum, h [32]byte) {
	p.of(f.Impact).add(h)
	if f.Live {
		p.live.add(h)
	}
}

// put adds or replaces one file, keeping the folds current.
func (p *Print) put(rel string, f FileSum) {
	p.remove(rel)
	p.Files[rel] = f
	p.fold(rel, f, line(rel, f))
}

// remove drops one file if the print has it.
func (p *Print) remove(rel string) {
	if old, ok := p.Files[rel]; ok {
		h := line(rel, old)
		p.of(old.Impact).sub(h)
		if old.Live {
			p.live.sub(h)
		}
		delete(p.Files, rel)
	}
}
