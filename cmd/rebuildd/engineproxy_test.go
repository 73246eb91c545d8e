package main

import (
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/rebuildd/rebuildd/internal/e2e"
)

// engineProxy stands between rebuildd (and the Compose CLI it runs) and the
// real engine socket, so a test can make "the Docker daemon" go away and
// come back without restarting the machine's engine.
type engineProxy struct {
	t      *testing.T
	path   string // the proxy's socket
	target string // the engine's socket
	mu     sync.Mutex
	ln     net.Listener
	conns  map[net.Conn]bool
}

func newEngineProxy(t *testing.T) *engineProxy {
	target := "/var/run/docker.sock"
	if h := os.Getenv("DOCKER_HOST"); strings.HasPrefix(h, "unix://") {
		target = strings.TrimPrefix(h, "unix://")
	} else if h != "" {
		t.Skipf("engine proxy needs a unix socket engine, DOCKER_HOST=%s", h)
	}
	p := &engineProxy{t: t, path: filepath.Join(t.TempDir(), "docker.sock"), target: target, conns: map[net.Conn]bool{}}
	p.start()
	t.Cleanup(p.stop)
	return p
}

// host is the DOCKER_HOST value that goes through the proxy.
func (p *engineProxy) host() string { return "unix://" + p.path }

func (p *engineProxy) start() {
	os.Remove(p.path)
	ln, err := net.Listen("unix", p.path)
	if err != nil {
		p.t.Fatal(err)
	}
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go p.accept(ln)
}

func (p *engineProxy) accept(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		up, err := net.Dial("unix", p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		p.conns[c], p.conns[up] = true, true
		p.mu.Unlock()
		go p.pipe(c, up)
		go p.pipe(up, c)
	}
}

func (p *engineProxy) pipe(dst, src net.Conn) {
	_, _ = io.Copy(dst, src)
	dst.Close()
	src.Close()
	p.mu.Lock()
	delete(p.conns, dst)
	delete(p.conns, src)
	p.mu.Unlock()
}

// stop is the engine going away: no more connections, open ones cut.
func (p *engineProxy) stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
	}
	os.Remove(p.path)
}

// testWatchEngineAway: the engine disappears while a change is pending;
// rebuildd says so once, waits, and reconciles when it is back.
func testWatchEngineAway(t *testing.T, bin string, c e2e.Compose, base string) {
	proxy := newEngineProxy(t)
	port := e2e.FreePort(t)
	r := startWatchRig(t, bin, c, webFiles(base, port), "", nil, "DOCKER_HOST="+proxy.host())
	url := e2e.URL(port, "/index.html")
	e2e.WaitServing(t, url, "v1", serveTimeout)
	proxy.stop()
	r.p.Write("site/index.html", "v2")
	r.wait("the Docker engine went away; waiting for it and reconciling when it is back", nil)
	proxy.start()
	r.wait("the Docker engine is back; reconciling", nil)
	e2e.WaitServing(t, url, "v2", serveTimeout)
}
