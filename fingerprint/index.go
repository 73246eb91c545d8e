package fingerprint

import (
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Index remembers, per absolute path, the stat data a content hash was taken
// from, like git's index: an unchanged tree is fingerprinted from lstat alone
// and only files whose size, mtime, inode or mode moved are read again.
//
// The entries loaded from disk stay where they are in the file's bytes
// (data), found through base, which lists them in path order: the context
// walk finds a directory's range once and each file in it with a short
// binary search, without locks, and loading builds no map and no entry
// objects. Hashes taken since the load go to fresh, which supersedes base.
//
// Index is safe for concurrent use: the fingerprint walk hashes from several
// goroutines.
type Index struct {
	data   string       // the loaded file (see index_file.go for its layout)
	base   []baseEntry  // its entries, in path order; never resized after load
	nfresh atomic.Int64 // len(fresh): lookups skip the lock while it is 0
	mu     sync.Mutex   // guards fresh, dirty
	fresh  map[string]*indexEntry
	dirty  bool
	now    func() time.Time
	hash   func(abs string) ([32]byte, error) // seam: tests count reads
}

// baseEntry is a loaded entry: where its path is in data (its fixed-size
// fields follow the path) and what happened to it since the load.
type baseEntry struct {
	off, plen uint32
	flags     atomic.Uint32 // entrySeen, entryDropped
}

// fileStat is the part of an lstat result a cached hash depends on.
type fileStat struct {
	Size  int64
	Mtime int64 // ns
	Ino   uint64
	Mode  uint32 // st_mode: type and permission bits
}

func (s fileStat) time() time.Time { return time.Unix(0, s.Mtime) }

// fileMode is st_mode as an fs.FileMode (type, permissions, setuid/gid, sticky).
func (s fileStat) fileMode() fs.FileMode {
	m := fs.FileMode(s.Mode & 0o777)
	switch s.Mode & syscall.S_IFMT {
	case syscall.S_IFLNK:
		m |= fs.ModeSymlink
	case syscall.S_IFDIR:
		m |= fs.ModeDir
	}
	if s.Mode&syscall.S_ISUID != 0 {
		m |= fs.ModeSetuid
	}
	if s.Mode&syscall.S_ISGID != 0 {
		m |= fs.ModeSetgid
	}
	if s.Mode&syscall.S_ISVTX != 0 {
		m |= fs.ModeSticky
	}
	return m
}

// indexEntry is a hash taken since the load: what one file looked like
// when it was hashed.
type indexEntry struct {
	path string
	fileStat
	Sum [32]byte
	// fsum is the file's FileSum.Sum (mode and content, see fileSumOf),
	// kept so an unchanged file costs no hashing at all.
	fsum string
	Racy bool // mtime was too close to hashing time to trust (see racyWindow)
}

const (
	entrySeen    = 1 << iota // looked up since the index was loaded (see Prune)
	entryDropped             // pruned: no longer answers lookups, not saved
)

// seen marks b looked up, writing only the first time (50,000 entries are
// looked up by several walkers; a store per lookup would bounce cache lines).
func (b *baseEntry) seen() {
	if b.flags.Load()&entrySeen == 0 {
		b.flags.Or(entrySeen)
	}
}

func (x *Index) path(b *baseEntry) string { return x.data[b.off : b.off+b.plen] }

// fixed is the entry's fixed-size fields (entryFixed bytes).
func (x *Index) fixed(b *baseEntry) string {
	o := b.off + b.plen
	return x.data[o : o+entryFixed]
}

// racyWindow: a file written within this long before it was hashed may be
// written again within the file system's mtime granularity (1 s on some
// network and FUSE file systems, 2 s on FAT) without its stat changing, so
// its cached hash is not trusted (git's "racily clean" entries).
const racyWindow = 2 * time.Second

// NewIndex returns an empty index. now is injected for tests; nil means time.Now.
func NewIndex(now func() time.Time) *Index {
	if now == nil {
		now = time.Now
	}
	return &Index{fresh: map[string]*indexEntry{}, now: now, hash: hashFile}
}

// statOf is the index key of an lstat result.
func statOf(fi fs.FileInfo) fileStat {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return fileStat{Size: st.Size, Mtime: st.Mtim.Nano(), Ino: st.Ino, Mode: st.Mode}
	}
	return fileStat{Size: fi.Size(), Mtime: fi.ModTime().UnixNano(), Mode: uint32(fi.Mode().Perm())}
}

// fileSumOf is a print's sum of one file: fileSumLen hex digits of the
// SHA-256 of its mode in octal, a NUL and its content hash (or, for a
// symlink, its target). Records store these, so the layout must not change.
func fileSumOf(mode fs.FileMode, content []byte) string {
	buf := make([]byte, 0, 16+len(content))
	buf = append(strconv.AppendUint(buf, uint64(mode), 8), 0)
	h := sha256.Sum256(append(buf, content...))
	return hex.EncodeToString(h[:fileSumLen/2])
}

