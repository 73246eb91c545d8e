package fingerprint

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"time"
	"unsafe"

	"github.com/rebuildd/rebuildd/statedir"
)

// The persisted index: indexMagic, the entry count (uvarint), then per
// entry in path order: the path's length (uvarint) and bytes, size, mtime,
// inode (8 bytes each, little endian), st_mode (4), the content SHA-256
// (32) and the entry's FileSum (fileSumLen hex digits).
const (
	// indexMagic starts the file; bump the version when the layout changes
	// (an index of another version loads as empty: one full read, no harm).
	indexMagic = "rebuildd-index-v2\n"
	entryFixed = 8 + 8 + 8 + 4 + 32 + fileSumLen
	// maxIndexEntries bounds what a damaged index can make LoadIndex
	// allocate; it is far above any build context Docker could send.
	maxIndexEntries = 1 << 24
	maxIndexPath    = 1 << 16
)

// Offsets of an entry's fixed-size fields, after its path.
const (
	fixedSize, fixedMtime, fixedIno, fixedMode, fixedSum, fixedFsum = 0, 8, 16, 24, 28, 60
)

// LoadIndex reads the index persisted at path. A missing or unreadable file
// (other version, truncated) gives an empty index: the index is a cache, and
// losing it costs one full read of the tree, never a wrong answer.
//
// The file is read in one piece and its entries are used where they are:
// loading 50,000 entries allocates the file and one small slice.
func LoadIndex(path string, now func() time.Time) *Index {
	x := NewIndex(now)
	b, err := statedir.ReadFile(path)
	if err != nil || len(b) == 0 {
		return x
	}
	// b is never written again, so it may back a string (no 6 MB copy).
	data := unsafe.String(unsafe.SliceData(b), len(b))
	if base, err := parseIndex(data); err == nil {
		x.data, x.base = data, base
	}
	return x
}

func parseIndex(s string) ([]baseEntry, error) {
	if len(s) < len(indexMagic) || s[:len(indexMagic)] != indexMagic || len(s) > math.MaxUint32 {
		return nil, errors.New("not a rebuildd index")
	}
	off := len(indexMagic)
	n, k := uvarint(s[off:])
	if k <= 0 || n > maxIndexEntries || n > uint64(len(s)-off)/(entryFixed+1) {
		return nil, errors.New("bad index size")
	}
	off += k
	base := make([]baseEntry, n)
	prev := ""
	for i := range base {
		plen, k := uvarint(s[off:])
		if k <= 0 || plen > maxIndexPath || uint64(len(s)-off-k) < plen+entryFixed {
			return nil, errors.New("bad index entry")
		}
		off += k
		path := s[off : off+int(plen)]
		if i > 0 && path <= prev {
			return nil, errors.New("index out of order") // lookups search it
		}
		base[i].off, base[i].plen, prev = uint32(off), uint32(plen), path
		off += int(plen) + entryFixed
	}
	if off != len(s) {
		return nil, errors.New("trailing bytes in index")
	}
	return base, nil
}

// fixedStat reads the stat fields of an entry's fixed part.
func fixedStat(f string) fileStat {
	return fileStat{Size: int64(le64(f[fixedSize:])), Mtime: int64(le64(f[fixedMtime:])),
		Ino: le64(f[fixedIno:]), Mode: uint32(le64(f[fixedMode : fixedMode+4]))}
}

// le64 reads a little-endian number from the first min(len(s), 8) bytes of s.
func le64(s string) uint64 {
	var v uint64
	for i := min(len(s), 8) - 1; i >= 0; i-- {
		v = v<<8 | uint64(s[i])
	}
	return v
}

// uvarint is binary.Uvarint over a string.
func uvarint(s string) (uint64, int) {
	var v uint64
	for i := 0; i < len(s) && i < binary.MaxVarintLen64; i++ {
		c := s[i]
		if c < 0x80 {
			return v | uint64(c)<<(7*i), i + 1
		}
		v |= uint64(c&0x7f) << (7 * i)
	}
	return 0, 0
}

// Save writes the index atomically to path. It does nothing when no hash was
// taken and nothing was pruned since the last load or save: an up-to-date
// run writes nothing.
func (x *Index) Save(path string) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	if !x.dirty {
		return nil
	}
	err := statedir.WriteAtomic(path, func(w io.Writer) error { return x.write(w, x.saved()) })
	if err != nil {
		return fmt.Errorf("save index %q: %w", path, err)
	}
	x.dirty = false
	return nil
}

// savedEntry is one entry a save writes: a loaded one, copied as it is
// (fixed), or a fresh one.
type savedEntry struct {
	path  string
	fixed string
	e     *indexEntry
}

// saved lists, in path order, the entries a save keeps: loaded entries not
// dropped nor re-hashed, and fresh ones; racy entries are re-hashed next
// time anyway. Called with x.mu held.
func (x *Index) saved() []savedEntry {
	fresh := make([]savedEntry, 0, len(x.fresh))
	for p, e := range x.fresh {
		if !e.Racy {
			fresh = append(fresh, savedEntry{path: p, e: e})
		}
	}
	sort.Slice(fresh, func(i, j int) bool { return fresh[i].path < fresh[j].path })
	out := make([]savedEntry, 0, len(x.base)+len(fresh))
	for i := range x.base {
		b := &x.base[i]
		p := x.path(b)
		if b.flags.Load()&entryDropped != 0 || x.fresh[p] != nil {
			continue
		}
		for len(fresh) > 0 && fresh[0].path < p {
			out, fresh = append(out, fresh[0]), fresh[1:]
		}
		out = append(out, savedEntry{path: p, fixed: x.fixed(b)})
	}
	return append(out, fresh...)
}

func (x *Index) write(w io.Writer, entries []savedEntry) error {
	bw := bufio.NewWriterSize(w, 1<<16)
	bw.WriteString(indexMagic)
	var tmp [binary.MaxVarintLen64]byte
	bw.Write(tmp[:binary.PutUvarint(tmp[:], uint64(len(entries)))])
	var fixed [entryFixed]byte
	for _, s := range entries {
		bw.Write(tmp[:binary.PutUvarint(tmp[:], uint64(len(s.path)))])
		bw.WriteString(s.path)
		if s.e == nil {
			bw.WriteString(s.fixed)
			continue
		}
		e := s.e
		binary.LittleEndian.PutUint64(fixed[fixedSize:], uint64(e.Size))
		binary.LittleEndian.PutUint64(fixed[fixedMtime:], uint64(e.Mtime))
		binary.LittleEndian.PutUint64(fixed[fixedIno:], e.Ino)
		binary.LittleEndian.PutUint32(fixed[fixedMode:], e.Mode)
		copy(fixed[fixedSum:], e.Sum[:])
		copy(fixed[fixedFsum:], e.fsum)
		bw.Write(fixed[:])
	}
	return bw.Flush()
}
