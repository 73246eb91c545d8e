package dockerfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"

	"github.com/rebuildd/rebuildd/config"
	"github.com/rebuildd/rebuildd/config/inputerr"
	"github.com/rebuildd/rebuildd/ignore"
)

// On-source policies of rebuild.yaml (services.<name>.on_source).
//
// The layer model's action is the same under auto, sync and sync+restart;
// they differ in what watch mode does with a source change the model
// says rebuild for but Sync allows (docs/design.md, "Live update"): auto
// syncs and restarts unless the container's process reloads by itself,
// sync never restarts, sync+restart always does. restart syncs and
// restarts too, and also restarts for bind-mounted source; rebuild never
// syncs; none never acts.
const (
	OnSourceAuto        = "auto"         // docs/design.md's action rule; live update when Sync allows
	OnSourceSync        = "sync"         // like auto; a sync never restarts the container
	OnSourceSyncRestart = "sync+restart" // like auto; a sync always restarts the container
	OnSourceRestart     = "restart"      // bind-mounted source that needs no build restarts the container; a sync restarts too
	OnSourceRebuild     = "rebuild"      // source changes always rebuild, never sync
	OnSourceNone        = "none"         // source changes never act
)

// Parts are what a Model is made of; Load reads them from a service, tests
// and fakes give them directly.
type Parts struct {
	Context    string // absolute build context
	Dockerfile string // absolute Dockerfile; "" for dockerfile_inline
	IgnoreFile string // absolute ignore file in use; "" when none exists
	Analysis   *Analysis
	Ignore     *ignore.Matcher // nil excludes nothing
	BindMounts []string        // absolute host paths of the service's bind mounts
	// Binds are the bind mounts with their container targets, so reasons can
	// name them ("./src:/app/src"); used in addition to BindMounts.
	Binds    []config.BindMount
	OnSource string // auto (or "") | sync | sync+restart | restart | rebuild | none
	// Trigger holds rebuild.yaml's extra ignore patterns: paths it excludes
	// never trigger anything, though they stay in the build context.
	Trigger *ignore.Matcher
	// Dialect is the builder's way of reading the ignore file; Ignore must
	// have been loaded with it. Only BuildKit (the zero value) reads
	// <Dockerfile>.dockerignore; for the others it is an ordinary file.
	Dialect ignore.Dialect
}

// bind is one bind mount as Classify needs it.
type bind struct {
	src   string // absolute host path, cleaned
	label string // "./src:/app/src", for reasons
}

// Model answers, for one service, what a change to a path means.
// Safe for concurrent use.
type Model struct {
	ctx, df, ignFile     string
	dfIgnore, ctxIgnore  string // <D>.dockerignore ("" inline) and C/.dockerignore
	dfIgnoreUsed         bool   // <D>.dockerignore exists, so C/.dockerignore is not read
	dfName               string // how reasons name the Dockerfile: "Dockerfile", "dockerfile_inline"
	an                   *Analysis
	dialect              ignore.Dialect
	ign, trig            *ignore.Matcher
	binds                []bind
	onSource             string
	mu                   sync.RWMutex
	dirs                 map[string]*dirEntry // guarded by mu; context-relative dir -> its readers
	ignName, triggerName string
}

// NewModel builds a Model from parts.
func NewModel(p Parts) *Model {
	m := &Model{
		ctx:       filepath.Clean(p.Context),
		ignFile:   p.IgnoreFile,
		an:        p.Analysis,
		dialect:   p.Dialect,
		ign:       p.Ignore,
		trig:      p.Trigger,
		onSource:  p.OnSource,
		dirs:      map[string]*dirEntry{},
		ctxIgnore: filepath.Join(p.Context, ".dockerignore"),
		dfName:    "dockerfile_inline",
		ignName:   ".dockerignore",
	}
	if m.an == nil {
		m.an = &Analysis{}
	}
	if m.onSource == "" {
		m.onSource = OnSourceAuto
	}
	if p.Dockerfile != "" {
		m.df = filepath.Clean(p.Dockerfile)
		m.dfName = filepath.Base(m.df)
		if p.Dialect.PerDockerfile() {
			m.dfIgnore = m.df + ".dockerignore"
			m.dfIgnoreUsed = p.IgnoreFile != "" && filepath.Clean(p.IgnoreFile) == m.dfIgnore
		}
	}
	if p.IgnoreFile != "" {
		m.ignName = filepath.Base(p.IgnoreFile)
	}
	for _, b := range p.Binds {
		m.addBind(b.Source, b.Target)
	}
	for _, src := range p.BindMounts {
		m.addBind(src, "")
	}
	return m
}

