package dockerfile

import (
	"fmt"
	"math/rand"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/rebuildd/rebuildd/config"
	"github.com/rebuildd/rebuildd/ignore"
)

const nodeDockerfile = `FROM node:18 AS dev
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY . .
CMD ["npm", "run", "dev"]
`

func mustModel(t testing.TB, src string, p Parts, patterns ...string) *Model {
	t.Helper()
	an, err := Analyze([]byte(src), p.Dockerfile, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	ign, err := ignore.New(patterns)
	if err != nil {
		t.Fatal(err)
	}
	p.Analysis, p.Ignore = an, ign
	return NewModel(p)
}

func TestClassifyOnSource(t *testing.T) {
	bound := []config.BindMount{{Source: "/p/src", Target: "/app/src"}}
	tests := []struct {
		policy string
		binds  []config.BindMount
		path   string
		impact Impact
		action Action
		reason string
	}{
		{"", bound, "/p/src/a.js", ImpactSource, ActionNone, "bind-mounted source (./src:/app/src), no RUN after COPY at Dockerfile:5"},
		{"auto", nil, "/p/src/a.js", ImpactSource, ActionRebuild, "read by COPY at Dockerfile:5, source layer, not bind-mounted"},
		// sync and sync+restart only say what a sync does: the layer
		// model's action is auto's (bind-mounted source stays none).
		{"sync", bound, "/p/src/a.js", ImpactSource, ActionNone, "bind-mounted source (./src:/app/src), no RUN after COPY at Dockerfile:5"},
		{"sync", nil, "/p/src/a.js", ImpactSource, ActionRebuild, "read by COPY at Dockerfile:5, source layer, not bind-mounted"},
		{"sync+restart", bound, "/p/src/a.js", ImpactSource, ActionNone, "bind-mounted source (./src:/app/src), no RUN after COPY at Dockerfile:5"},
		{"restart", bound, "/p/src/a.js", ImpactSource, ActionRestart, "bind-mounted source (./src:/app/src), no RUN after COPY at Dockerfile:5; on_source: restart"},
		{"restart", nil, "/p/src/a.js", ImpactSource, ActionRebuild, "read by COPY at Dockerfile:5, source layer, not bind-mounted"},
		{"rebuild", bound, "/p/src/a.js", ImpactSource, ActionRebuild, "bind-mounted source (./src:/app/src), no RUN after COPY at Dockerfile:5; on_source: rebuild"},
		{"none", nil, "/p/src/a.js", ImpactSource, ActionNone, "read by COPY at Dockerfile:5, source layer, not bind-mounted; on_source: none"},
		{"none", bound, "/p/package.json", ImpactDeps, ActionRebuild, "read by COPY at Dockerfile:3, deps layer (RUN npm ci at line 4)"},
		{"restart", bound, "/p/Dockerfile", ImpactDockerfile, ActionRebuild, "the Dockerfile"},
		{"", bound, "/p/node_modules/x/index.js", ImpactIgnored, ActionNone, "excluded by .dockerignore"},
		{"", bound, "/elsewhere/x", ImpactOutside, ActionNone, "outside the build context"},
		{"", bound, "/p", ImpactSource, ActionRebuild, "read by COPY at Dockerfile:5, source layer, not bind-mounted"},
	}
	for _, tt := range tests {
		t.Run(tt.policy+" "+tt.path, func(t *testing.T) {
			m := mustModel(t, nodeDockerfile, Parts{Context: "/p", Dockerfile: "/p/Dockerfile", IgnoreFile: "/p/.dockerignore",
				Binds: tt.binds, OnSource: tt.policy}, "node_modules")
			got := m.Classify(tt.path)
			if got.Impact != tt.impact || got.Action != tt.action || got.Reason != tt.reason {
				t.Errorf("got %s/%s %q\nwant %s/%s %q", got.Impact, got.Action, got.Reason, tt.impact, tt.action, tt.reason)
			}
			// The mount is named exactly when it carries the change.
			if wantMount := strings.HasPrefix(tt.reason, "bind-mounted"); (got.Mount == "./src:/app/src") != wantMount {
				t.Errorf("mount %q, want it named: %v", got.Mount, wantMount)
			}
		})
	}
}

func TestClassifyIgnoreFiles(t *testing.T) {
	src := "FROM alpine\nCOPY . .\n"
	tests := []struct {
		name string
		p    Parts
		path string
		want Impact
	}{
		{"context .dockerignore in use", Parts{Context: "/c", Dockerfile: "/c/Dockerfile", IgnoreFile: "/c/.dockerignore"}, "/c/.dockerignore", ImpactDockerignore},
		{"context .dockerignore not yet there", Parts{Context: "/c", Dockerfile: "/c/Dockerfile"}, "/c/.dockerignore", ImpactDockerignore},
		{"<D>.dockerignore wins", Parts{Context: "/c", Dockerfile: "/c/Dockerfile", IgnoreFile: "/c/Dockerfile.dockerignore"}, "/c/.dockerignore", ImpactSource},
		{"<D>.dockerignore itself", Parts{Context: "/c", Dockerfile: "/c/Dockerfile", IgnoreFile: "/c/.dockerignore"}, "/c/Dockerfile.dockerignore", ImpactDockerignore},
		{"Dockerfile outside the context", Parts{Context: "/c/app", Dockerfile: "/c/docker/app.Dockerfile"}, "/c/docker/app.Dockerfile", ImpactDockerfile},
		{"its ignore file beside it", Parts{Context: "/c/app", Dockerfile: "/c/docker/app.Dockerfile"}, "/c/docker/app.Dockerfile.dockerignore", ImpactDockerignore},
		{"its neighbours are outside", Parts{Context: "/c/app", Dockerfile: "/c/docker/app.Dockerfile"}, "/c/docker/other", ImpactOutside},
		{"inline Dockerfile", Parts{Context: "/c"}, "/c/Dockerfile", ImpactSource},
		{"inline, .dockerignore", Parts{Context: "/c"}, "/c/.dockerignore", ImpactDockerignore},
		{"root context", Parts{Context: "/", Dockerfile: "/Dockerfile"}, "/etc/x", ImpactSource},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := mustModel(t, src, tt.p)
			if got := m.Classify(tt.path); got.Impact != tt.want {
				t.Errorf("%s: %s (%s), want %s", tt.path, got.Impact, got.Reason, tt.want)
			}
		})
	}
}

