package status

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// clock is an injected time source that moves only when told.
type clock struct{ t time.Time }

func (c *clock) now() time.Time       { return c.t }
func (c *clock) step(d time.Duration) { c.t = c.t.Add(d) }
func newClock() *clock                { return &clock{t: time.Date(2026, 11, 26, 21, 0, 0, 0, time.UTC)} }
func (c *clock) at(d time.Duration) time.Time {
	return time.Date(2026, 11, 26, 21, 0, 0, 0, time.UTC).Add(d)
}

func TestBoard(t *testing.T) {
	c := newClock()
	b := NewBoard(c.now)
	b.Watching("api", "web")
	c.step(time.Second)
	b.Set("api", Building, "")
	c.step(time.Second)
	b.Set("api", Building, "") // same state: last change stays at 1s
	c.step(time.Second)
	b.Set("web", Failed, "web failed: exit 1")
	c.step(time.Second)
	b.Set("web", Building, "") // a retry keeps the last result
	b.Watching("web")          // already known: not reset

	s := b.Snapshot()
	want := map[string]Service{
		"api": {State: Building, LastChange: c.at(1 * time.Second)},
		"web": {State: Building, LastResult: "web failed: exit 1", LastChange: c.at(4 * time.Second)},
	}
	for name, w := range want {
		if got := s.Services[name]; got != w {
			t.Errorf("%s = %+v, want %+v", name, got, w)
		}
	}
	if s.Ready || !s.Since.Equal(c.at(0)) {
		t.Errorf("ready = %v, since = %v; want false, %v", s.Ready, s.Since, c.at(0))
	}
	b.Ready()
	if !b.Snapshot().Ready {
		t.Error("Ready() did not mark the board ready")
	}
	if got := s.Names(); strings.Join(got, ",") != "api,web" {
		t.Errorf("Names() = %q", got)
	}
}

