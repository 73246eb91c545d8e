package docker

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// What a sync writes reaches the container with the owner and mode given,
// not the host file's; a file that vanished since it was planned is left
// out.
func TestWriteTarKeepsOwnersAndModes(t *testing.T) {
	dir := t.TempDir()
	host := filepath.Join(dir, "server.js")
	os.WriteFile(host, []byte("hello"), 0o600)
	entries := []TarEntry{
		{Path: "/app/src", Mode: fs.ModeDir | 0o755, UID: 1000, GID: 1000},
		{Path: "/app/src/server.js", Mode: 0o644, UID: 1000, GID: 1000, Host: host},
		{Path: "/app/src/link", Mode: fs.ModeSymlink | 0o777, Link: "server.js"},
		{Path: "/app/src/gone.js", Mode: 0o644, Host: filepath.Join(dir, "gone.js")},
		{Path: "/app/bin/run", Mode: 0o755 | fs.ModeSetuid, Host: host},
	}
	var buf bytes.Buffer
	if err := WriteTar(&buf, entries); err != nil {
		t.Fatal(err)
	}
	e := NewFakeEngine()
	if err := e.Put(context.Background(), "c1", &buf); err != nil {
		t.Fatal(err)
	}
	want := map[string]FakeFile{
		"/app/src":           {Mode: fs.ModeDir | 0o755, UID: 1000, GID: 1000},
		"/app/src/server.js": {Mode: 0o644, UID: 1000, GID: 1000, Content: "hello"},
		"/app/src/link":      {Mode: fs.ModeSymlink | 0o777, Link: "server.js"},
		"/app/bin/run":       {Mode: 0o755 | fs.ModeSetuid, Content: "hello"},
	}
	for p, w := range want {
		if got, ok := e.File("c1", p); !ok || got != w {
			t.Errorf("%s = %+v (%v), want %+v", p, got, ok, w)
		}
	}
	if _, ok := e.File("c1", "/app/src/gone.js"); ok {
		t.Error("a vanished file was written")
	}
}

func TestLiveContainerUnder(t *testing.T) {
	c := LiveContainer{Mounts: []string{"/app/node_modules", "/data"}}
	for p, want := range map[string]bool{"/app/node_modules": true, "/app/node_modules/x/y.js": true,
		"/app/node_modules2/a": false, "/app/src/a.js": false, "/data/db": true} {
		if _, got := c.Under(p); got != want {
			t.Errorf("Under(%s) = %v, want %v", p, got, want)
		}
	}
}

func TestFakeRemoveWithoutRm(t *testing.T) {
	e := NewFakeEngine()
	e.SetFile("c1", "/app/a.js", FakeFile{Mode: 0o644})
	e.NoRm["c1"] = true
	if err := e.Remove(context.Background(), "c1", []string{"/app/a.js"}); !errors.Is(err, ErrNoRm) {
		t.Errorf("err = %v, want ErrNoRm", err)
	}
	e.NoRm["c1"] = false
	if err := e.Remove(context.Background(), "c1", []string{"/app"}); err != nil {
		t.Fatal(err)
	}
	if ok, _, _ := e.Stat(context.Background(), "c1", "/app/a.js"); ok {
		t.Error("not removed")
	}
}