func TestClassifyBindMountedFileAndTrigger(t *testing.T) {
	src := "FROM alpine\nCOPY config.yaml app.py /app/\nCMD python /app/app.py\n"
	trig, err := ignore.New([]string{"*.py"})
	if err != nil {
		t.Fatal(err)
	}
	m := mustModel(t, src, Parts{Context: "/c", Dockerfile: "/c/Dockerfile", BindMounts: []string{"/c/config.yaml"}, Trigger: trig})
	if got := m.Classify("/c/config.yaml"); got.Action != ActionNone || !strings.Contains(got.Reason, "(./config.yaml)") {
		t.Errorf("config.yaml: %+v", got)
	}
	if got := m.Classify("/c/app.py"); got.Impact != ImpactIgnored || got.Action != ActionNone {
		t.Errorf("app.py: %+v", got)
	}
	if got := m.Classify("/c/other.txt"); got.Impact != ImpactUnused || got.Reason != "no instruction reads it" {
		t.Errorf("other.txt: %+v", got)
	}
}

// TestClassifyRunAfterInOtherStage: a source file built in one stage and
// copied into the target is not fixed by a bind mount.
func TestClassifyRunAfterInOtherStage(t *testing.T) {
	tests := []struct{ name, src, path, impact, reason string }{{
		// The RUN is in the stage that copies --from the input's stage, and
		// no context input follows it: source, but it needs a build.
		name:   "COPY --from then RUN",
		src:    "FROM node AS build\nCOPY src ./src\nFROM node\nCOPY --from=build /src /src\nRUN npm run build\n",
		path:   "/c/src/app.js",
		impact: "source", reason: "read by COPY at Dockerfile:2, source layer, RUN npm run build at line 5 runs after it",
	}, {
		name:   "RUN --mount=from",
		src:    "FROM node AS build\nCOPY src ./src\nFROM node\nRUN --mount=from=build,source=/src,target=/src npm run build\n",
		path:   "/c/src/app.js",
		impact: "source", reason: "read by COPY at Dockerfile:2, source layer, RUN npm run build at line 4 runs after it",
	}, {
		// docs/design.md, "Across stages": the RUN re-runs, the dist
		// stage's COPY --from brings that into the final stage, and the
		// context COPY after it has to be done again: deps.
		name:   "context COPY after the COPY --from",
		src:    "FROM node AS build\nCOPY src ./src\nRUN npm run build\nFROM node\nCOPY --from=build /dist /dist\nCOPY src/static /static\n",
		path:   "/c/src/static/logo.svg",
		impact: "deps", reason: "read by COPY at Dockerfile:2, deps layer (RUN npm run build at line 3)",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := mustModel(t, tt.src, Parts{Context: "/c", Dockerfile: "/c/Dockerfile", BindMounts: []string{"/c/src"}})
			got := m.Classify(tt.path)
			if string(got.Impact) != tt.impact || got.Action != ActionRebuild || got.Reason != tt.reason || got.Input.Line != 2 {
				t.Errorf("got %+v, want %s rebuild %q", got, tt.impact, tt.reason)
			}
		})
	}
}

