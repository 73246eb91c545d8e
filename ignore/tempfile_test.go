package ignore

import "testing"

func TestIsTempFile(t *testing.T) {
	tests := []struct {
		path string
		want bool
	}{
		{"src/4913", true},         // vim write test
		{"src/5036", true},         // vim write test, second try (4913+123)
		{"src/4914", false},        // just a number
		{"04913", false},           // not a name vim writes
		{"2024", false},            // a year-named file is real content
		{"main.go~", true},         // backup
		{"~", false},               // a file literally named ~
		{"src/.main.go.swp", true}, // vim swap
		{".main.go.swo", true},
		{".main.go.swx", true},
		{"main.go.swp", false}, // vim swap names start with a dot
		{".swp", false},
		{"main.go___jb_tmp___", true},
		{"main.go___jb_old___", true},
		{".#main.go", true}, // emacs lock
		{"#main.go#", true}, // emacs auto-save
		{"#", false},        // just a hash
		{"#include", false}, // not closed
		{".main.go.kate-swp", true},
		{"a/b/.DS_Store", true},
		{"DS_Store", false},
		{"main.go.tmp.12345", true}, // atomic save
		{"main.go.tmp.", false},
		{"main.go.tmp.12a", false},
		{"config.tmp", false},
		{".~lock.report.odt#", true},
		{"main.go.crswap", true},
		{".goutputstream-ABC123", true},
		{"main-go-tmp-umask", true},
		{"src/sede4N449", true}, // sed -i
		{"sed1IzYII", true},
		{"sedentary", false}, // a word, not mkstemp's mix
		{"sed12345", false},  // five characters
		{"sed.tmp1", false},
		{"XX9oYnvy", true}, // perl -i
		{"XXXXXX", false},
		{"XXlarge", false},
		{"main.go", false},
		{"package.json", false},
		{".env", false},
		{"", false},
		{"/", false},
	}
	for _, tt := range tests {
		if got := IsTempFile(tt.path); got != tt.want {
			t.Errorf("IsTempFile(%q) = %v, want %v", tt.path, got, tt.want)
		}
	}
}

// Temp files stay part of the context: only a .dockerignore pattern excludes.
func TestTempFilesAreNotExcluded(t *testing.T) {
	m, err := New([]string{"node_modules"})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"src/.main.go.swp", "4913", "main.go~"} {
		if m.Excluded(p) {
			t.Errorf("Excluded(%q) = true; temp files are filtered from triggers, not from the context", p)
		}
	}
}
