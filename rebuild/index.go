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
	mu      sync.Mutex
	entries map[string]indexEntry
	seen    map[string]bool // paths looked up since Load; Save drops the rest
	dirty   bool
	now     func() time.Time
	hash    func(abs string) ([32]byte, error) // seam: tests count reads
}

// indexEntry is what one file looked like when it was hashed.
type indexEntry struct {
	Size  int64
	Mtime int64 // ns
	Ino   uint64
	Mode  uint32
	Sum   [32]byte
	Racy  bool // mtime was too close to hashing time to trust (see racyWindow)
}

// racyWindow: a file written within this long before it was hashed may be
// written again within the file system's mtime granularity (1 s on some
// network and FUSE file systems, 2 s on FAT) without its stat changing, so
// its cached hash is not trusted (git's "racily clean" entries).
const racyWindow = 2 * time.Second

// indexMagic starts the persisted index; bump the version when the layout changes.
const indexMagic = "rebuildd-index-v1\n"

// NewIndex returns an empty index. now is injected for tests; nil means time.Now.
func NewIndex(now func() time.Time) *Index {
	if now == nil {
		now = time.Now
	}
	return &Index{entries: map[string]indexEntry{}, seen: map[string]bool{}, now: now, hash: hashFile}
}

// statKey is the part of an lstat result a cached hash depends on.
func statKey(fi fs.FileInfo) indexEntry {
	e := indexEntry{Size: fi.Size(), Mtime: fi.ModTime().UnixNano(), Mode: uint32(fi.Mode())}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		e.Ino = st.Ino
	}
	return e
}

// Sum returns the SHA-256 of the file at abs whose lstat result is fi, from
// the index when its stat data is unchanged, else by reading the file.
func (x *Index) Sum(abs string, fi fs.FileInfo) ([32]byte, error) {
	key := statKey(fi)
	x.mu.Lock()
	old, ok := x.entries[abs]
	x.seen[abs] = true
	x.mu.Unlock()
	if ok && !old.Racy && old.Size == key.Size && old.Mtime == key.Mtime &&
		old.Ino == key.Ino && old.Mode == key.Mode {
		return old.Sum, nil
	}
	sum, err := x.hash(abs)
	if err != nil {
		return sum, err
	}
	key.Sum = sum
	key.Racy = x.now().Sub(fi.ModTime()) < racyWindow
	x.mu.Lock()
	x.entries[abs] = key
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

func readIndex(r *bufio.Reader) (map[string]indexEntry, error) {
	magic := make([]byte, len(indexMagic))
	if _, err := io.ReadFull(r, magic); err != nil || string(magic) != indexMagic {
		return nil, errors.New("not a rebuildd index")
	}
	n, err := binary.ReadUvarint(r)
	if err != nil {
		return nil, err
	}
	entries := make(map[string]indexEntry, n)
	for i := uint64(0); i < n; i++ {
		path, e, err := readEntry(r)
		if err != nil {
			return nil, err
		}
		entries[path] = e
	}
	return entries, nil
}

func readEntry(r *bufio.Reader) (string, indexEntry, error) {
	var e indexEntry
	plen, err := binary.ReadUvarint(r)
	if err != nil || plen > 1<<16 {
		return "", e, errors.New("bad index entry")
	}
	buf := make([]byte, plen)
	if _, err := io.ReadFull(r, buf); err != nil {
		return "", e, err
	}
	var fixed [8 + 8 + 8 + 4 + 32]byte
	if _, err := io.ReadFull(r, fixed[:]); err != nil {
		return "", e, err
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
	for p := range x.entries {
		if !x.seen[p] {
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
