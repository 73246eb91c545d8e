package config

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
)

// Load loads the Compose project exactly as `docker compose` would (same
// flags, COMPOSE_FILE, file discovery with override files, .env and
// --env-file interpolation, profiles) plus rebuild.yaml. Every error about
// the user's files is an *InputError.
func Load(ctx context.Context, o Options) (*Project, error) {
	o, err := absOptions(o)
	if err != nil {
		return nil, err
	}
	cp, err := loadCompose(ctx, o)
	if err != nil {
		return nil, err
	}
	p := &Project{Name: cp.Name, Dir: cp.WorkingDir, ComposeFiles: cp.ComposeFiles}
	p.EnvFiles = envFiles(o, cp)
	if p.Services, err = services(cp); err != nil {
		return nil, err
	}
	// Services whose profile is off are still services: rebuild.yaml may
	// configure them for the day their profile is on.
	known := append([]Service{}, p.Services...)
	for name := range cp.DisabledServices {
		known = append(known, Service{Name: name})
	}
	if p.SettingsFile, p.Settings, err = loadSettings(o.ConfigFile, cp.WorkingDir, known, userCommand(o)); err != nil {
		return nil, err
	}
	return p, nil
}

// absOptions makes every path of o absolute against WorkDir (default: the
// current directory), as the user's shell would have.
func absOptions(o Options) (Options, error) {
	if o.WorkDir == "" {
		wd, err := os.Getwd()
		if err != nil {
			return o, err
		}
		o.WorkDir = wd
	}
	abs := func(p string) string {
		if p == "" || filepath.IsAbs(p) || p == "-" {
			return p
		}
		return filepath.Join(o.WorkDir, p)
	}
	files := make([]string, len(o.Files))
	for i, f := range o.Files {
		files[i] = abs(f)
	}
	o.Files = files
	envs := make([]string, len(o.EnvFiles))
	for i, f := range o.EnvFiles {
		envs[i] = abs(f)
	}
	o.EnvFiles = envs
	o.ProjectDir, o.ConfigFile = abs(o.ProjectDir), abs(o.ConfigFile)
	return o, nil
}

func loadCompose(ctx context.Context, o Options) (*types.Project, error) {
	if err := mustExist(o.EnvFiles, "env file", "fix --env-file"); err != nil {
		return nil, err
	}
	opts, err := cli.NewProjectOptions(o.Files, composeOptions(o)...)
	if err != nil {
		return nil, composeError(o, err)
	}
	if len(opts.ConfigPaths) == 0 {
		dir := o.ProjectDir
		if dir == "" {
			dir = o.WorkDir
		}
		return nil, &InputError{Msg: fmt.Sprintf("no compose file found in %s or its parents: pass -f FILE or create compose.yaml", dir)}
	}
	if err := mustExist(opts.ConfigPaths, "compose file", "fix -f or COMPOSE_FILE"); err != nil {
		return nil, err
	}
	var pulled []string // include: and extends: file: references, as written
	opts.WithListeners(func(event string, md map[string]any) {
		pulled = append(pulled, referencedFiles(event, md)...)
	})
	cp, err := opts.LoadProject(ctx)
	if err != nil {
		return nil, composeError(o, err, opts.ConfigPaths...)
	}
	cp.ComposeFiles = append(cp.ComposeFiles, resolveReferenced(pulled, cp)...)
	return cp, nil
}

// referencedFiles returns the files a loader event names: compose-go reports
// include: (paths relative to "workingdir") and extends: with a file, for
// declarations in the top-level compose files.
func referencedFiles(event string, md map[string]any) []string {
	var out []string
	switch event {
	case "include":
		wd, _ := md["workingdir"].(string)
		paths, _ := md["path"].(types.StringList)
		for _, p := range paths {
			if !filepath.IsAbs(p) && wd != "" {
				p = filepath.Join(wd, p)
			}
			out = append(out, p)
		}
	case "extends":
		if f, ok := md["file"].(string); ok {
			out = append(out, f)
		}
	}
	return out
}

