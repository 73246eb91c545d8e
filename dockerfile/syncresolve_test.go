package dockerfile

import (
	"errors"
	"strings"
	"sync"
	"testing"
)

func TestTargetResolve(t *testing.T) {
	boom := errors.New("engine gone")
	tests := []struct {
		name   string
		t      Target
		c      FakeContainer
		want   string
		err    string
		nAsked int
	}{
		{"exact", Target{Path: "/app/a.js"}, FakeContainer{}, "/app/a.js", "", 0},
		{"dest is a directory", Target{Path: "/srv/b", Dir: "/srv/b", Base: "a"}, FakeContainer{Dirs: map[string]bool{"/srv/b": true}}, "/srv/b/a", "", 1},
		{"dest is not a directory", Target{Path: "/srv/b", Dir: "/srv/b", Base: "a"}, FakeContainer{}, "/srv/b", "", 1},
		{"only a directory will do", Target{Dir: "/srv/out", Base: "a"}, FakeContainer{}, "", "not syncable", 1},
		{"relative to the image WORKDIR", Target{Path: "src/a.js", Rel: true}, FakeContainer{WorkingDir: "/var/www/html"}, "/var/www/html/src/a.js", "", 0},
		{"relative, no WORKDIR", Target{Path: "a.js", Rel: true}, FakeContainer{}, "/a.js", "", 0},
		{"relative and asked", Target{Path: "b", Dir: "b", Base: "a", Rel: true}, FakeContainer{WorkingDir: "/w", Dirs: map[string]bool{"/w/b": true}}, "/w/b/a", "", 1},
		{"engine error", Target{Path: "/srv/b", Dir: "/srv/b", Base: "a"}, FakeContainer{Err: boom}, "", "engine gone", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.t.Resolve(&tt.c)
			if got != tt.want || (err == nil) != (tt.err == "") || err != nil && !strings.Contains(err.Error(), tt.err) {
				t.Errorf("Resolve = %q, %v; want %q, error containing %q", got, err, tt.want, tt.err)
			}
			if len(tt.c.Asked) != tt.nAsked {
				t.Errorf("asked the container %d times (%q), want %d", len(tt.c.Asked), tt.c.Asked, tt.nAsked)
			}
			if tt.err == "not syncable" && !errors.Is(err, ErrNotSyncable) {
				t.Errorf("error %v is not ErrNotSyncable", err)
			}
		})
	}
}

func TestOwnerResolve(t *testing.T) {
	passwd := []byte("root:x:0:0:root:/root:/bin/sh\n  node:x:1000:1001::/home/node:/bin/sh  \nnode:x:5:5::/:/bin/false\nbad:x:zz:7\n")
	group := []byte("root:x:0:\nstaff:x:50:node\n")
	tests := []struct {
		chown    string
		uid, gid int
		known    bool
	}{
		{"", 0, 0, true},
		{"1000", 1000, 1000, true},
		{"1000:2000", 1000, 2000, true},
		{"root", 0, 0, true},
		{"root:staff", 0, 50, false},
		{"node", 1000, 1001, false}, // the first line wins
		{"node:staff", 1000, 50, false},
		{"node:7", 1000, 7, false}, // a numeric group is kept
		{"nosuch", 0, 0, false},    // BuildKit: an unknown user is 0
		{"12:nosuch", 12, 12, false},
		{"bad", 0, 7, false}, // a bad number reads as 0
		{":9", 0, 9, true},   // no user name: 0
		{"9:", 9, 0, true},   // an empty group is id 0 (Docker 20.10 does so)
	}
	for _, tt := range tests {
		o := parseChown(tt.chown)
		uid, gid := o.Resolve(passwd, group)
		if uid != tt.uid || gid != tt.gid || o.Known() != tt.known {
			t.Errorf("--chown=%s: %d:%d known=%v, want %d:%d known=%v", tt.chown, uid, gid, o.Known(), tt.uid, tt.gid, tt.known)
		}
		if o.Known() && (o.UID != uid || o.GID != gid) {
			t.Errorf("--chown=%s: known owner %d:%d but Resolve gives %d:%d", tt.chown, o.UID, o.GID, uid, gid)
		}
	}
	if uid, gid := parseChown("node:staff").Resolve(nil, nil); uid != 0 || gid != 0 {
		t.Errorf("no user database: %d:%d, want 0:0", uid, gid)
	}
}

// TestSyncConcurrent: Sync shares the plan and the model's caches between
// callers (run with -race).
func TestSyncConcurrent(t *testing.T) {
	m := syncModel(t, base+"\nWORKDIR /app\nCOPY src/ ./src/\nCOPY *.txt ./\n", []string{"src/a.js", "src/b/c.js", "a.txt", "b.txt"}, nil, "")
	paths := []string{"src/a.js", "src/b/c.js", "a.txt", "b.txt", "README"}
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				p := paths[(g+i)%len(paths)]
				s := m.Sync(Change{Path: m.Context() + "/" + p})
				if s.OK != (p != "README") {
					t.Errorf("%s: OK = %v (%s)", p, s.OK, s.Reason)
					return
				}
			}
		}()
	}
	wg.Wait()
}

func BenchmarkSync(b *testing.B) {
	m := syncModel(b, base+"\nWORKDIR /app\nCOPY package.json ./\nRUN npm ci\nCOPY . .\nCOPY --from=rebuildd-test/busybox /bin/busybox /usr/bin/\n",
		[]string{"package.json", "src/a/b/c.js"}, nil, "")
	p := m.Context() + "/src/a/b/c.js"
	b.ReportAllocs()
	for b.Loop() {
		if s := m.Sync(Change{Path: p}); !s.OK {
			b.Fatal(s.Reason)
		}
	}
}

// BenchmarkSyncOverrides is the costlier shape: a later directory merges
// into the same place, so every Sync looks the path up in the context.
func BenchmarkSyncOverrides(b *testing.B) {
	m := syncModel(b, base+"\nWORKDIR /app\nCOPY src/ ./\nCOPY overrides/ ./\nCOPY *.json ./\n",
		[]string{"src/a/b/c.js", "overrides/x.js", "a.json", "b.json"}, nil, "")
	p := m.Context() + "/src/a/b/c.js"
	b.ReportAllocs()
	for b.Loop() {
		if s := m.Sync(Change{Path: p}); !s.OK {
			b.Fatal(s.Reason)
		}
	}
}
