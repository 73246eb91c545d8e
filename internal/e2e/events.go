package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Event is one entry of the engine's event stream (`docker events`).
type Event struct {
	Type       string            // container, image, network, volume
	Action     string            // create, start, die, destroy, restart, tag, untag, delete, ...
	ID         string            // container or image ID (the Actor ID)
	Attributes map[string]string // Actor attributes: "name", "image", labels
	Time       time.Time
}

// Name is the "name" attribute: a container's name, an image's tag
// ("proj-web:latest") or a network's name.
func (e Event) Name() string { return e.Attributes["name"] }

// Service is the Compose service of a container event ("" for others).
func (e Event) Service() string { return e.Attributes["com.docker.compose.service"] }

// Events is a time-ordered list of engine events.
type Events []Event

// Filter returns the events keep accepts.
func (es Events) Filter(keep func(Event) bool) Events {
	var out Events
	for _, e := range es {
		if keep(e) {
			out = append(out, e)
		}
	}
	return out
}

// Count is the number of events of type typ with action action; with
// service set, only container events of that Compose service count.
func (es Events) Count(typ, action, service string) int {
	return len(es.Filter(func(e Event) bool {
		return e.Type == typ && e.Action == action && (service == "" || e.Service() == service)
	}))
}

// Creates counts container creations of service ("" for all services): a
// recreate shows as one create per container.
func (es Events) Creates(service string) int { return es.Count("container", "create", service) }

// Restarts counts `compose restart`s of service's containers.
func (es Events) Restarts(service string) int { return es.Count("container", "restart", service) }

// Tags counts image "tag" events: the classic builder (Compose v1 here)
// emits one per image per build command, cache hits included. BuildKit
// (Compose v2 here) emits none on Engine 20.10; Project.Builds covers both.
func (es Events) Tags() int { return es.Count("image", "tag", "") }

// String is one line per event, for failure messages.
func (es Events) String() string {
	var b strings.Builder
	for _, e := range es {
		fmt.Fprintf(&b, "%s %s %s %s %s\n", e.Time.Format("15:04:05.000"), e.Type, e.Action, e.Name(), shortID(e.ID))
	}
	return b.String()
}

func shortID(id string) string {
	id = strings.TrimPrefix(id, "sha256:")
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

// Events returns the engine's events about this project from since until
// now: containers, networks and volumes with its Compose label or name,
// images whose tag starts with its name, and the volumes its containers
// mounted. Classic-builder intermediate containers belong to no project and
// are left out. They come from the project's live event log (stream.go), so
// none are lost however busy the engine is.
func (p *Project) Events(since time.Time) Events {
	p.t.Helper()
	p.syncs++
	if err := p.events.sync(fmt.Sprintf("%s-sync-%d", p.Name, p.syncs)); err != nil {
		p.t.Fatalf("e2e: engine events: %v", err)
	}
	return p.events.since(since)
}

func (p *Project) owns(e Event) bool {
	if e.Attributes["com.docker.compose.project"] == p.Name {
		return true
	}
	return strings.HasPrefix(e.Name(), p.Name)
}

// EngineEvents returns every engine event between since and until, read
// with `docker events` (so DOCKER_HOST and the docker context apply, as for
// Compose itself). The engine keeps only its last 256 events for such a
// query: on a busy engine, use a Project's Events, which records live.
func EngineEvents(since, until time.Time) (Events, error) {
	out, err := TryDocker("events", "--since", unixNano(since), "--until", unixNano(until), "--format", "{{json .}}")
	if err != nil {
		return nil, fmt.Errorf("read engine events: %w", err)
	}
	return parseEvents(out)
}

// unixNano formats t as the "seconds.nanoseconds" timestamp the engine's
// since/until filters take, so no event is lost to second rounding.
func unixNano(t time.Time) string {
	return fmt.Sprintf("%d.%09d", t.Unix(), t.Nanosecond())
}

// wireEvent is the JSON `docker events --format '{{json .}}'` prints.
type wireEvent struct {
	Type   string
	Action string
	Actor  struct {
		ID         string
		Attributes map[string]string
	}
	TimeNano int64 `json:"timeNano"`
}

func parseEvents(out string) (Events, error) {
	var es Events
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(make([]byte, 0, 64*1024), 4*1024*1024)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		var w wireEvent
		if err := json.Unmarshal([]byte(line), &w); err != nil {
			return nil, fmt.Errorf("parse engine event line %d %s: %w", n, strconv.Quote(line), err)
		}
		es = append(es, Event{Type: w.Type, Action: w.Action, ID: w.Actor.ID,
			Attributes: w.Actor.Attributes, Time: time.Unix(0, w.TimeNano)})
	}
	return es, sc.Err()
}
