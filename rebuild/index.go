package rebuild

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"syscall"
	"time"
)

// Index remembers, per absolute path, the stat data a content hash was taken
// from, like git's index: an unchanged tree is fingerprinted from lstat alone
// and only files whose size, mtime, inode or mode moved are read again.
//
// Index is safe for concurrent use: the fingerprint walk hashes from several
// goroutines.
type Index struct {
	mu sync.Mutex
	// entries point to their values so a lookup marks an entry seen without
	// a map write: an up-to-date check of 50,000 files does no map growth.
	entries map[string]*indexEntry
	dirty   bool
	now     func() time.Time
	hash    func(abs string) ([32]byte, error) // seam: tests count reads
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

// indexEntry is what one file looked like when it was hashed.
type indexEntry struct {
	fileStat
	Sum  [32]byte
	Racy bool // mtime was too close to hashing time to trust (see racyWindow)
	seen bool // looked up since the index was loaded (see Prune)
}

// racyWindow: a file written within this long before it was hashed may be
// written again within the file system's mtime granularity (1 s on some
// network and FUSE file systems, 2 s on FAT) without its stat changing, so
// its cached hash is not trusted (git's "racily clean" entries).
const racyWindow = 2 * time.Second

// maxIndexEntries bounds what a damaged index can make LoadIndex allocate;
// it is far above any build context Docker could send.
const maxIndexEntries = 1 << 24

// indexMagic starts the persisted index; bump the version when the layout changes.
const indexMagic = "rebuildd-index-v1\n"

// NewIndex returns an empty index. now is injected for tests; nil means time.Now.
func NewIndex(now func() time.Time) *Index {
	if now == nil {
		now = time.Now
	}
	return &Index{entries: map[string]*indexEntry{}, now: now, hash: hashFile}
}

// statOf is the index key of an lstat result.
func statOf(fi fs.FileInfo) fileStat {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return fileStat{Size: st.Size, Mtime: st.Mtim.Nano(), Ino: st.Ino, Mode: st.Mode}
	}
	return fileStat{Size: fi.Size(), Mtime: fi.ModTime().UnixNano(), Mode: uint32(fi.Mode().Perm())}
}

// Sum returns the SHA-256 of the file at abs whose lstat result is fi, from
// the index when its stat data is unchanged, else by reading the file.
func (x *Index) Sum(abs string, fi fs.FileInfo) ([32]byte, error) {
	return x.sumStat(abs, statOf(fi))
}

func (x *Index) sumStat(abs string, key fileStat) ([32]byte, error) {
	x.mu.Lock()
	old := x.entries[abs]
	if old != nil {
		old.seen = true
	}
	x.mu.Unlock()
	if old != nil && !old.Racy && old.fileStat == key {
		return old.Sum, nil
	}
	sum, err := x.hash(abs)
	if err != nil {
		return sum, err
	}
	e := &indexEntry{fileStat: key, Sum: sum, Racy: x.now().Sub(key.time()) < racyWindow, seen: true}
	x.mu.Lock()
	x.entries[abs] = e
	x.dirty = true
	x.mu.Unlock()
	return sum, nil
}

// Len is the number of entries (for tests and logs).
func (x *Index) Len() int {
	x.mu.Lock()
	defer x.mu.Unlock()
	return len(x.entries)
}

// LoadIndex reads the index persisted at path. A missing or unreadable file
// (other version, truncated) gives an empty index: the index is a cache, and
// losing it costs one full read of the tree, never a wrong answer.
func LoadIndex(path string, now func() time.Time) *Index {
	x := NewIndex(now)
	f, err := os.Open(path)
	if err != nil {
		return x
	}
	defer f.Close()
	entries, err := readIndex(bufio.NewReaderSize(f, 1<<16))
	if err != nil {
		return x
	}
	x.entries = entries
	return x
}

func readIndex(r *bufio.Reader) (map[string]*indexEntry, error) {
	magic := make([]byte, len(indexMagic))
	if _, err := io.ReadFull(r, magic); err != nil || string(magic) != indexMagic {
		return nil, errors.New("not a rebuildd index")
	}
	n, err := binary.ReadUvarint(r)
	if err != nil || n > maxIndexEntries {
		return nil, errors.New("bad index size")
	}
	entries := make(map[string]*indexEntry, n)
	for i := uint64(0); i < n; i++ {
		path, e, err := readEntry(r)
		if err != nil {
			return nil, err
		}
		entries[path] = e
	}
	return entries, nil
}

func readEntry(r *bufio.Reader) (string, *indexEntry, error) {
	e := &indexEntry{}
	plen, err := binary.ReadUvarint(r)
	if err != nil || plen > 1<<16 {
		return "", nil, errors.New("bad index entry")
	}
	buf := make([]byte, plen)
	if _, err := io.ReadFull(r, buf); err != nil {
		return "", nil, err
	}
	var fixed [8 + 8 + 8 + 4 + 32]byte
	if _, err := io.ReadFull(r, fixed[:]); err != nil {
		return "", nil, err
	}
	e.Size = int64(binary.LittleEndian.Uint64(fixed[0:]))
	e.Mtime = int64(binary.LittleEndian.Uint64(fixed[8:]))
	e.Ino = binary.LittleEndian.Uint64(fixed[16:])
	e.Mode = binary.LittleEndian.Uint32(fixed[24:])
	copy(e.Sum[:], fixed[28:])
	return string(buf), e, nil
}

// Prune drops the entries not looked up since the index was loaded: paths
// that vanished or left every context. Call it only after fingerprinting
// every service of the project, or the other services' entries go too.
func (x *Index) Prune() {
	x.mu.Lock()
	defer x.mu.Unlock()
	for p, e := range x.entries {
		if !e.seen {
			delete(x.entries, p)
			x.dirty = true
		}
	}
}

// Save writes the index atomically to path. It does nothing when no hash was
// taken and nothing was pruned since the last load or save.
func (x *Index) Save(path string) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	if !x.dirty {
		return nil
	}
	paths := make([]string, 0, len(x.entries))
	for p, e := range x.entries {
		if !e.Racy { // racy entries are re-hashed next time anyway
			paths = append(paths, p)
		}
	}
	sort.Strings(paths)
	err := writeAtomic(path, func(w io.Writer) error { return x.write(w, paths) })
	if err != nil {
		return fmt.Errorf("save index %q: %w", path, err)
	}
	x.dirty = false
	return nil
}

func (x *Index) write(w io.Writer, paths []string) error {
	bw := bufio.NewWriterSize(w, 1<<16)
	bw.WriteString(indexMagic)
	var tmp [binary.MaxVarintLen64]byte
	bw.Write(tmp[:binary.PutUvarint(tmp[:], uint64(len(paths)))])
	var fixed [8 + 8 + 8 + 4 + 32]byte
	for _, p := range paths {
		e := x.entries[p]
		bw.Write(tmp[:binary.PutUvarint(tmp[:], uint64(len(p)))])
		bw.WriteString(p)
		binary.LittleEndian.PutUint64(fixed[0:], uint64(e.Size))
		binary.LittleEndian.PutUint64(fixed[8:], uint64(e.Mtime))
		binary.LittleEndian.PutUint64(fixed[16:], e.Ino)
		binary.LittleEndian.PutUint32(fixed[24:], e.Mode)
		copy(fixed[28:], e.Sum[:])
		bw.Write(fixed[:])
	}
	return bw.Flush()
}

// writeAtomic writes a file through a temp file in the same directory and a
// rename, so a crash or a concurrent reader never sees half a file.
func writeAtomic(path string, write func(io.Writer) error) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	err = write(f)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
	}
	return err
}