// TestClassifyCacheAgrees compares Classify (per-directory cache) with a
// plain evaluation of every input for many random paths, twice so the
// second round is served from the cache.
func TestClassifyCacheAgrees(t *testing.T) {
	src := "FROM golang AS b\nCOPY go.mod go.sum ./\nRUN go mod download\nCOPY --exclude=**/*_test.go . .\nRUN go build ./...\nFROM alpine\nCOPY --from=b /app /app\nCOPY config/*.yaml /etc/app/\nCOPY static /static\n"
	m := mustModel(t, src, Parts{Context: "/c", Dockerfile: "/c/Dockerfile", BindMounts: []string{"/c/static", "/c/config"}}, "vendor", "!vendor/keep", "*.log")
	r := rand.New(rand.NewSource(1))
	parts := []string{"config", "static", "vendor", "keep", "pkg", "x_test.go", "a.yaml", "go.mod", "b.log", "main.go"}
	var paths []string
	for i := 0; i < 2000; i++ {
		n := 1 + r.Intn(4)
		segs := make([]string, n)
		for j := range segs {
			segs[j] = parts[r.Intn(len(parts))]
		}
		paths = append(paths, "/c/"+strings.Join(segs, "/"))
	}
	for round := 0; round < 2; round++ {
		for _, p := range paths {
			got, want := m.Classify(p), slowClassify(m, p)
			if got.Impact != want.Impact || got.Action != want.Action || got.Reason != want.Reason {
				t.Fatalf("round %d %s: cached %+v, plain %+v", round, p, got, want)
			}
		}
	}
}

// slowClassify is Classify without the per-directory cache.
func slowClassify(m *Model, p string) Result {
	rel := strings.TrimPrefix(p, m.ctx+"/")
	if m.ign.Excluded(rel) {
		return Result{Impact: ImpactIgnored, Action: ActionNone, Reason: "excluded by " + m.ignName}
	}
	var readers []*Input
	for _, in := range m.an.Inputs {
		if in.Reads(rel) {
			readers = append(readers, in)
		}
	}
	covered := false
	for _, b := range m.binds {
		if p == b.src || strings.HasPrefix(p, b.src+"/") {
			covered = true
		}
	}
	return m.decide(readers, covered, p)
}

// TestClassifyConcurrent is for -race: many goroutines share one model.
func TestClassifyConcurrent(t *testing.T) {
	src := "FROM alpine\nCOPY --exclude=**/*.tmp . /app\nRUN make\n"
	m := mustModel(t, src, Parts{Context: "/c", Dockerfile: "/c/Dockerfile"}, "build")
	var wg sync.WaitGroup
	results := make([][]Impact, 8)
	for g := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 500; i++ {
				results[g] = append(results[g], m.Classify(fmt.Sprintf("/c/d%d/f%d.tmp", i%50, i)).Impact)
			}
		}()
	}
	wg.Wait()
	for g, rs := range results {
		for i, imp := range rs {
			if imp != ImpactUnused {
				t.Fatalf("goroutine %d path %d: %s, want unused (excluded by --exclude)", g, i, imp)
			}
		}
	}
}

func TestIsCleanAbs(t *testing.T) {
	for _, p := range []string{"/", "/a", "/a/b.c", "/a/.b", "/a/..b", "/a/b..", "//a", "/a//b", "/a/./b", "/a/../b", "/a/", "/a/.", "/a/..", "a/b", "", ".", "/.", "/.."} {
		if got, want := isCleanAbs(p), p == filepath.Clean(p) && filepath.IsAbs(p); got != want {
			t.Errorf("isCleanAbs(%q) = %v, want %v", p, got, want)
		}
	}
}
