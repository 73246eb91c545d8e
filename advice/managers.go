package advice

import (
	"regexp"
	"strings"
)

// manager is one package manager whose install step advice knows.
type manager struct {
	name string
	// install matches a command that resolves dependencies from the
	// manifests: the step that must come before the source is copied.
	install *regexp.Regexp
	// uses matches every command that fills the manager's download cache
	// (install, and for compilers such as go or cargo the build itself).
	uses *regexp.Regexp
	// manifests are the files install reads, as globs on base names, in
	// the order a COPY should list them.
	manifests []string
	// mounts are the cache mounts for the image's default user (root) and
	// the manager's default cache location; nil when a cache mount would
	// hide what the install leaves in the image (bundler, dotnet restore).
	mounts []string
	// note is said after the mount line when the mount alone is not enough.
	note string
	// outDirs are directories, relative to WORKDIR, that install fills:
	// what an anonymous volume hides (node_modules, vendor, .venv).
	outDirs []string
	// supersedes names a manager whose pattern also matches this one's
	// commands (`uv pip install` is uv, not pip).
	supersedes string
}

// cmdStart anchors a command word at the start of a shell command: the
// beginning, after && || ; | or a newline, or after sudo/env assignments is
// close enough for Dockerfiles.
const cmdStart = `(?:^|[;&|\n(]\s*|\s)`

func re(s string) *regexp.Regexp { return regexp.MustCompile(s) }

// managers are checked in this order; the order is also the order of
// findings when one RUN uses several managers.
var managers = []manager{
	{
		name:      "apt",
		install:   re(cmdStart + `apt(?:-get)?\s+(?:-\S+\s+)*install\b`),
		uses:      re(cmdStart + `apt(?:-get)?\s+(?:-\S+\s+)*(?:install|update|upgrade|dist-upgrade)\b`),
		mounts:    []string{"--mount=type=cache,target=/var/cache/apt,sharing=locked", "--mount=type=cache,target=/var/lib/apt,sharing=locked"},
		note:      "Debian and Ubuntu images delete downloaded packages (/etc/apt/apt.conf.d/docker-clean); remove that file in the same RUN so the cache keeps them",
		manifests: nil,
	},
	{
		name:      "npm",
		install:   re(cmdStart + `npm\s+(?:-\S+\s+)*(?:ci|install|i)\b`),
		manifests: []string{"package.json", "package-lock.json", "npm-shrinkwrap.json"},
		mounts:    []string{"--mount=type=cache,target=/root/.npm"},
		outDirs:   []string{"node_modules"},
	},
	{
		name:      "yarn",
		install:   re(cmdStart + `yarn(?:\s+install\b|\s*$|\s*(?:&&|\|\||;|\n)|\s+--(?:frozen-lockfile|immutable|production|pure-lockfile|non-interactive|network-timeout)\b)`),
		manifests: []string{"package.json", "yarn.lock", ".yarnrc.yml", ".yarnrc"},
		mounts:    []string{"--mount=type=cache,target=/usr/local/share/.cache/yarn"},
		outDirs:   []string{"node_modules"},
	},
	{
		name:      "pnpm",
		install:   re(cmdStart + `pnpm\s+(?:-\S+\s+)*(?:install|i|fetch)\b`),
		manifests: []string{"package.json", "pnpm-lock.yaml", "pnpm-workspace.yaml"},
		mounts:    []string{"--mount=type=cache,id=pnpm,target=/root/.local/share/pnpm/store"},
		outDirs:   []string{"node_modules"},
	},
	{
		name:      "pip",
		install:   re(cmdStart + `(?:pip3?|python3?\s+-m\s+pip)\s+install\b`),
		manifests: []string{"requirements*.txt", "constraints*.txt", "Pipfile", "Pipfile.lock"},
		mounts:    []string{"--mount=type=cache,target=/root/.cache/pip"},
		note:      "drop --no-cache-dir: the cache mount keeps the cache out of the image anyway",
		outDirs:   []string{".venv", "venv"},
	},
	{
		name:       "uv",
		install:    re(cmdStart + `uv\s+(?:sync|pip\s+(?:install|sync))\b`),
		manifests:  []string{"pyproject.toml", "uv.lock", "requirements*.txt"},
		mounts:     []string{"--mount=type=cache,target=/root/.cache/uv"},
		note:       "uv links from its cache by default; set ENV UV_LINK_MODE=copy so the installed packages stay in the image",
		outDirs:    []string{".venv"},
		supersedes: "pip",
	},
	{
		name:      "pipenv",
		install:   re(cmdStart + `pipenv\s+(?:install|sync)\b`),
		manifests: []string{"Pipfile", "Pipfile.lock"},
		mounts:    []string{"--mount=type=cache,target=/root/.cache/pipenv", "--mount=type=cache,target=/root/.cache/pip"},
		outDirs:   []string{".venv"},
	},
	{
		name:      "poetry",
		install:   re(cmdStart + `poetry\s+(?:-\S+\s+)*install\b`),
		manifests: []string{"pyproject.toml", "poetry.lock"},
		mounts:    []string{"--mount=type=cache,target=/root/.cache/pypoetry"},
		note:      "keep the virtualenv out of the cache (ENV POETRY_VIRTUALENVS_IN_PROJECT=1 or POETRY_VIRTUALENVS_CREATE=false)",
		outDirs:   []string{".venv"},
	},
	{
		name:      "go",
		install:   re(cmdStart + `go\s+mod\s+download\b`),
		uses:      re(cmdStart + `go\s+(?:mod\s+download|build|install|test|get|generate|vet)\b`),
		manifests: []string{"go.mod", "go.sum"},
		mounts:    []string{"--mount=type=cache,target=/go/pkg/mod", "--mount=type=cache,target=/root/.cache/go-build"},
		note:      "put the same mounts on every RUN that runs go, or later steps download the modules again",
	},
	{
		name:      "cargo",
		install:   re(cmdStart + `cargo\s+fetch\b`),
		uses:      re(cmdStart + `cargo\s+(?:fetch|build|install|test)\b`),
		manifests: []string{"Cargo.toml", "Cargo.lock"},
		mounts:    []string{"--mount=type=cache,target=/usr/local/cargo/registry", "--mount=type=cache,target=/usr/local/cargo/git"},
	},
	{
		name:      "maven",
		install:   re(cmdStart + `(?:mvn|\./mvnw)\s+(?:\S+\s+)*dependency:(?:go-offline|resolve)\b`),
		uses:      re(cmdStart + `(?:mvn|\./mvnw)\b`),
		manifests: []string{"pom.xml", ".mvn"},
		mounts:    []string{"--mount=type=cache,target=/root/.m2"},
		note:      "put the same mount on every RUN that runs mvn, or later steps download the dependencies again",
	},
	{
		name:      "gradle",
		install:   re(cmdStart + `(?:gradle|\./gradlew)\s+(?:\S+\s+)*(?:dependencies|--refresh-dependencies)\b`),
		uses:      re(cmdStart + `(?:gradle|\./gradlew)\b`),
		manifests: []string{"build.gradle", "build.gradle.kts", "settings.gradle", "settings.gradle.kts", "gradle.properties", "gradle"},
		mounts:    []string{"--mount=type=cache,target=/root/.gradle"},
	},
	{
		name:      "composer",
		install:   re(cmdStart + `composer\s+(?:-\S+\s+)*(?:install|update)\b`),
		manifests: []string{"composer.json", "composer.lock"},
		// COMPOSER_CACHE_DIR is set explicitly because the default differs
		// between the composer image (/tmp/cache) and PHP images (~/.composer/cache).
		mounts:  []string{"--mount=type=cache,target=/tmp/composer-cache"},
		note:    "and run it as COMPOSER_CACHE_DIR=/tmp/composer-cache composer install",
		outDirs: []string{"vendor"},
	},
	{
		name:      "bundler",
		install:   re(cmdStart + `bundle\s+(?:-\S+\s+)*install\b`),
		manifests: []string{"Gemfile", "Gemfile.lock", "*.gemspec"},
		outDirs:   []string{"vendor"},
	},
	{
		name:      "dotnet",
		install:   re(cmdStart + `dotnet\s+restore\b`),
		manifests: []string{"*.sln", "*.csproj", "*.fsproj", "NuGet.config", "Directory.Build.props", "Directory.Packages.props"},
	},
}

