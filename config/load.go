package config

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/errdefs"
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
	if p.SettingsFile, p.Settings, err = loadSettings(o.ConfigFile, cp.WorkingDir, p.Services); err != nil {
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
	workDir := o.ProjectDir
	if workDir == "" && len(o.Files) == 0 {
		workDir = o.WorkDir // discovery starts here (and walks up), as compose does
	}
	opts, err := cli.NewProjectOptions(o.Files,
		cli.WithWorkingDirectory(workDir),
		cli.WithOsEnv,
		cli.WithConfigFileEnv,
		cli.WithDefaultConfigPath,
		cli.WithEnvFiles(o.EnvFiles...),
		cli.WithDotEnv,
		cli.WithProfiles(o.Profiles),
		cli.WithName(o.ProjectName),
		cli.WithResolvedPaths(true),
	)
	if err != nil {
		return nil, composeError(o, err)
	}
	if len(opts.ConfigPaths) == 0 {
		return nil, &InputError{Msg: fmt.Sprintf("no compose file found in %s or its parents: pass -f FILE or create compose.yaml", o.WorkDir)}
	}
	cp, err := opts.LoadProject(ctx)
	if err != nil {
		return nil, composeError(o, err, opts.ConfigPaths...)
	}
	return cp, nil
}

var lineRE = regexp.MustCompile(`line (\d+)`)

// composeError turns a compose-go error into one line naming the file
// and, when the YAML parser gave one, the line.
func composeError(o Options, err error, files ...string) error {
	if errdefs.IsNotFoundError(err) {
		return &InputError{Msg: fmt.Sprintf("compose file not found (%v): check -f and COMPOSE_FILE", err), Err: err}
	}
	ie := &InputError{Msg: strings.ReplaceAll(err.Error(), "\n", " "), Err: err}
	for _, f := range files {
		if strings.Contains(err.Error(), f) {
			ie.File = f
		}
	}
	if ie.File == "" && len(files) > 0 {
		ie.File = files[0]
	}
	if ie.File != "" {
		ie.Msg = strings.TrimSpace(strings.NewReplacer(strconv.Quote(ie.File), "", ie.File, "").Replace(ie.Msg))
	}
	if m := lineRE.FindStringSubmatch(err.Error()); m != nil {
		ie.Line, _ = strconv.Atoi(m[1])
	}
	return ie
}

// envFiles are the files whose edits change the project: .env in the
// project directory, --env-file files and every service's env_file.
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
	add(filepath.Join(cp.WorkingDir, ".env"))
	for _, f := range o.EnvFiles {
		add(f)
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
	if fi, err := os.Stat(b.Context); err != nil || !fi.IsDir() {
		return nil, &InputError{File: b.Context, Msg: fmt.Sprintf("service %q: build context directory does not exist: create it or fix build.context", service)}
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
