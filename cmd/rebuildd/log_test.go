package main

import (
	"bytes"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/rebuildd/rebuildd/docker"
	"github.com/rebuildd/rebuildd/internal/humanlog"
)

// TestConsoleChoices: colour and live status lines only on a terminal,
// NO_COLOR and TERM=dumb honoured, one progress line per step otherwise,
// build output streamed only with --verbose.
func TestConsoleChoices(t *testing.T) {
	for _, tc := range []struct {
		name             string
		tty              bool
		env              map[string]string
		format           string
		verbose          bool
		color, statusRow bool   // ANSI colour; a status row instead of a progress line
		progress         string // what a step prints, "" for nothing
	}{
		{name: "terminal", tty: true, color: true, statusRow: true},
		{name: "terminal NO_COLOR", tty: true, env: map[string]string{"NO_COLOR": "1"}, statusRow: true},
		{name: "terminal TERM=dumb", tty: true, env: map[string]string{"TERM": "dumb"}, progress: "api  building [2/4] RUN npm ci"},
		{name: "pipe", progress: "api  building [2/4] RUN npm ci"},
		{name: "pipe verbose", verbose: true, progress: "api  building [2/4] RUN npm ci"},
		{name: "json on a terminal", tty: true, format: "json", progress: `"msg":"progress"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			term := &humanlog.FakeTerminal{}
			now := time.Date(2026, 12, 4, 14, 3, 9, 0, time.UTC)
			con, err := newConsole(term, consoleOptions{format: tc.format, verbose: tc.verbose,
				env:      func(k string) string { return tc.env[k] },
				now:      func() time.Time { return now },
				terminal: func(io.Writer) (bool, func() int) { return tc.tty, func() int { return 80 } }})
			if err != nil {
				t.Fatal(err)
			}
			con.log.Info("decision", zap.String("service", "api"), zap.String("action", "rebuild"))
			con.progress.Begin("api", docker.PhaseBuild)
			con.progress.Step("api", docker.Step{N: 2, Total: 4, Text: "RUN npm ci"})
			now = now.Add(2 * time.Second)
			if s, ok := con.progress.(*humanlog.Screen); ok {
				s.Tick()
			}
			rows := strings.Join(term.Rows(), "\n")
			if got := strings.Contains(rows, "building [2/4] RUN npm ci  2s"); got != tc.statusRow {
				t.Errorf("status row shown = %v, want %v:\n%s", got, tc.statusRow, rows)
			}
			if tc.progress != "" && !strings.Contains(rows, tc.progress) {
				t.Errorf("no progress line %q:\n%s", tc.progress, rows)
			}
			con.progress.End("api")
			con.close()
			if (con.buildOut != nil) != tc.verbose {
				t.Errorf("build output streamed = %v, want %v", con.buildOut != nil, tc.verbose)
			}
			if err := term.Err(); err != nil {
				t.Fatal(err)
			}
			if tc.statusRow && strings.Contains(strings.Join(term.Rows(), "\n"), "building") {
				t.Errorf("the status row outlived its command:\n%s", strings.Join(term.Rows(), "\n"))
			}
			if tc.format == "json" {
				for _, l := range term.Rows() {
					if !json.Valid([]byte(l)) {
						t.Errorf("not a JSON line: %q", l)
					}
				}
			}
		})
	}
}

// TestConsoleColor: colour is on only on a terminal without NO_COLOR.
func TestConsoleColor(t *testing.T) {
	for _, tc := range []struct {
		tty     bool
		noColor string
		want    bool
	}{{true, "", true}, {true, "1", false}, {false, "", false}} {
		var out bytes.Buffer
		con, err := newConsole(&out, consoleOptions{env: func(k string) string {
			if k == "NO_COLOR" {
				return tc.noColor
			}
			return ""
		}, terminal: func(io.Writer) (bool, func() int) { return tc.tty, nil }})
		if err != nil {
			t.Fatal(err)
		}
		con.log.Info("result", zap.String("service", "api"), zap.String("result", "restarted"))
		con.close()
		if got := strings.Contains(out.String(), "\x1b["); got != tc.want {
			t.Errorf("tty=%v NO_COLOR=%q: colour %v, want %v: %q", tc.tty, tc.noColor, got, tc.want, out.String())
		}
	}
}
