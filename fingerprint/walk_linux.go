package fingerprint

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/rebuildd/rebuildd/dockerfile"
	"github.com/rebuildd/rebuildd/ignore"
)

// walkWorkers is how many directories are read at once. The up-to-date
// check is bound by one fstatat per file; system calls are expensive on
// virtual machines (2.5-15 µs each measured on the 2-core CI VM), and a few
// more walkers than cores keep both cores in the kernel while one waits.
const walkWorkers = 4

// walker fingerprints one context: it reads directories in parallel, stats
// each file relative to its directory's descriptor (no path resolution per
// file) and hashes only what the index does not know.
type walker struct {
	ctx  context.Context
	src  Source
	idx  *Index
	sem  chan struct{}
	wg   sync.WaitGroup
	mu   sync.Mutex // guards files, errs
	p    *Print
	errs []error
}

// walkContext fills p.Files, and adds to p's folds, the context's deps and
// source files. The folds are taken here, by the parallel walkers, rather
// than by one goroutine after the walk (15 ms at 50,000 files).
func walkContext(ctx context.Context, src Source, idx *Index, p *Print) error {
	if len(p.Files) == 0 {
		// The index holds about the files the walk keeps: a map sized for
		// them never grows (growing one of 50,000 entries costs ~10 ms).
		p.Files = make(map[string]FileSum, len(idx.under(src.Context).ents))
	}
	w := &walker{ctx: ctx, src: src, idx: idx, sem: make(chan struct{}, walkWorkers-1), p: p}
	w.dir("", src.Context)
	w.wg.Wait()
	if err := errors.Join(w.errs...); err != nil {
		return err
	}
	return ctx.Err()
}

func (w *walker) fail(err error) {
	w.mu.Lock()
	w.errs = append(w.errs, err)
	w.mu.Unlock()
}

// dirBufs are getdents buffers: one directory read at a time per walker.
var dirBufs = sync.Pool{New: func() any { b := make([]byte, 16<<10); return &b }}

// dir reads one directory, hands subdirectories to idle walkers (or walks
// them itself when none is idle) and sums its files. Per file it costs one
// fstatat, one string (the path, whose tail is also the relative path) and
// two binary searches in the index's range for the directory.
func (w *walker) dir(rel, abs string) {
	if w.ctx.Err() != nil {
		return
	}
	fd, err := openDir(abs)
	if err != nil {
		if err = walkError(abs, err); err != nil {
			w.fail(err)
		}
		return
	}
	defer unix.Close(fd)
	buf := dirBufs.Get().(*[]byte)
	ents, err := readDir(fd, abs, *buf)
	dirBufs.Put(buf)
	if err != nil {
		w.fail(fmt.Errorf("fingerprint %q: %w", abs, err))
		return
	}
	d := w.idx.under(abs)
	local := make([]FileSum, 0, len(ents))
	names := make([]string, 0, len(ents))
	var last dockerfile.Result // and its why: a string per file otherwise
	lastWhy := ""
	for _, e := range ents {
		childAbs, name := e.abs, e.abs[len(abs)+1:]
		if e.typ == unix.DT_UNKNOWN { // file systems without d_type
			if e.typ, err = direntType(fd, name); err != nil {
				continue // vanished
			}
		}
		childRel := relOf(rel, abs, childAbs)
		if e.typ == unix.DT_DIR {
			w.subdir(childRel, childAbs)
			continue
		}
		if ignore.IsTempFile(name) {
			// Editors' swap and backup files come and go around every save
			// without an event (the watcher drops them), so watch mode's
			// prints could not follow them; no build needs them either.
			continue
		}
		res := w.src.Classify.Classify(childAbs)
		if res.Impact != dockerfile.ImpactDeps && res.Impact != dockerfile.ImpactSource {
			continue
		}
		s, err := w.sumIn(fd, name, childAbs, &d)
		if err != nil {
			w.fail(err)
			return
		}
		if s.Sum == "" {
			continue // vanished, or not a file Docker copies
		}
		if res.Impact != last.Impact || res.Input != last.Input { // files of a directory mostly share one
			last, lastWhy = res, why(res)
		}
		s.Impact, s.Why, s.Live = res.Impact, lastWhy, liveResult(res)
		local, names = append(local, s), append(names, childRel)
	}
	lines := make([][32]byte, len(local)) // hashed here, in parallel, not under the lock
	for i, s := range local {
		lines[i] = line(names[i], s)
	}
	w.mu.Lock()
	for i, s := range local {
		w.p.Files[names[i]] = s
		w.p.fold(names[i], s, lines[i])
	}
	w.mu.Unlock()
}

