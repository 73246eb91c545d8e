// Package status is rebuildd's optional status endpoint (--listen): GET
// /healthz for a compose healthcheck and GET /status with every service's
// state as JSON. The daemon reports to a Board; the Server only reads it.
package status

import (
	"sort"
	"sync"
	"time"
)

// State is what rebuildd is doing for a service.
type State string

const (
	Idle     State = "idle"     // nothing running; the last result, if any, succeeded
	Building State = "building" // a build, recreate or restart is running
	Failed   State = "failed"   // the last build or recreate failed; the next change retries
)

// Reporter is what watch mode tells the status endpoint. Calls come from
// the daemon's goroutines; *Board is the one implementation, Discard the
// one for runs without --listen.
type Reporter interface {
	// Set records that service entered state; result says how the last
	// action ended ("rebuilt api, recreated api", "failed: exit 1") and
	// is kept when empty (a new build starting keeps the last result).
	Set(service string, state State, result string)
	// Ready marks the start-up as done: watches set, first reconcile over.
	Ready()
}

// Discard is a Reporter that keeps nothing.
var Discard Reporter = discard{}

type discard struct{}

func (discard) Set(string, State, string) {}
func (discard) Ready()                    {}

// Service is one service's entry in /status.
type Service struct {
	State      State     `json:"state"`
	LastResult string    `json:"last_result,omitempty"`
	LastChange time.Time `json:"last_change"`
}

// Snapshot is the /status document.
type Snapshot struct {
	Ready    bool               `json:"ready"`
	Engine   string             `json:"engine,omitempty"` // EngineOK, why the engine does not answer, or "" (no engine: --dry-run)
	Since    time.Time          `json:"since"`            // when the board was made: the daemon's start
	Services map[string]Service `json:"services"`
}

// Board holds the state the endpoint shows. The daemon writes it from its
// worker goroutines and HTTP handlers read it concurrently, so a mutex,
// rather than an owning goroutine, guards it: each operation is a map
// access, and there is nothing to sequence.
type Board struct {
	now    func() time.Time
	engine engineProbe // its own lock: a probe takes a round trip

	mu       sync.Mutex
	ready    bool
	since    time.Time
	services map[string]Service
}

// NewBoard returns an empty board; now is injected for tests (time.Now in
// production).
func NewBoard(now func() time.Time) *Board {
	if now == nil {
		now = time.Now
	}
	return &Board{now: now, since: now(), services: map[string]Service{}}
}

// Set implements Reporter. LastChange moves only when the state changes,
// so it says how long a service has been building or failed.
func (b *Board) Set(service string, state State, result string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	s, ok := b.services[service]
	if !ok || s.State != state {
		s.State, s.LastChange = state, b.now()
	}
	if result != "" {
		s.LastResult = result
	}
	b.services[service] = s
}

// Ready implements Reporter.
func (b *Board) Ready() {
	b.mu.Lock()
	b.ready = true
	b.mu.Unlock()
}

// Watching registers services as idle when they are not known yet, so
// /status lists every watched service from the start, not only those that
// have had a change.
func (b *Board) Watching(services ...string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, s := range services {
		if _, ok := b.services[s]; !ok {
			b.services[s] = Service{State: Idle, LastChange: b.now()}
		}
	}
}

// Snapshot returns a copy of the board.
func (b *Board) Snapshot() Snapshot {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := Snapshot{Ready: b.ready, Since: b.since, Services: make(map[string]Service, len(b.services))}
	for k, v := range b.services {
		s.Services[k] = v
	}
	return s
}

// Names returns the services on the board, sorted.
func (s Snapshot) Names() []string {
	names := make([]string, 0, len(s.Services))
	for n := range s.Services {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
