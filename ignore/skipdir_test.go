package ignore

import "testing"

func TestSkipDir(t *testing.T) {
	tests := []struct {
		name     string
		patterns []string
		dirs     map[string]bool // dir -> SkipDir
	}{
		{"plain exclusion", []string{"node_modules"}, map[string]bool{
			"node_modules": true, "node_modules/a": true, "src": false, ".": false, "": false,
		}},
		{"exception below", []string{"node_modules", "!node_modules/keep"}, map[string]bool{
			"node_modules": false, "node_modules/other": true, "node_modules/keep": false,
		}},
		{"allow-list", []string{"*", "!src"}, map[string]bool{
			"vendor": true, "docs/api": true, "src": false,
		}},
		{"allow-list with nested exception", []string{"*", "!src", "!docs/api"}, map[string]bool{
			"vendor": true, "docs": false, "docs/other": true,
		}},
		{"glob exception", []string{"build", "!build/*/keep"}, map[string]bool{
			"build": false, "build/x": false, "build/x/other": true,
		}},
		{"double star exception", []string{"*", "!**/*.go"}, map[string]bool{
			"vendor": false, "a/b": false,
		}},
		{"double star after a prefix", []string{"docs", "!docs/**/keep"}, map[string]bool{
			"docs": false, "docs/a/b": false,
		}},
		{"double star under another dir", []string{"docs", "vendor", "!vendor/**"}, map[string]bool{
			"docs": true, "vendor": false,
		}},
		{"character class could hide a slash", []string{"a", "!a[^x]b"}, map[string]bool{
			"a": false,
		}},
		{"escape", []string{"a", `!a\/b`}, map[string]bool{"a": false}},
		{"exception names only an ancestor", []string{"tmp/*", "!tmp"}, map[string]bool{
			"tmp": false, "tmp/a": true,
		}},
		{"trailing slash exception", []string{"logs", "!logs/.keep/"}, map[string]bool{
			"logs": false, "logs/2024": true,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := New(tt.patterns)
			if err != nil {
				t.Fatal(err)
			}
			for d, want := range tt.dirs {
				if got := m.SkipDir(d); got != want {
					t.Errorf("SkipDir(%q) = %v, want %v", d, got, want)
				}
			}
		})
	}
}
