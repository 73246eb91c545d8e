package dockerfile

import (
	"path/filepath"
	"testing"

	"github.com/rebuildd/rebuildd/config"
)

// articleServices are the compose services of issue 2's worked example
// (testdata/projects/article/compose.yaml), as config would load them.
func articleServices(t *testing.T) (root string, api, apiProd config.Service) {
	t.Helper()
	root, err := filepath.Abs("../testdata/projects/article")
	if err != nil {
		t.Fatal(err)
	}
	ctx := filepath.Join(root, "services/api")
	api = config.Service{Name: "api", Image: "my-api:dev",
		Build:      &config.Build{Context: ctx, Dockerfile: filepath.Join(ctx, "Dockerfile"), Target: "dev"},
		BindMounts: []config.BindMount{{Source: filepath.Join(ctx, "src"), Target: "/app/src"}}}
	apiProd = config.Service{Name: "api-prod", Image: "my-api:prod",
		Build: &config.Build{Context: ctx, Dockerfile: filepath.Join(ctx, "Dockerfile"), Target: "prod"}}
	return root, api, apiProd
}

// TestArticleWorkedExample is the table of issue 2, exactly.
func TestArticleWorkedExample(t *testing.T) {
	root, api, apiProd := articleServices(t)
	mAPI, err := Load(api, config.ServiceSettings{})
	if err != nil {
		t.Fatal(err)
	}
	mProd, err := Load(apiProd, config.ServiceSettings{})
	if err != nil {
		t.Fatal(err)
	}
	type want struct {
		impact Impact
		action Action
	}
	tests := []struct {
		path      string
		api, prod want
	}{
		{"services/api/package.json", want{ImpactDeps, ActionRebuild}, want{ImpactDeps, ActionRebuild}},
		{"services/api/src/server.js", want{ImpactSource, ActionNone}, want{ImpactSource, ActionRebuild}},
		{"services/api/README.md", want{ImpactIgnored, ActionNone}, want{ImpactIgnored, ActionNone}},
		{"services/api/tests/app.test.js", want{ImpactIgnored, ActionNone}, want{ImpactIgnored, ActionNone}},
		{"services/api/Dockerfile", want{ImpactDockerfile, ActionRebuild}, want{ImpactDockerfile, ActionRebuild}},
		{"services/api/.dockerignore", want{ImpactDockerignore, ActionRebuild}, want{ImpactDockerignore, ActionRebuild}},
		{"services/worker/main.go", want{ImpactOutside, ActionNone}, want{ImpactOutside, ActionNone}},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			abs := filepath.Join(root, tt.path)
			for _, c := range []struct {
				svc  string
				m    *Model
				want want
			}{{"api", mAPI, tt.api}, {"api-prod", mProd, tt.prod}} {
				got := c.m.Classify(abs)
				if got.Impact != c.want.impact || got.Action != c.want.action {
					t.Errorf("%s: got %s, %s (%s); want %s, %s", c.svc, got.Impact, got.Action, got.Reason, c.want.impact, c.want.action)
				}
			}
		})
	}
}

// TestArticleReasons pins the reasons people read in `rebuildd explain`.
func TestArticleReasons(t *testing.T) {
	root, api, apiProd := articleServices(t)
	mAPI, err := Load(api, config.ServiceSettings{})
	if err != nil {
		t.Fatal(err)
	}
	mProd, err := Load(apiProd, config.ServiceSettings{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		m    *Model
		path string
		want string
	}{
		{mAPI, "services/api/package.json", "read by COPY at Dockerfile:4, deps layer (RUN npm ci at line 5)"},
		{mAPI, "services/api/src/server.js", "bind-mounted source (./src:/app/src), no RUN after COPY at Dockerfile:6"},
		{mProd, "services/api/src/server.js", "read by COPY at Dockerfile:13, source layer, not bind-mounted"},
		{mAPI, "services/api/README.md", "excluded by .dockerignore"},
		{mAPI, "services/api/Dockerfile", "the Dockerfile"},
		{mAPI, "services/worker/main.go", "outside the build context"},
	}
	for _, tt := range tests {
		if got := tt.m.Classify(filepath.Join(root, tt.path)).Reason; got != tt.want {
			t.Errorf("%s: reason %q, want %q", tt.path, got, tt.want)
		}
	}
}

// TestArticleChains checks the stage chains: dev alone; prod pulls in build
// through COPY --from.
func TestArticleChains(t *testing.T) {
	_, api, apiProd := articleServices(t)
	for _, c := range []struct {
		svc  config.Service
		want []string
	}{{api, []string{"dev"}}, {apiProd, []string{"build", "prod"}}} {
		m, err := Load(c.svc, config.ServiceSettings{})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, s := range m.Analysis().Stages {
			got = append(got, s.Name)
		}
		if len(got) != len(c.want) || got[0] != c.want[0] || got[len(got)-1] != c.want[len(c.want)-1] {
			t.Errorf("%s: stages %v, want %v", c.svc.Name, got, c.want)
		}
	}
}
