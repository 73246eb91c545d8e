package fingerprint

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sort"
	"strings"
	"sync"

	"github.com/rebuildd/rebuildd/config"
	"github.com/rebuildd/rebuildd/dockerfile"
)

// Classifier is what the fingerprint needs from dockerfile.Model. The
// context walk calls it from several goroutines: it must be safe for
// concurrent use (dockerfile.Model is).
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
	// Compose is the hash of the service's whole compose build: section,
	// so edits the other parts do not show (secrets, labels, platforms,
	// ssh, network, additional contexts) still make the build stale.
	Compose string
	// Bases are the FROM references of the build's stage chain; those that
	// name an image of the project are fingerprinted by their image ID.
	Bases []string
	// Key is the state directory's secret (statedir.Key, Store.Key): the
	// parts that hold build arg values (Args, and Compose, whose build:
	// section holds them too) are keyed hashes of it, so a record never
	// holds a plain digest of a secret arg that a guess could be checked
	// against. Nil (explain, --dry-run: no records) hashes them plainly.
	Key []byte
	// Mounts is what decides which source files are live (FileSum.Live)
	// besides the Dockerfile: the bind mounts and on_source; Binds names
	// the bind mounts for reasons.
	Mounts string
	Binds  []string
}

// Print is the fingerprint of one service: what went into its image.
type Print struct {
	Sum   string             // hex SHA-256 over Parts and Files; equal Sums mean equal builds
	Parts Parts              // the build definition, part by part, for reasons
	Files map[string]FileSum // context-relative slash path -> content, for deps and source files
	// deps and source fold Files per impact (see fold.go): watch mode adds
	// and removes single files without re-hashing the others. live folds
	// the source files that reach the containers without a build (a
	// subset of source; see FileSum.Live).
	deps, source, live fold
	taken              *taken // watch mode: which changes the print includes (live.go)
}

// Parts are the hashes of the non-file inputs of a build.
type Parts struct {
	Dockerfile string
	Ignore     string
	Target     string
	Args       string
	Compose    string // the compose build: section
	Bases      string // image IDs of the project images the build is FROM
	// Deps and Source are the folds of the deps and source files: a reason
	// can name the changed layer without the stored per-file sums. Empty
	// in records written before they existed.
	Deps   string `json:",omitempty"`
	Source string `json:",omitempty"`
	// Baked folds the source files only a build delivers, Live the ones a
	// bind mount already delivers (Source is both), and Mounts hashes what
	// decides which is which (the service's bind mounts and on_source).
	// None of them enters Sum: they tell "the containers serve the current
	// sources" from "the image holds them" (docs/design.md, "One
	// decision"). Empty in records written before they existed.
	Baked  string `json:",omitempty"`
	Live   string `json:",omitempty"`
	Mounts string `json:",omitempty"`
}

// FileSum is one input file of a print.
type FileSum struct {
	Sum    string            // 16 hex digits of the content (or symlink target) hash, plus mode
	Impact dockerfile.Impact // deps or source
	Why    string            `json:"-"` // "deps layer, RUN npm ci": for reasons, not stored
	// Live: a source file that reaches the running containers without a
	// build — a bind mount covers it and no RUN runs after the instruction
	// that reads it, or on_source says not to build for it. Its layer
	// model action is not "rebuild"; watch mode does no build for it
	// either, so every mode gives one answer.
	Live bool
	// Link is a symbolic link's target, as read in this process's walk (not
	// stored): a COPY that names the link, or matches it with a wildcard,
	// copies what it points to, so a live update of that file must not
	// miss the copy (rebuild/liveplan.go).
	Link string `json:"-"`
}

// fileSumLen: 64 bits of SHA-256 per file tell "changed" from "unchanged"
// with a collision chance far below a disk error, and keep the stored map
// of a 50,000-file context near 2 MB.
const fileSumLen = 16

// liveResult says whether a classified file is live (see FileSum.Live).
func liveResult(r dockerfile.Result) bool {
	return r.Impact == dockerfile.ImpactSource && r.Action != dockerfile.ActionRebuild
}

// Fingerprint walks src's context, keeps the files whose impact is deps or
// source and hashes them (through idx, so unchanged files cost one lstat).
func Fingerprint(ctx context.Context, src Source, idx *Index) (*Print, error) {
	p := &Print{Files: map[string]FileSum{}}
	if err := walkContext(ctx, src, idx, p); err != nil {
		return nil, err
	}
	if err := p.hashParts(src, idx); err != nil {
		return nil, err
	}
	p.seal() // the walk folded the files
	return p, nil
}