// resolveReferenced makes referenced files absolute and keeps those that
// exist and are not already listed, so edits to them reload the project
// like edits to compose.yaml. An extends: file is relative to the file that
// names it, which the event does not say: the compose files' directories are
// tried in order.
func resolveReferenced(refs []string, cp *types.Project) []string {
	seen := map[string]bool{}
	for _, f := range cp.ComposeFiles {
		seen[f] = true
	}
	var out []string
	for _, r := range refs {
		candidates := []string{r}
		if !filepath.IsAbs(r) {
			candidates = nil
			for _, f := range cp.ComposeFiles {
				candidates = append(candidates, filepath.Join(filepath.Dir(f), r))
			}
			candidates = append(candidates, filepath.Join(cp.WorkingDir, r))
		}
		for _, c := range candidates {
			if fi, err := os.Stat(c); err == nil && !fi.IsDir() && !seen[c] {
				seen[c] = true
				out = append(out, c)
				break
			}
		}
	}
	return out
}

// composeOptions are docker compose's own (cmd/compose/compose.go,
// toProjectOptions), in its order: the first .env pass may set COMPOSE_FILE
// or COMPOSE_PROFILES, and the second reads the .env of a project directory
// found by discovery. compose runs them in the user's current directory;
// WorkDir stands in for it (inCwd).
func composeOptions(o Options) []cli.ProjectOptionsFn {
	inCwd := func(fn cli.ProjectOptionsFn) cli.ProjectOptionsFn { return inWorkDir(o.WorkDir, fn) }
	return []cli.ProjectOptionsFn{
		cli.WithResolvedPaths(true),
		cli.WithWorkingDirectory(o.ProjectDir),
		cli.WithOsEnv,
		inCwd(cli.WithEnvFiles(o.EnvFiles...)),
		cli.WithDotEnv,
		inCwd(composeFileEnv(o.WorkDir)),
		inCwd(cli.WithDefaultConfigPath),
		cli.WithEnvFiles(o.EnvFiles...),
		cli.WithDotEnv,
		cli.WithDefaultProfiles(o.Profiles...),
		cli.WithName(o.ProjectName),
	}
}

// inWorkDir runs fn as if the process ran in dir: compose-go falls back to
// os.Getwd when neither a project directory nor a compose file is known yet.
func inWorkDir(dir string, fn cli.ProjectOptionsFn) cli.ProjectOptionsFn {
	return func(po *cli.ProjectOptions) error {
		if po.WorkingDir != "" || len(po.ConfigPaths) > 0 {
			return fn(po)
		}
		po.WorkingDir = dir
		defer func() { po.WorkingDir = "" }()
		return fn(po)
	}
}

// composeFileEnv is cli.WithConfigFileEnv with relative COMPOSE_FILE
// entries taken relative to dir (compose takes them relative to its current
// directory).
func composeFileEnv(dir string) cli.ProjectOptionsFn {
	return func(po *cli.ProjectOptions) error {
		v, ok := po.Environment["COMPOSE_FILE"]
		if !ok || len(po.ConfigPaths) > 0 {
			return cli.WithConfigFileEnv(po)
		}
		sep := po.Environment["COMPOSE_PATH_SEPARATOR"]
		if sep == "" {
			sep = string(os.PathListSeparator)
		}
		entries := strings.Split(v, sep)
		for i, e := range entries {
			if e != "" && e != "-" && !filepath.IsAbs(e) && !strings.Contains(e, "://") {
				entries[i] = filepath.Join(dir, e)
			}
		}
		po.Environment["COMPOSE_FILE"] = strings.Join(entries, sep)
		defer func() { po.Environment["COMPOSE_FILE"] = v }()
		return cli.WithConfigFileEnv(po)
	}
}