// relOf is the context-relative path of childAbs, an entry of the directory
// abs whose relative path is rel: the tail of childAbs when abs ends in rel
// (always, for the walk's own paths), so it costs no allocation.
func relOf(rel, abs, childAbs string) string {
	name := childAbs[len(abs)+1:]
	switch {
	case rel == "":
		return name
	case len(abs) > len(rel) && abs[len(abs)-len(rel)-1] == '/' && abs[len(abs)-len(rel):] == rel:
		return childAbs[len(abs)-len(rel):]
	}
	return joinRel(rel, name)
}

func joinRel(rel, name string) string {
	if rel == "" {
		return name
	}
	return rel + "/" + name
}

// subdir walks a subdirectory unless the ignore file excludes it whole.
func (w *walker) subdir(rel, abs string) {
	if w.src.Prune != nil && w.src.Prune.SkipDir(rel) {
		return
	}
	select {
	case w.sem <- struct{}{}:
		w.wg.Add(1)
		go func() {
			defer func() { <-w.sem; w.wg.Done() }()
			w.dir(rel, abs)
		}()
	default:
		w.dir(rel, abs)
	}
}

// sum stats name in the directory fd and sums it (see sumIn).
func (w *walker) sum(fd int, name, abs string) (FileSum, error) {
	return w.sumIn(fd, name, abs, nil)
}

// sumIn stats name in the directory fd and sums it: mode bits (Docker
// copies them) plus content, or the target of a symlink (Docker copies
// links, it does not follow them). Sum "" means skip. d, when not nil, is
// the index's range for the directory.
func (w *walker) sumIn(fd int, name, abs string, d *dirIndex) (FileSum, error) {
	var st unix.Stat_t
	if err := unix.Fstatat(fd, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		if errors.Is(err, unix.ENOENT) {
			return FileSum{}, nil
		}
		return FileSum{}, fmt.Errorf("fingerprint %q: %w", abs, err)
	}
	key := fileStat{Size: st.Size, Mtime: st.Mtim.Nano(), Ino: st.Ino, Mode: st.Mode}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFLNK:
		target, err := os.Readlink(abs)
		if err != nil {
			return FileSum{}, fmt.Errorf("fingerprint %q: %w", abs, err)
		}
		return FileSum{Sum: fileSumOf(key.fileMode(), []byte(target)), Link: target}, nil
	case unix.S_IFREG:
		_, fsum, err := w.idx.entry(abs, key, d)
		if errors.Is(err, unix.ENOENT) {
			return FileSum{}, nil
		}
		if err != nil {
			return FileSum{}, fmt.Errorf("fingerprint %q: %w", abs, err)
		}
		return FileSum{Sum: fsum}, nil
	}
	return FileSum{}, nil // sockets, fifos, devices: not build input
}

// dent is a directory entry: its absolute path and its d_type.
type dent struct {
	abs string
	typ uint8
}

func openDir(abs string) (int, error) {
	for {
		fd, err := unix.Open(abs, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != unix.EINTR {
			return fd, err
		}
	}
}

// readDir lists the directory fd (whose path is abs) with getdents64,
// building each entry's path in one allocation; os.File.ReadDir would add
// a DirEntry and a name per entry.
func readDir(fd int, abs string, buf []byte) ([]dent, error) {
	var out []dent
	for {
		n, err := unix.Getdents(fd, buf)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, err
		}
		if n <= 0 {
			return out, nil
		}
		for b := buf[:n]; len(b) > 0; {
			// struct linux_dirent64: ino u64, off s64, reclen u16, type u8, name NUL-terminated
			const nameOff = 19
			reclen := int(binary.NativeEndian.Uint16(b[16:18]))
			if reclen < nameOff || reclen > len(b) {
				return nil, errors.New("getdents: bad record")
			}
			ino, typ, name := binary.NativeEndian.Uint64(b[0:8]), b[18], b[nameOff:reclen]
			b = b[reclen:]
			if i := bytes.IndexByte(name, 0); i >= 0 {
				name = name[:i]
			}
			if ino == 0 || string(name) == "." || string(name) == ".." {
				continue
			}
			var sb strings.Builder
			sb.Grow(len(abs) + 1 + len(name))
			sb.WriteString(abs)
			sb.WriteByte('/')
			sb.Write(name)
			out = append(out, dent{abs: sb.String(), typ: typ})
		}
	}
}

// direntType is the d_type of name in fd from an lstat.
func direntType(fd int, name string) (uint8, error) {
	var st unix.Stat_t
	if err := unix.Fstatat(fd, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return 0, err
	}
	if st.Mode&unix.S_IFMT == unix.S_IFDIR {
		return unix.DT_DIR, nil
	}
	return unix.DT_REG, nil // anything else is summed (or skipped) as a file
}