// walkError sorts walk errors (docs/design.md): a directory that vanished
// mid-walk or cannot be read is skipped (for the latter Docker fails the
// build, and the build says so), anything else stops the walk.
func walkError(abs string, err error) error {
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission) {
		return nil
	}
	return fmt.Errorf("fingerprint %q: %w", abs, err)
}

// why is the short human label of a file's layer, used in reasons:
// "deps layer, RUN npm ci" or "source layer".
func why(r dockerfile.Result) string {
	if r.Impact == dockerfile.ImpactDeps && r.Input != nil && r.Input.DepsRun != nil {
		return "deps layer, " + dockerfile.ShortText(r.Input.DepsRun.Text) // one line: a RUN may be 150 characters
	}
	return string(r.Impact) + " layer"
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
	p.Parts.Args = keyedHash(src.Key, b.String())
	p.Parts.Compose = keyedHash(src.Key, src.Compose)
	p.Parts.Mounts = hashString(src.Mounts)
	return nil
}

// hashDefFile hashes the Dockerfile or ignore file.
func (p *Print) hashDefFile(abs string, idx *Index) (string, error) {
	fi, err := os.Stat(abs)
	if err != nil {
		return "", fmt.Errorf("fingerprint %q: %w", abs, err)
	}
	sum, err := idx.Sum(abs, fi)
	if err != nil {
		return "", fmt.Errorf("fingerprint %q: %w", abs, err)
	}
	return hex.EncodeToString(sum[:])[:fileSumLen], nil
}

// seal sets the parts that summarise the files and the Sum.
func (p *Print) seal() {
	p.Parts.Deps, p.Parts.Source = p.deps.String(), p.source.String()
	p.Parts.Live, p.Parts.Baked = p.live.String(), p.source.minus(p.live).String()
	p.Sum = p.total()
}

// total is the print's Sum: a hash of the parts, two of which fold every
// file (path, content, impact), so equal Sums mean equal builds.
func (p *Print) total() string {
	h := sha256.New()
	fmt.Fprintf(h, "v2\x00df=%s\x00ig=%s\x00tg=%s\x00ar=%s\x00co=%s\x00ba=%s\x00de=%s\x00so=%s\x00", p.Parts.Dockerfile,
		p.Parts.Ignore, p.Parts.Target, p.Parts.Args, p.Parts.Compose, p.Parts.Bases, p.Parts.Deps, p.Parts.Source)
	return hex.EncodeToString(h.Sum(nil))
}

// keyedHash is hashString keyed with key (HMAC-SHA-256), plain without one.
func keyedHash(key []byte, s string) string {
	if key == nil {
		return hashString(s)
	}
	m := hmac.New(sha256.New, key)
	io.WriteString(m, s)
	return hex.EncodeToString(m.Sum(nil))[:fileSumLen]
}

func hashString(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])[:fileSumLen]
}

// copyBufs are read buffers for hashFile: a cold fingerprint of a 50,000-file
// context would otherwise allocate 32 KiB per file.
var copyBufs = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

// hashFile is the SHA-256 of a file's content.
func hashFile(abs string) ([32]byte, error) {
	var sum [32]byte
	f, err := os.Open(abs)
	if err != nil {
		return sum, err
	}
	defer f.Close()
	h := sha256.New()
	buf := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(buf)
	// struct{io.Reader} hides os.File's WriteTo, which would allocate its own buffer.
	if _, err := io.CopyBuffer(h, struct{ io.Reader }{f}, *buf); err != nil {
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
		Target: b.Target, Args: b.Args, Classify: c, Prune: prune, Compose: svc.BuildHash,
	}
}

// WithBases returns p with the image IDs of the project images its build
// uses (tag -> ID) folded into its parts and sum: a service built FROM
// another service's image is stale when that image changes.
func (p *Print) WithBases(ids map[string]string) *Print {
	if len(ids) == 0 {
		return p
	}
	tags := make([]string, 0, len(ids))
	for t := range ids {
		tags = append(tags, t)
	}
	sort.Strings(tags)
	var b strings.Builder
	for _, t := range tags {
		fmt.Fprintf(&b, "%s=%s\x00", t, ids[t])
	}
	cp := *p
	cp.Parts.Bases = hashString(b.String())
	cp.Sum = cp.total()
	return &cp
}