// installsIn returns the managers whose install command the shell text runs.
func installsIn(shell string) []*manager {
	var out []*manager
	for i := range managers {
		if managers[i].install.MatchString(shell) {
			out = append(out, &managers[i])
		}
	}
	return dropSuperseded(out)
}

// dropSuperseded removes a manager that only matched because another one's
// command contains it.
func dropSuperseded(ms []*manager) []*manager {
	gone := map[string]bool{}
	for _, m := range ms {
		if m.supersedes != "" {
			gone[m.supersedes] = true
		}
	}
	out := ms[:0]
	for _, m := range ms {
		if !gone[m.name] {
			out = append(out, m)
		}
	}
	return out
}

// cachedIn returns the managers with a cache mount line whose cache the
// shell text fills.
func cachedIn(shell string) []*manager {
	var out []*manager
	for i := range managers {
		m := &managers[i]
		u := m.uses
		if u == nil {
			u = m.install
		}
		if len(m.mounts) > 0 && u.MatchString(shell) {
			out = append(out, m)
		}
	}
	return dropSuperseded(out)
}

// mountTargets are the cache targets of a manager's mount lines.
func (m *manager) mountTargets() []string {
	var out []string
	for _, l := range m.mounts {
		for _, kv := range strings.Split(strings.TrimPrefix(l, "--mount="), ",") {
			if t, ok := strings.CutPrefix(kv, "target="); ok {
				out = append(out, t)
			}
		}
	}
	return out
}

// isManifest reports whether the base name is a manifest or lockfile of any
// manager: copying it alone is the recommended deps step, not source.
func isManifest(base string) bool {
	for _, m := range managers {
		for _, g := range m.manifests {
			if globMatch(g, base) {
				return true
			}
		}
	}
	return false
}