func (m *Model) addBind(src, target string) {
	src = filepath.Clean(src)
	for _, b := range m.binds {
		if b.src == src {
			return
		}
	}
	label := src
	if rel, ok := m.rel(src); ok {
		label = "./" + rel
		if rel == "." {
			label = "."
		}
	}
	if target != "" {
		label += ":" + target
	}
	m.binds = append(m.binds, bind{src: src, label: label})
}

// Analysis returns the Dockerfile analysis the model classifies with.
func (m *Model) Analysis() *Analysis { return m.an }

// Context returns the absolute build context.
func (m *Model) Context() string { return m.ctx }

// Dockerfile returns the absolute Dockerfile path, "" for dockerfile_inline.
func (m *Model) Dockerfile() string { return m.df }

// IgnoreFile returns the ignore file in use, "" when none exists.
func (m *Model) IgnoreFile() string { return m.ignFile }

// Dialect returns the builder's ignore-file semantics the model assumes.
func (m *Model) Dialect() ignore.Dialect { return m.dialect }

// Binds names the service's bind mounts the way reasons do
// ("./src:/app/src"), in compose order.
func (m *Model) Binds() []string {
	out := make([]string, len(m.binds))
	for i, b := range m.binds {
		out[i] = b.label
	}
	return out
}

// OnSource returns the on-source policy in effect.
func (m *Model) OnSource() string { return m.onSource }

// Load builds the Model of a service with build: reading its Dockerfile (or
// dockerfile_inline) and ignore file as BuildKit does. Errors are
// *config.InputError naming the file and, where there is one, the line.
func Load(svc config.Service, s config.ServiceSettings) (*Model, error) {
	return LoadWith(svc, s, ignore.BuildKit)
}

// Loader returns Load for the builder whose ignore semantics are d, in the
// shape watch mode and --once take.
func Loader(d ignore.Dialect) func(config.Service, config.ServiceSettings) (*Model, error) {
	return func(svc config.Service, s config.ServiceSettings) (*Model, error) { return LoadWith(svc, s, d) }
}

// LoadWith is Load for the builder whose ignore semantics are d (which
// ignore file it reads, how it matches, what its walk enters).
func LoadWith(svc config.Service, s config.ServiceSettings, d ignore.Dialect) (*Model, error) {
	b := svc.Build
	if b == nil {
		return nil, &config.InputError{Msg: fmt.Sprintf("service %q has no build: section; rebuildd only models services it builds", svc.Name)}
	}
	policy, err := onSourcePolicy(svc.Name, s.OnSource)
	if err != nil {
		return nil, err
	}
	if fi, err := os.Stat(b.Context); err != nil || !fi.IsDir() {
		return nil, &config.InputError{File: b.Context, Err: err,
			Msg: fmt.Sprintf("build context of service %q is not a directory; fix build.context in the compose file", svc.Name)}
	}
	src, name, err := readDockerfile(svc.Name, b)
	if err != nil {
		return nil, err
	}
	an, err := Analyze(src, name, b.Target, b.Args)
	if err != nil {
		return nil, err
	}
	df := name // the Dockerfile's path; "" for dockerfile_inline
	if b.DockerfileInline != "" {
		df = ""
	}
	ign, ignFile, err := d.Load(b.Context, df)
	if err != nil {
		return nil, err
	}
	p := Parts{Context: b.Context, Dockerfile: df, IgnoreFile: ignFile, Analysis: an,
		Ignore: ign, Binds: svc.BindMounts, OnSource: policy, Dialect: d}
	if len(s.Ignore) > 0 {
		if p.Trigger, err = ignore.New(s.Ignore); err != nil {
			return nil, &config.InputError{Err: err,
				Msg: fmt.Sprintf("rebuild.yaml services.%s.ignore: %v; fix the pattern", svc.Name, err)}
		}
	}
	return NewModel(p), nil
}

