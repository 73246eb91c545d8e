package main

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/rebuildd/rebuildd/internal/status"
)

func TestStatusCommand(t *testing.T) {
	b := status.NewBoard(func() time.Time { return time.Date(2026, 11, 26, 21, 0, 0, 0, time.UTC) })
	srv, err := status.Listen("127.0.0.1:0", b)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	b.Set("api", status.Building, "")
	code, out, _ := runArgs(t, "status", "--listen", srv.Addr())
	if code != exitFailed || !strings.HasPrefix(out, "rebuildd starting") {
		t.Errorf("before ready: exit %d, %q; want %d and \"rebuildd starting\"", code, out, exitFailed)
	}
	b.Set("api", status.Idle, "api rebuilt")
	b.Ready()
	code, out, _ = runArgs(t, "status", "--listen", srv.Addr())
	if code != exitOK || !strings.HasPrefix(out, "rebuildd ready") || !strings.Contains(out, "api rebuilt") {
		t.Errorf("when ready: exit %d, %q; want 0, ready, and api's last result", code, out)
	}
	srv.Close()
	code, _, errOut := runArgs(t, "status", "--listen", srv.Addr())
	if code != exitFailed || !strings.Contains(errOut, "is rebuildd running") {
		t.Errorf("nobody listening: exit %d, stderr %q; want %d and advice", code, errOut, exitFailed)
	}
	if code, _, _ := runArgs(t, "status"); code != exitUsage {
		t.Errorf("without --listen: exit %d, want %d", code, exitUsage)
	}
}

// TestServeStatus starts the endpoint the way watch mode does and feeds it
// through the returned logger, as the daemon's log lines would.
func TestServeStatus(t *testing.T) {
	core, logs := observer.New(zap.InfoLevel)
	ctx, cancel := context.WithCancel(context.Background())
	log, board, err := serveStatus(ctx, "0", zap.New(core))
	if err != nil {
		t.Fatal(err)
	}
	entries := logs.FilterMessage("status endpoint").All()
	if len(entries) != 1 {
		t.Fatalf("want one \"status endpoint\" log line, got %v", logs.All())
	}
	addr := entries[0].ContextMap()["addr"].(string)
	if !strings.HasPrefix(addr, "127.0.0.1:") {
		t.Errorf("a port alone listens on %s, want loopback", addr)
	}
	healthz := func() int {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err != nil {
			return 0
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	if c := healthz(); c != http.StatusServiceUnavailable {
		t.Errorf("healthz before ready = %d, want 503", c)
	}
	log.Info("ready", zap.Int("watches", 1))
	if c := healthz(); c != http.StatusOK {
		t.Errorf("healthz after the ready line = %d, want 200", c)
	}
	if logs.FilterMessage("ready").Len() != 1 {
		t.Error("the ready line did not reach the real logger")
	}
	// The engine goes away: watch mode's probe (the engine's ping) fails.
	board.Probe(func(context.Context) error { return errors.New("cannot reach the Docker engine") })
	if c := healthz(); c != http.StatusServiceUnavailable {
		t.Errorf("healthz with the engine away = %d, want 503", c)
	}
	code, out, _ := runArgs(t, "status", "--listen", addr)
	if code != exitFailed || !strings.Contains(out, "engine unreachable: cannot reach the Docker engine") {
		t.Errorf("rebuildd status with the engine away: exit %d, %q; want 1 naming the engine", code, out)
	}
	board.Probe(func(context.Context) error { return nil })
	if c := healthz(); c != http.StatusOK {
		t.Errorf("healthz with the engine back = %d, want 200", c)
	}
	cancel() // closes the endpoint
	if _, _, err := serveStatus(context.Background(), "myhost:1", zap.NewNop()); !isUsage(err) {
		t.Errorf("host name: %v, want a usage error", err)
	}
	if log2, board2, err := serveStatus(context.Background(), "", log); err != nil || log2 != log || board2 != nil {
		t.Errorf("no --listen: %v, logger replaced = %v; want nothing opened", err, log2 != log)
	}
}

func isUsage(err error) bool {
	var ee *exitError
	return errors.As(err, &ee) && ee.code == exitUsage
}
