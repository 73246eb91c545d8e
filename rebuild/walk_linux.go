package rebuild

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/rebuildd/rebuildd/dockerfile"
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

// walkContext fills p.Files with the context's deps and source files.
func walkContext(ctx context.Context, src Source, idx *Index, p *Print) error {
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

// dir reads one directory, hands subdirectories to idle walkers (or walks
// them itself when none is idle) and sums its files.
func (w *walker) dir(rel, abs string) {
	if w.ctx.Err() != nil {
		return
	}
	f, err := os.Open(abs)
	if err != nil {
		if err = walkError(abs, err); err != nil {
			w.fail(err)
		}
		return
	}
	defer f.Close()
	entries, err := f.ReadDir(-1)
	if err != nil {
		w.fail(fmt.Errorf("fingerprint %q: %w", abs, err))
		return
	}
	fd := int(f.Fd())
	var local []FileSum
	var names []string
	for _, e := range entries {
		childRel, childAbs := joinRel(rel, e.Name()), abs+string(filepath.Separator)+e.Name()
		if e.IsDir() {
			w.subdir(childRel, childAbs)
			continue
		}
		res := w.src.Classify.Classify(childAbs)
		if res.Impact != dockerfile.ImpactDeps && res.Impact != dockerfile.ImpactSource {
			continue
		}
		s, err := w.sum(fd, e.Name(), childAbs)
		if err != nil {
			w.fail(err)
			return
		}
		if s.Sum == "" {
			continue // vanished, or not a file Docker copies
		}
		s.Impact, s.Why = res.Impact, why(res)
		local, names = append(local, s), append(names, childRel)
	}
	w.mu.Lock()
	for i, s := range local {
		w.p.Files[names[i]] = s
		w.p.noteMtime(names[i], s.mtime)
	}
	w.mu.Unlock()
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

// sum stats name in the directory fd and hashes it: mode bits (Docker
// copies them) plus content, or the target of a symlink (Docker copies
// links, it does not follow them). Sum "" means skip.
func (w *walker) sum(fd int, name, abs string) (FileSum, error) {
	var st unix.Stat_t
	if err := unix.Fstatat(fd, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		if errors.Is(err, unix.ENOENT) {
			return FileSum{}, nil
		}
		return FileSum{}, fmt.Errorf("fingerprint %q: %w", abs, err)
	}
	key := fileStat{Size: st.Size, Mtime: st.Mtim.Nano(), Ino: st.Ino, Mode: st.Mode}
	h := sha256.New()
	fmt.Fprintf(h, "%o\x00", key.fileMode())
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFLNK:
		target, err := os.Readlink(abs)
		if err != nil {
			return FileSum{}, fmt.Errorf("fingerprint %q: %w", abs, err)
		}
		h.Write([]byte(target))
	case unix.S_IFREG:
		sum, err := w.idx.sumStat(abs, key)
		if errors.Is(err, fs.ErrNotExist) {
			return FileSum{}, nil
		}
		if err != nil {
			return FileSum{}, fmt.Errorf("fingerprint %q: %w", abs, err)
		}
		h.Write(sum[:])
	default:
		return FileSum{}, nil // sockets, fifos, devices: not build input
	}
	return FileSum{Sum: hex.EncodeToString(h.Sum(nil))[:fileSumLen], mtime: key.time()}, nil
}
