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

// readHeaderTimeout bounds a client that connects and sends nothing: the
// endpoint is for healthchecks and people with curl, whose requests arrive
// in milliseconds; 5 s is generous and still frees a stuck connection.
const readHeaderTimeout = 5 * time.Second

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
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /status", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.Encode(b.Snapshot()) // a write error is the client gone; nothing to do
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
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen %q: %w (pick another --listen port)", addr, err)
	}
	s := &Server{ln: ln, done: make(chan struct{}),
		srv: &http.Server{Handler: Handler(b), ReadHeaderTimeout: readHeaderTimeout}}
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