// Sum returns the SHA-256 of the file at abs whose lstat result is fi, from
// the index when its stat data is unchanged, else by reading the file.
func (x *Index) Sum(abs string, fi fs.FileInfo) ([32]byte, error) {
	return x.sumStat(abs, statOf(fi))
}

func (x *Index) sumStat(abs string, key fileStat) ([32]byte, error) {
	sum, _, err := x.entry(abs, key, nil)
	return sum, err
}

// dirIndex is the part of the base below one directory, found once per
// directory by the walk.
type dirIndex struct {
	x      *Index
	prefix string      // "<abs dir>/"
	ents   []baseEntry // base entries under prefix, at any depth, in path order
}

// under returns the base entries below the directory abs.
func (x *Index) under(abs string) dirIndex {
	prefix := abs + "/"
	lo := sort.Search(len(x.base), func(i int) bool { return x.path(&x.base[i]) >= prefix })
	hi := lo + sort.Search(len(x.base)-lo, func(i int) bool { return !strings.HasPrefix(x.path(&x.base[lo+i]), prefix) })
	return dirIndex{x: x, prefix: prefix, ents: x.base[lo:hi:hi]}
}

// find is the entry of the file name directly in the directory, nil when none.
func (d *dirIndex) find(name string) *baseEntry {
	n := len(d.prefix)
	i := sort.Search(len(d.ents), func(i int) bool { return d.x.path(&d.ents[i])[n:] >= name })
	if i < len(d.ents) && d.x.path(&d.ents[i])[n:] == name {
		return &d.ents[i]
	}
	return nil
}

// lookup finds abs: a hash taken since the load (fresh), else the loaded
// entry (found through d when the caller has the directory's range), else
// neither.
func (x *Index) lookup(abs string, d *dirIndex) (fresh *indexEntry, base *baseEntry) {
	if x.nfresh.Load() > 0 {
		x.mu.Lock()
		e := x.fresh[abs]
		x.mu.Unlock()
		if e != nil {
			return e, nil
		}
	}
	var b *baseEntry
	if d != nil && strings.HasPrefix(abs, d.prefix) {
		b = d.find(abs[len(d.prefix):])
	} else {
		i := sort.Search(len(x.base), func(i int) bool { return x.path(&x.base[i]) >= abs })
		if i < len(x.base) && x.path(&x.base[i]) == abs {
			b = &x.base[i]
		}
	}
	if b == nil || b.flags.Load()&entryDropped != 0 {
		return nil, nil
	}
	return nil, b
}

// entry returns the content hash and print sum of the regular file abs
// whose lstat result is key, hashing the file when the index has no
// trusted entry for it.
func (x *Index) entry(abs string, key fileStat, d *dirIndex) (sum [32]byte, fsum string, err error) {
	switch fresh, base := x.lookup(abs, d); {
	case fresh != nil && !fresh.Racy && fresh.fileStat == key:
		return fresh.Sum, fresh.fsum, nil
	case base != nil:
		base.seen()
		if f := x.fixed(base); fixedStat(f) == key {
			copy(sum[:], f[fixedSum:])
			return sum, f[fixedFsum:], nil
		}
	}
	if sum, err = x.hash(abs); err != nil {
		return sum, "", err
	}
	e := &indexEntry{path: abs, fileStat: key, Sum: sum, fsum: fileSumOf(key.fileMode(), sum[:]),
		Racy: x.now().Sub(key.time()) < racyWindow}
	x.mu.Lock()
	if x.fresh[abs] == nil {
		x.nfresh.Add(1)
	}
	x.fresh[abs] = e
	x.dirty = true
	x.mu.Unlock()
	return e.Sum, e.fsum, nil
}

// Len is the number of entries (for tests and logs).
func (x *Index) Len() int {
	x.mu.Lock()
	defer x.mu.Unlock()
	n := len(x.fresh)
	for i := range x.base {
		if b := &x.base[i]; b.flags.Load()&entryDropped == 0 && x.fresh[x.path(b)] == nil {
			n++
		}
	}
	return n
}

// Prune drops the entries not looked up since the index was loaded: paths
// that vanished or left every context. Call it only after fingerprinting
// every service of the project, or the other services' entries go too.
// Hashes taken since the load were looked up, so only loaded entries go.
func (x *Index) Prune() {
	x.mu.Lock()
	defer x.mu.Unlock()
	for i := range x.base {
		b := &x.base[i]
		if b.flags.Load()&(entrySeen|entryDropped) == 0 {
			b.flags.Or(entryDropped)
			x.dirty = true
		}
	}
}

// ContentSum is the FileSum.Sum a print gives the regular file whose lstat
// result is fi and whose content is content: a live update compares what
// it copied with the print it claims the container now holds.
func ContentSum(fi fs.FileInfo, content []byte) string {
	sum := sha256.Sum256(content)
	return fileSumOf(statOf(fi).fileMode(), sum[:])
}

// LinkSum is the FileSum.Sum of a symbolic link with this lstat result
// and target.
func LinkSum(fi fs.FileInfo, target string) string {
	return fileSumOf(statOf(fi).fileMode(), []byte(target))
}
