package rebuild

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/rebuildd/rebuildd/config"
	"github.com/rebuildd/rebuildd/dockerfile"
)

// Classifier is what the fingerprint needs from dockerfile.Model.
type Classifier interface {
	Classify(abs string) dockerfile.Result
}

// Pruner is what the fingerprint needs from ignore.Matcher: whether a whole
// context directory is excluded, so the walk never enters node_modules.
type Pruner interface {
	SkipDir(rel string) bool
}

// Source is everything one service's image is built from.
type Source struct {
	Service          string
	Context          string // absolute
	Dockerfile       string // absolute; "" when DockerfileInline is used
	DockerfileInline string
	IgnoreFile       string // absolute; "" when the context has none
	Target           string
	Args             map[string]string
	Classify         Classifier
	Prune            Pruner // nil: walk everything
}

// Print is the fingerprint of one service: what went into its image.
type Print struct {
	Sum   string             // hex SHA-256 over Parts and Files; equal Sums mean equal builds
	Parts Parts              // the build definition, part by part, for reasons
	Files map[string]FileSum // context-relative slash path -> content, for deps and source files
	// Newest is the latest mtime among the inputs (files, Dockerfile, ignore
	// file): an image created after it was built from them (see plan.go).
	Newest     time.Time
	NewestPath string
}

// Parts are the hashes of the non-file inputs of a build.
type Parts struct {
	Dockerfile string
	Ignore     string
	Target     string
	Args       string
}

// FileSum is one input file of a print.
type FileSum struct {
	Sum    string            // 16 hex digits of the content (or symlink target) hash, plus mode
	Impact dockerfile.Impact // deps or source
	Why    string            `json:"-"` // "deps layer, RUN npm ci": for reasons, not stored
	mtime  time.Time
}

// fileSumLen: 64 bits of SHA-256 per file tell "changed" from "unchanged"
// with a collision chance far below a disk error, and keep the stored map
// of a 50,000-file context near 2 MB.
const fileSumLen = 16

// Fingerprint walks src's context, keeps the files whose impact is deps or
// source and hashes them (through idx, so unchanged files cost one lstat).
func Fingerprint(ctx context.Context, src Source, idx *Index) (*Print, error) {
	files, err := walkContext(ctx, src)
	if err != nil {
		return nil, err
	}
	p := &Print{Files: make(map[string]FileSum, len(files))}
	if err := hashFiles(ctx, src, idx, files, p); err != nil {
		return nil, err
	}
	if err := p.hashParts(src, idx); err != nil {
		return nil, err
	}
	p.Sum = p.total()
	return p, nil
}

// candidate is one file the walk found that a build reads.
type candidate struct {
	rel string
	res dockerfile.Result
}

// walkContext lists the files of the context whose impact is deps or source,
// skipping directories the ignore file excludes whole.
func walkContext(ctx context.Context, src Source) ([]candidate, error) {
	var out []candidate
	err := filepath.WalkDir(src.Context, func(abs string, d fs.DirEntry, err error) error {
		if err != nil {
			return walkError(abs, err)
		}
		if abs == src.Context {
			return nil
		}
		rel := filepath.ToSlash(abs[len(src.Context)+1:])
		if d.IsDir() {
			if src.Prune != nil && src.Prune.SkipDir(rel) {
				return filepath.SkipDir
			}
			return ctx.Err()
		}
		res := src.Classify.Classify(abs)
		if res.Impact == dockerfile.ImpactDeps || res.Impact == dockerfile.ImpactSource {
			out = append(out, candidate{rel: rel, res: res})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// walkError sorts walk errors (DESIGN.md): a path that vanished mid-walk is
// ignored, an unreadable directory is skipped (Docker would fail the build
// on it, and the build will say so), anything else stops the walk.
func walkError(abs string, err error) error {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case errors.Is(err, fs.ErrPermission):
		return filepath.SkipDir
	}
	return fmt.Errorf("fingerprint %q: %w", abs, err)
}

// hashFiles lstats and hashes the candidates on every core: an up-to-date
// check is bound by lstat calls, which run in parallel in the kernel.
func hashFiles(ctx context.Context, src Source, idx *Index, files []candidate, p *Print) error {
	workers := runtime.GOMAXPROCS(0)
	sums := make([]FileSum, len(files))
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := w; i < len(files); i += workers {
				if i%1024 == 0 && ctx.Err() != nil {
					errs[w] = ctx.Err()
					return
				}
				abs := filepath.Join(src.Context, filepath.FromSlash(files[i].rel))
				s, err := sumFile(abs, idx)
				if err != nil {
					errs[w] = err
					return
				}
				s.Impact, s.Why = files[i].res.Impact, why(files[i].res)
				sums[i] = s
			}
		}(w)
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	for i, c := range files {
		if sums[i].Sum == "" { // vanished between walk and hash
			continue
		}
		p.Files[c.rel] = sums[i]
		p.noteMtime(c.rel, sums[i].mtime)
	}
	return nil
}

// sumFile hashes one file: mode bits (Docker copies them) plus content, or
// the target of a symlink (Docker copies links, it does not follow them).
func sumFile(abs string, idx *Index) (FileSum, error) {
	fi, err := os.Lstat(abs)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return FileSum{}, nil
		}
		return FileSum{}, fmt.Errorf("fingerprint %q: %w", abs, err)
	}
	h := sha256.New()
	fmt.Fprintf(h, "%o\x00", fi.Mode())
	switch {
	case fi.Mode()&fs.ModeSymlink != 0:
		target, err := os.Readlink(abs)
		if err != nil {
			return FileSum{}, fmt.Errorf("fingerprint %q: %w", abs, err)
		}
		h.Write([]byte(target))
	case fi.Mode().IsRegular():
		sum, err := idx.Sum(abs, fi)
		if errors.Is(err, fs.ErrNotExist) {
			return FileSum{}, nil
		}
		if err != nil {
			return FileSum{}, fmt.Errorf("fingerprint %q: %w", abs, err)
		}
		h.Write(sum[:])
	}
	return FileSum{Sum: hex.EncodeToString(h.Sum(nil))[:fileSumLen], mtime: fi.ModTime()}, nil
}