// envFiles are the files whose edits change the project: the env files
// compose read (--env-file, else the .env of the current directory and of
// the project directory) and every service's env_file.
func envFiles(o Options, cp *types.Project) []string {
	seen := map[string]bool{}
	var out []string
	add := func(p string) {
		if p == "" || seen[p] {
			return
		}
		if _, err := os.Stat(p); err == nil {
			seen[p] = true
			out = append(out, p)
		}
	}
	if len(o.EnvFiles) > 0 {
		for _, f := range o.EnvFiles {
			add(f)
		}
	} else {
		first := o.WorkDir // where composeOptions' first .env pass looked
		switch {
		case o.ProjectDir != "":
			first = o.ProjectDir
		case len(o.Files) > 0:
			first = filepath.Dir(o.Files[0])
		}
		add(filepath.Join(first, ".env"))
		add(filepath.Join(cp.WorkingDir, ".env"))
	}
	for _, s := range cp.Services {
		for _, ef := range s.EnvFiles {
			add(ef.Path)
		}
	}
	sort.Strings(out)
	return out
}

// services models every enabled service, sorted by name.
func services(cp *types.Project) ([]Service, error) {
	var out []Service
	for _, name := range cp.ServiceNames() {
		sc := cp.Services[name]
		s := Service{Name: name, Image: sc.Image}
		if sc.Build != nil {
			b, err := build(name, sc.Build)
			if err != nil {
				return nil, err
			}
			s.Build = b
		}
		for _, v := range sc.Volumes {
			switch {
			case v.Type == types.VolumeTypeBind:
				s.BindMounts = append(s.BindMounts, BindMount{Source: filepath.Clean(v.Source), Target: v.Target, ReadOnly: v.ReadOnly})
			case v.Type == types.VolumeTypeVolume && v.Source == "":
				s.AnonVolumes = append(s.AnonVolumes, v.Target)
			}
		}
		s.HasHealthcheck = sc.HealthCheck != nil && !sc.HealthCheck.Disable &&
			!(len(sc.HealthCheck.Test) > 0 && sc.HealthCheck.Test[0] == "NONE")
		s.BuildHash, s.RuntimeHash = hashes(sc)
		s.Watch = developRules(sc, cp.WorkingDir)
		s.Run = runOf(sc)
		out = append(out, s)
	}
	return out, nil
}

// isRemote: a git or URL context cannot be watched.
func isRemote(ctx string) bool {
	return strings.Contains(ctx, "://") || strings.HasPrefix(ctx, "git@")
}

func build(service string, bc *types.BuildConfig) (*Build, error) {
	if isRemote(bc.Context) {
		return nil, nil // nothing local to watch; compose builds it from the URL
	}
	b := &Build{Context: filepath.Clean(bc.Context), DockerfileInline: bc.DockerfileInline, Target: bc.Target, Args: map[string]string{}}
	for k, v := range bc.Args {
		if v != nil {
			b.Args[k] = *v
		}
	}
	if fi, err := os.Stat(b.Context); err != nil {
		return nil, &InputError{File: b.Context, Err: err, Msg: fmt.Sprintf("service %q: build context directory does not exist: create it or fix build.context", service)}
	} else if !fi.IsDir() {
		return nil, &InputError{File: b.Context, Msg: fmt.Sprintf("service %q: build context is not a directory: fix build.context", service)}
	}
	if b.DockerfileInline != "" {
		return b, nil
	}
	df := bc.Dockerfile
	if df == "" {
		df = "Dockerfile"
	}
	if !filepath.IsAbs(df) {
		df = filepath.Join(b.Context, df)
	}
	b.Dockerfile = filepath.Clean(df)
	if _, err := os.Stat(b.Dockerfile); err != nil {
		return nil, &InputError{File: b.Dockerfile, Msg: fmt.Sprintf("service %q: Dockerfile not found: create it or fix build.dockerfile", service)}
	}
	return b, nil
}

// hashes fingerprint a service's build section and the rest of it, so a
// compose edit can be told apart: build change -> rebuild, runtime change
// -> recreate.
func hashes(sc types.ServiceConfig) (build, runtime string) {
	sum := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			return "unhashable:" + err.Error()
		}
		h := sha256.Sum256(b)
		return hex.EncodeToString(h[:8])
	}
	build = sum(sc.Build)
	sc.Build = nil
	return build, sum(sc)
}
