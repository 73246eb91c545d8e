package config

import (
	"os"
	"path/filepath"
	"testing"
)

// The shipped example must load with the defaults it documents.
func TestExampleSettingsLoad(t *testing.T) {
	data, err := os.ReadFile("../rebuild.yaml.example")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "rebuild.yaml")
	if err := os.WriteFile(file, data, 0o644); err != nil {
		t.Fatal(err)
	}
	_, s, err := loadSettings(file, dir, []Service{{Name: "api"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if s.Debounce != DefaultDebounce || s.MaxWait != DefaultMaxWait || s.Poll != PollAuto ||
		s.PollInterval != DefaultPollInterval || s.Parallel != 1 || s.OnBusy != "queue" {
		t.Errorf("example does not document the defaults: %+v", s)
	}
	if got := s.Services["api"]; got.OnSource != "auto" || len(got.Ignore) != 2 || got.Exclude {
		t.Errorf("api settings: %+v", got)
	}
}
