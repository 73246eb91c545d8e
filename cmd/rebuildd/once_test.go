package main

import (
	"bytes"
	"errors"
	"testing"

	"github.com/rebuildd/rebuildd/rebuild"
)

func TestOnceExitCodes(t *testing.T) {
	tests := []struct {
		name     string
		statuses []string
		check    bool
		want     int
	}{
		{"all up to date", []string{"up-to-date", "up-to-date"}, false, exitOK},
		{"rebuilt", []string{"rebuilt", "recreated"}, false, exitOK},
		{"check, stale", []string{"up-to-date", "stale"}, true, exitStale},
		{"dry run, stale", []string{"stale"}, false, exitOK},
		{"check, clean", []string{"up-to-date"}, true, exitOK},
		{"failed wins over stale", []string{"stale", "failed"}, true, exitFailed},
		{"failed", []string{"rebuilt", "failed"}, false, exitFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out []rebuild.Outcome
			for _, s := range tt.statuses {
				out = append(out, rebuild.Outcome{Service: "s", Status: s})
			}
			code := exitOK
			var ee *exitError
			if err := onceExit(out, tt.check); errors.As(err, &ee) {
				code = ee.code
			}
			if code != tt.want {
				t.Errorf("exit %d, want %d", code, tt.want)
			}
		})
	}
}

func TestPrintOutcomes(t *testing.T) {
	out := []rebuild.Outcome{
		{Service: "api", Status: "rebuilt", Reason: "package-lock.json changed (deps layer, RUN npm ci)"},
		{Service: "db", Status: "up-to-date"},
		{Service: "web", Status: "failed", Reason: "build failed (exit status 1); the old container keeps running",
			Tail: []string{"Step 3/4 : RUN false", "exit code 1"}},
	}
	tests := []struct {
		name       string
		json       bool
		wantStdout string
	}{
		{"human", false, "api: rebuilt (package-lock.json changed (deps layer, RUN npm ci))\n" +
			"db: up-to-date\n" +
			"web: failed (build failed (exit status 1); the old container keeps running)\n"},
		{"json", true, `{
  "services": [
    {
      "service": "api",
      "status": "rebuilt",
      "reason": "package-lock.json changed (deps layer, RUN npm ci)"
    },
    {
      "service": "db",
      "status": "up-to-date"
    },
    {
      "service": "web",
      "status": "failed",
      "reason": "build failed (exit status 1); the old container keeps running"
    }
  ]
}
`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if err := printOutcomes(&stdout, &stderr, out, tt.json); err != nil {
				t.Fatal(err)
			}
			if stdout.String() != tt.wantStdout {
				t.Errorf("stdout\n%s\nwant\n%s", stdout.String(), tt.wantStdout)
			}
			wantErr := "rebuildd: last lines of the failed build of web:\n  web | Step 3/4 : RUN false\n  web | exit code 1\n"
			if stderr.String() != wantErr {
				t.Errorf("stderr %q, want %q", stderr.String(), wantErr)
			}
		})
	}
}

func TestPrintOutcomesEmptyJSONIsAList(t *testing.T) {
	var stdout bytes.Buffer
	printOutcomes(&stdout, &bytes.Buffer{}, nil, true)
	if got := stdout.String(); got != "{\n  \"services\": []\n}\n" {
		t.Errorf("empty result printed %q", got)
	}
}