func TestParseListen(t *testing.T) {
	for _, tc := range []struct{ in, want, err string }{
		{"7878", "127.0.0.1:7878", ""},
		{":7878", "127.0.0.1:7878", ""},
		{"localhost:7878", "127.0.0.1:7878", ""},
		{"127.0.0.1:7878", "127.0.0.1:7878", ""},
		{"[::1]:7878", "[::1]:7878", ""},
		{"0.0.0.0:7878", "0.0.0.0:7878", ""},   // explicit: allowed
		{"10.1.2.3:7878", "10.1.2.3:7878", ""}, // explicit: allowed
		{"0", "127.0.0.1:0", ""},
		{"myhost:7878", "", "use an IP address"},
		{"abc", "", "give a port"},
		{"70000", "", "give a port"},
		{"127.0.0.1", "", "give a port"},
	} {
		got, err := ParseListen(tc.in)
		switch {
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("ParseListen(%q) error = %v, want one containing %q", tc.in, err, tc.err)
		case tc.err == "" && (err != nil || got != tc.want):
			t.Errorf("ParseListen(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	for addr, want := range map[string]bool{"127.0.0.1:1": true, "[::1]:1": true, "0.0.0.0:1": false, "10.0.0.1:1": false, "x": false} {
		if IsLoopback(addr) != want {
			t.Errorf("IsLoopback(%q) = %v, want %v", addr, !want, want)
		}
	}
}

func get(t *testing.T, h http.Handler, method, path string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
	return rec.Code, rec.Body.String()
}

func TestHandler(t *testing.T) {
	c := newClock()
	b := NewBoard(c.now)
	h := Handler(b)
	if code, body := get(t, h, "GET", "/healthz"); code != http.StatusServiceUnavailable || body != "starting\n" {
		t.Errorf("healthz before ready = %d %q, want 503 starting", code, body)
	}
	b.Set("api", Failed, "api failed: exit 1")
	b.Ready()
	if code, body := get(t, h, "GET", "/healthz"); code != http.StatusOK || body != "ok\n" {
		t.Errorf("healthz when ready = %d %q, want 200 ok", code, body)
	}
	code, body := get(t, h, "GET", "/status")
	var doc struct {
		Ready    bool
		Services map[string]map[string]string
	}
	if err := json.Unmarshal([]byte(body), &doc); code != http.StatusOK || err != nil {
		t.Fatalf("status = %d %q (%v)", code, body, err)
	}
	api := doc.Services["api"]
	if !doc.Ready || api["state"] != "failed" || api["last_result"] != "api failed: exit 1" || api["last_change"] != "2026-11-26T21:00:00Z" {
		t.Errorf("status document = %s", body)
	}
	if doc := getEngine(t, h); doc != "" {
		t.Errorf("engine without a probe = %q, want none (--dry-run has no engine)", doc)
	}
	if code, _ := get(t, h, "POST", "/status"); code != http.StatusMethodNotAllowed {
		t.Errorf("POST /status = %d, want 405", code)
	}
	if code, _ := get(t, h, "GET", "/"); code != http.StatusNotFound {
		t.Errorf("GET / = %d, want 404", code)
	}
}

// TestHealthzEngine: /healthz is not 200 while the engine does not answer,
// and /status says why; it is asked on every request.
func TestHealthzEngine(t *testing.T) {
	b := NewBoard(nil)
	b.Ready()
	h := Handler(b)
	var down error = errors.New("cannot reach the Docker engine at unix:///var/run/docker.sock")
	probes := 0
	b.Probe(func(ctx context.Context) error {
		probes++
		if _, ok := ctx.Deadline(); !ok {
			t.Error("probe without a deadline")
		}
		return down
	})
	if code, body := get(t, h, "GET", "/healthz"); code != http.StatusServiceUnavailable || !strings.Contains(body, "engine unreachable: cannot reach the Docker engine") {
		t.Errorf("healthz with the engine down = %d %q, want 503 naming the engine", code, body)
	}
	if got := getEngine(t, h); got != down.Error() {
		t.Errorf("status engine = %q, want %q", got, down)
	}
	down = nil
	if code, body := get(t, h, "GET", "/healthz"); code != http.StatusOK || body != "ok\n" {
		t.Errorf("healthz with the engine back = %d %q, want 200 ok", code, body)
	}
	if got := getEngine(t, h); got != EngineOK {
		t.Errorf("status engine = %q, want %q", got, EngineOK)
	}
	if probes != 4 {
		t.Errorf("%d probes for 4 requests", probes)
	}
}

func getEngine(t *testing.T, h http.Handler) string {
	t.Helper()
	_, body := get(t, h, "GET", "/status")
	var doc struct{ Engine *string }
	if err := json.Unmarshal([]byte(body), &doc); err != nil {
		t.Fatalf("status %q: %v", body, err)
	}
	if doc.Engine == nil {
		return ""
	}
	return *doc.Engine
}

// TestServerClosesIdleConnections: a keep-alive connection left idle, and
// one that never sends its request, are closed by the server. The read
// deadline only keeps a broken server from hanging the test.
func TestServerClosesIdleConnections(t *testing.T) {
	b := NewBoard(nil)
	s, err := listen("127.0.0.1:0", b, timeouts{header: 50 * time.Millisecond, idle: 50 * time.Millisecond, write: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, tc := range []struct{ name, request string }{
		{"idle keep-alive", "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"},
		{"no request", ""},
		{"half a header", "GET /healthz HTTP/1.1\r\nHost:"},
	} {
		conn, err := net.Dial("tcp", s.Addr())
		if err != nil {
			t.Fatal(err)
		}
		conn.SetReadDeadline(time.Now().Add(time.Minute))
		if _, err := io.WriteString(conn, tc.request); err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(conn) // returns at EOF: the server closed the connection
		conn.Close()
		if err != nil {
			t.Errorf("%s: %v after %q, want the server to close the connection", tc.name, err, got)
		}
		if tc.name == "idle keep-alive" && !strings.Contains(string(got), "503 Service Unavailable") {
			t.Errorf("%s: answer %q", tc.name, got)
		}
	}
}

func TestServer(t *testing.T) {
	b := NewBoard(nil)
	b.Ready()
	s, err := Listen("127.0.0.1:0", b)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get("http://" + s.Addr() + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if srv := s.srv; srv.IdleTimeout != defaultTimeouts.idle || srv.ReadHeaderTimeout != defaultTimeouts.header || srv.MaxHeaderBytes != maxHeaderBytes {
		t.Errorf("Listen's server has idle %v, header %v, %d header bytes; want the defaults", srv.IdleTimeout, srv.ReadHeaderTimeout, srv.MaxHeaderBytes)
	}
	if resp.StatusCode != http.StatusOK || string(body) != "ok\n" {
		t.Errorf("GET /healthz = %s %q", resp.Status, body)
	}
	if _, err := Listen(s.Addr(), b); err == nil || !strings.Contains(err.Error(), "pick another --listen port") {
		t.Errorf("second Listen on %s: %v, want an address-in-use error saying what to do", s.Addr(), err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := net.Dial("tcp", s.Addr()); err == nil {
		t.Error("still accepting after Close")
	}
}

// TestObserve logs lines shaped like watch mode's (rebuild/daemon*.go) in
// both formats' field sets and checks the board follows.
func TestObserve(t *testing.T) {
	b := NewBoard(nil)
	log := zap.New(zapcore.NewTee(zapcore.NewNopCore(), Observe(b))).Named("daemon")
	svc := func(s string) zap.Field { return zap.String("service", s) }

	log.Info("reconciled", svc("api"), zap.String("status", "rebuilt"), zap.String("reason", "source changed"))
	log.Info("reconciled", svc("worker"), zap.String("status", "failed"), zap.String("reason", "exit 1"))
	log.Info("watching", svc("web"), zap.String("context", "/p/web"))
	log.Debug("web  README.md -> nothing to do", svc("web"), zap.String("action", "none"), zap.String("impact", "ignored"))
	check(t, b, "web", Idle, "")
	check(t, b, "api", Idle, "rebuilt: source changed")
	check(t, b, "worker", Failed, "failed: exit 1")
	if b.Snapshot().Ready {
		t.Fatal("ready before the ready line")
	}
	log.Info("ready", zap.Int("watches", 3))
	if !b.Snapshot().Ready {
		t.Fatal("not ready after the ready line")
	}

	log.Info("api  src/a.js (source) -> rebuild", svc("api"), zap.String("action", "rebuild"), zap.String("impact", "source"))
	check(t, b, "api", Building, "rebuilt: source changed")
	log.With(svc("api")).Info("result", zap.String("action", "rebuild"), zap.String("result", "api rebuilt"), zap.Duration("took", time.Second))
	check(t, b, "api", Idle, "api rebuilt")

	log.Info("decision", svc("worker"), zap.String("action", "rebuild"), zap.String("impact", "deps"))
	log.Error("result", svc("worker"), zap.String("result", ""), zap.Duration("took", time.Second), zap.Error(errors.New("worker: exit 2")))
	check(t, b, "worker", Failed, "failed: worker: exit 2") // a failed request may say nothing but its error
	log.Error("result", svc("worker"), zap.String("result", "worker failed"), zap.Duration("took", time.Second), zap.Error(errors.New("worker: exit 2")))
	check(t, b, "worker", Failed, "worker failed: worker: exit 2")
	log.Info("result", svc("worker"), zap.String("result", "stopped"), zap.Duration("took", time.Second), zap.String("status", "cancelled"))
	check(t, b, "worker", Idle, "stopped (cancelled)")
}

func check(t *testing.T, b *Board, service string, state State, result string) {
	t.Helper()
	got := b.Snapshot().Services[service]
	if got.State != state || got.LastResult != result {
		t.Errorf("%s = %s %q, want %s %q", service, got.State, got.LastResult, state, result)
	}
}