func onSourcePolicy(service, v string) (string, error) {
	switch v {
	case "", OnSourceAuto:
		return OnSourceAuto, nil
	case OnSourceSync, OnSourceSyncRestart, OnSourceRestart, OnSourceRebuild, OnSourceNone:
		return v, nil
	}
	return "", &config.InputError{Msg: fmt.Sprintf("rebuild.yaml services.%s.on_source: %q is not one of auto, sync, sync+restart, restart, rebuild, none", service, v)}
}

// readDockerfile returns the Dockerfile's text and the name errors give it.
func readDockerfile(service string, b *config.Build) ([]byte, string, error) {
	if b.DockerfileInline != "" {
		return []byte(b.DockerfileInline), fmt.Sprintf("dockerfile_inline of service %q", service), nil
	}
	df := b.Dockerfile
	if df == "" {
		df = filepath.Join(b.Context, "Dockerfile")
	}
	src, err := ReadFile(df)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, "", &config.InputError{File: df, Err: err,
			Msg: fmt.Sprintf("Dockerfile of service %q not found; fix build.dockerfile (or build.context) in the compose file", service)}
	case errors.Is(err, errNotRegular):
		return nil, "", &config.InputError{File: df, Err: err,
			Msg: fmt.Sprintf("the Dockerfile of service %q is %s; point build.dockerfile at a Dockerfile", service, strings.TrimPrefix(err.Error(), errNotRegular.Error()+": "))}
	case err != nil:
		return nil, "", &config.InputError{File: df, Err: err,
			Msg: fmt.Sprintf("cannot read the Dockerfile of service %q: %v; check its permissions", service, err)}
	}
	return src, df, nil
}

// errNotRegular: a FIFO, device or socket where a Dockerfile should be.
var errNotRegular = errors.New("not a regular file")

// MaxSize bounds the Dockerfiles rebuildd analyses. Analysis is linear,
// about 0.4 s of CPU and 90 MB of memory per MiB (BenchmarkAnalyzeHuge: the
// 200,000-COPY file is 5.4 MB), so 8 MiB is a few seconds at most; real
// Dockerfiles are a few KiB, generated ones rarely reach 1 MiB. A larger
// file is almost surely not a Dockerfile (or a hostile one): bad input.
const MaxSize = 8 << 20

// ReadFile reads a Dockerfile, never more than MaxSize+1 bytes (/dev/zero
// linked as a Dockerfile must not fill memory); Analyze refuses the rest.
// A FIFO, device or socket is refused without blocking.
func ReadFile(file string) ([]byte, error) {
	// O_NONBLOCK: a FIFO in a Dockerfile's place must not hang rebuildd on
	// open; it is refused below like any other file that is not regular.
	f, err := os.OpenFile(file, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil {
		return nil, err
	} else if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%w: %s", errNotRegular, inputerr.NotRegular(fi.Mode()))
	}
	return io.ReadAll(io.LimitReader(f, MaxSize+1))
}

// rel makes an absolute, cleaned path relative to the context; ok is false
// when it lies outside.
func (m *Model) rel(p string) (string, bool) {
	if p == m.ctx {
		return ".", true
	}
	prefix := m.ctx + string(filepath.Separator)
	if m.ctx == string(filepath.Separator) {
		prefix = m.ctx
	}
	if !strings.HasPrefix(p, prefix) {
		return "", false
	}
	return filepath.ToSlash(p[len(prefix):]), true
}
