package status

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"
)

// timeouts bound what one connection may hold. The endpoint is for
// healthchecks and people with curl, whose requests arrive in
// milliseconds, so each bound is generous and still frees what a client
// that connects and idles would keep (3,000 idle keep-alive connections
// held 57 MB).
type timeouts struct {
	// header: a client that connects and sends nothing, or a header a
	// byte at a time.
	header time.Duration
	// idle: a keep-alive connection between requests. A healthcheck
	// comes every 30 s by default and opens a new connection anyway.
	idle time.Duration
	// write: the answer, which waits for at most one engine probe.
	write time.Duration
}

var defaultTimeouts = timeouts{header: 5 * time.Second, idle: 10 * time.Second, write: 10 * time.Second}

// maxHeaderBytes: a healthcheck's request header is a few hundred bytes;
// net/http's default of 1 MB per connection is only room for abuse.
const maxHeaderBytes = 16 << 10

// Handler serves /healthz and /status from b.
func Handler(b *Board) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if !b.Snapshot().Ready {
			// 503 until the watches are set and the first reconcile is
			// over, so a compose healthcheck (and depends_on:
			// condition: service_healthy) waits for a rebuildd that
			// will really see the next change.
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintln(w, "starting")
			return
		}
		if engine := b.Engine(r.Context()); engine != "" && engine != EngineOK {
			// A rebuildd whose engine is gone can build and recreate
			// nothing: the stack is not being kept in step.
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintln(w, "engine unreachable:", engine)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /status", func(w http.ResponseWriter, r *http.Request) {
		snap := b.Snapshot()
		snap.Engine = b.Engine(r.Context())
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.Encode(snap) // a write error is the client gone; nothing to do
	})
	return mux
}

// Server is the running endpoint.
type Server struct {
	ln   net.Listener
	srv  *http.Server
	done chan struct{} // closed when Serve has returned

	once sync.Once
	err  error
}

// Listen binds addr (from ParseListen) at once, so a port in use is an
// error here and not a log line later, and serves b in a goroutine until
// Close.
func Listen(addr string, b *Board) (*Server, error) {
	return listen(addr, b, defaultTimeouts)
}

func listen(addr string, b *Board, t timeouts) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen %q: %w (pick another --listen port)", addr, err)
	}
	s := &Server{ln: ln, done: make(chan struct{}),
		srv: &http.Server{Handler: Handler(b), ReadHeaderTimeout: t.header, IdleTimeout: t.idle,
			WriteTimeout: t.write, MaxHeaderBytes: maxHeaderBytes}}
	go func() {
		defer close(s.done)
		s.srv.Serve(ln) // returns http.ErrServerClosed after Close
	}()
	return s, nil
}

// Addr is the bound address ("127.0.0.1:7878"; the real port when 0 was
// asked for).
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Close stops serving, closes open connections and waits for the serving
// goroutine to end. It is safe to call more than once.
func (s *Server) Close() error {
	s.once.Do(func() {
		err := s.srv.Close()
		<-s.done
		if err != nil && !errors.Is(err, net.ErrClosed) {
			s.err = fmt.Errorf("close status endpoint %q: %w", s.Addr(), err)
		}
	})
	return s.err
}