// why is the short human label of a file's layer, used in reasons:
// "deps layer, RUN npm ci" or "source layer".
func why(r dockerfile.Result) string {
	if r.Impact == dockerfile.ImpactDeps && r.Input != nil && r.Input.DepsRun != nil {
		return "deps layer, " + r.Input.DepsRun.Text
	}
	return string(r.Impact) + " layer"
}

func (p *Print) noteMtime(path string, t time.Time) {
	if t.After(p.Newest) {
		p.Newest, p.NewestPath = t, path
	}
}

// hashParts hashes the build definition: Dockerfile, ignore file, target, args.
func (p *Print) hashParts(src Source, idx *Index) error {
	var err error
	if src.Dockerfile != "" {
		p.Parts.Dockerfile, err = p.hashDefFile(src.Dockerfile, idx)
	} else {
		p.Parts.Dockerfile = hashString("inline\x00" + src.DockerfileInline)
	}
	if err != nil {
		return err
	}
	if src.IgnoreFile != "" {
		if p.Parts.Ignore, err = p.hashDefFile(src.IgnoreFile, idx); err != nil {
			return err
		}
	}
	p.Parts.Target = hashString(src.Target)
	keys := make([]string, 0, len(src.Args))
	for k := range src.Args {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s=%s\x00", k, src.Args[k])
	}
	p.Parts.Args = hashString(b.String())
	return nil
}

// hashDefFile hashes the Dockerfile or ignore file and counts its mtime as an input's.
func (p *Print) hashDefFile(abs string, idx *Index) (string, error) {
	fi, err := os.Stat(abs)
	if err != nil {
		return "", fmt.Errorf("fingerprint %q: %w", abs, err)
	}
	sum, err := idx.Sum(abs, fi)
	if err != nil {
		return "", fmt.Errorf("fingerprint %q: %w", abs, err)
	}
	p.noteMtime(filepath.Base(abs), fi.ModTime())
	return hex.EncodeToString(sum[:])[:fileSumLen], nil
}

// total is the print's Sum: the parts, then every file in path order.
func (p *Print) total() string {
	h := sha256.New()
	fmt.Fprintf(h, "df=%s\x00ig=%s\x00tg=%s\x00ar=%s\x00", p.Parts.Dockerfile, p.Parts.Ignore, p.Parts.Target, p.Parts.Args)
	paths := make([]string, 0, len(p.Files))
	for rel := range p.Files {
		paths = append(paths, rel)
	}
	sort.Strings(paths)
	for _, rel := range paths {
		f := p.Files[rel]
		fmt.Fprintf(h, "%s\x00%s\x00%s\n", rel, f.Sum, f.Impact)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func hashString(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])[:fileSumLen]
}

// hashFile is the SHA-256 of a file's content.
func hashFile(abs string) ([32]byte, error) {
	var sum [32]byte
	f, err := os.Open(abs)
	if err != nil {
		return sum, err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return sum, err
	}
	copy(sum[:], h.Sum(nil))
	return sum, nil
}

// SourceFor describes a build service's inputs from its compose build
// section and its layer model (dockerfile.Model satisfies Classifier).
// dockerfilePath is the resolved Dockerfile ("" for dockerfile_inline);
// prune and ignoreFile come from the ignore file Docker uses.
func SourceFor(svc config.Service, c Classifier, dockerfilePath string, prune Pruner, ignoreFile string) Source {
	b := svc.Build
	return Source{
		Service: svc.Name, Context: b.Context, Dockerfile: dockerfilePath,
		DockerfileInline: b.DockerfileInline, IgnoreFile: ignoreFile,
		Target: b.Target, Args: b.Args, Classify: c, Prune: prune,
	}
}
