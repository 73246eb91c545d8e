package watcher

import (
	"fmt"
	"os"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestMountTable(t *testing.T) {
	info := `22 1 0:21 / / rw,relatime - overlay overlay rw,lowerdir=/l
30 22 0:25 / /proc rw,nosuid - proc proc rw
41 22 0:40 / /host/src rw,relatime - virtiofs myfs rw
42 22 0:41 / /mnt/nfs rw - nfs4 server:/export rw,vers=4.2
43 22 0:42 / /mnt/my\040share rw shared:7 - cifs //srv/share rw
44 22 0:43 / /mnt/sshfs rw - fuse.sshfs user@host: rw
45 42 0:44 / /mnt/nfs/local rw - ext4 /dev/sdb rw
garbage line
`
	mt := parseMountinfo(strings.NewReader(info))
	tests := []struct {
		path, fs string
		poll     bool
	}{
		{"/work/main", "overlay", false},
		{"/host/src/app", "virtiofs", true},
		{"/host/srcfoo", "overlay", false},
		{"/mnt/nfs/x", "nfs4", true},
		{"/mnt/nfs/local/x", "ext4", false},
		{"/mnt/my share/app", "cifs", true},
		{"/mnt/sshfs", "fuse.sshfs", true},
	}
	for _, tt := range tests {
		fs := mt.fsType(tt.path)
		if fs != tt.fs || needsPolling(fs) != tt.poll {
			t.Errorf("%s: fs %q poll %v, want %q %v", tt.path, fs, needsPolling(fs), tt.fs, tt.poll)
		}
	}
	for _, fs := range []string{"9p", "fakeowner", "grpcfuse", "drvfs", "smb3", "nfs"} {
		if !needsPolling(fs) {
			t.Errorf("%s: want polling", fs)
		}
	}
}

func TestClassify(t *testing.T) {
	tests := []struct {
		err  error
		want errClass
	}{
		{nil, errNone},
		{fmt.Errorf("watch %q: %w", "/x", syscall.ENOENT), errVanished},
		{os.ErrNotExist, errVanished},
		{syscall.ENOTDIR, errVanished},
		{fmt.Errorf("watch: %w", syscall.EACCES), errPermission},
		{fmt.Errorf("watch: %w", syscall.ENOSPC), errWatchLimit},
		{fmt.Errorf("start inotify: %w", syscall.EMFILE), errInstLimit},
		{syscall.EIO, errOther},
	}
	for _, tt := range tests {
		if got := classify(tt.err); got != tt.want {
			t.Errorf("classify(%v) = %d, want %d", tt.err, got, tt.want)
		}
	}
	for _, c := range []errClass{errWatchLimit, errInstLimit} {
		msg, fix := limitFix(c)
		if msg == "" || !strings.Contains(fix, "sudo sysctl fs.inotify.max_user_") || !strings.Contains(fix, "/etc/sysctl.d/") {
			t.Errorf("limit %d: message %q fix %q lacks the sysctl and the sysctl.d line", c, msg, fix)
		}
	}
}

func TestPollDiff(t *testing.T) {
	t0 := time.Unix(1000, 0)
	base := statInfo{size: 1, mtime: t0, ino: 7, mode: 0o644}
	mod := func(f func(*statInfo)) statInfo { s := base; f(&s); return s }
	tests := []struct {
		name string
		cur  statInfo
		want []op
	}{
		{"unchanged", base, nil},
		{"size", mod(func(s *statInfo) { s.size = 2 }), []op{opWrite}},
		{"mtime", mod(func(s *statInfo) { s.mtime = t0.Add(time.Nanosecond) }), []op{opWrite}},
		{"inode (renamed over)", mod(func(s *statInfo) { s.ino = 8 }), []op{opRemove, opCreate}},
		{"type", mod(func(s *statInfo) { s.mode = os.ModeDir | 0o755 }), []op{opRemove, opCreate}},
		{"mode", mod(func(s *statInfo) { s.mode = 0o600 }), []op{opChmod}},
	}
	for _, tt := range tests {
		evs := diff(nil, "/d", map[string]statInfo{"f": base}, map[string]statInfo{"f": tt.cur}, nil)
		var got []op
		for _, e := range evs {
			got = append(got, e.op)
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: ops %v, want %v", tt.name, got, tt.want)
		}
	}
	evs := diff(nil, "/d", map[string]statInfo{"gone": base}, map[string]statInfo{"new": base}, nil)
	if len(evs) != 2 || evs[0].path != "/d/new" || evs[0].op != opCreate || evs[1].path != "/d/gone" || evs[1].op != opRemove {
		t.Errorf("create/remove: %+v", evs)
	}
}

func TestMergeRoots(t *testing.T) {
	skipA := func(rel string) bool { return rel == "a" || rel == "b" }
	skipB := func(rel string) bool { return rel == "b" }
	rs, err := mergeRoots([]Root{
		{Path: "/p/", SkipDir: skipA}, {Path: "/p", SkipDir: skipB},
		{Path: "/p", Files: []string{"compose.yaml"}}, {Path: "/p", Files: []string{".env"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 2 {
		t.Fatalf("%d roots, want one recursive and one file root", len(rs))
	}
	rec, files := rs[0], rs[1]
	if !rec.recursive() {
		rec, files = files, rec
	}
	if rec.skip("/p/a") || !rec.skip("/p/b") {
		t.Errorf("a directory is skipped only when every duplicate skips it")
	}
	if got := files.fileNames(); !reflect.DeepEqual(got, []string{".env", "compose.yaml"}) {
		t.Errorf("files %v", got)
	}
	if _, err := mergeRoots([]Root{{Path: "rel"}}); err == nil || !strings.Contains(err.Error(), `"rel"`) {
		t.Errorf("relative root: err %v, want one naming it", err)
	}
	if _, err := New(Options{Poll: "sometimes"}); err == nil {
		t.Errorf("bad poll mode accepted")
	}
}

func TestMergeSorted(t *testing.T) {
	got := mergeSorted([]string{"a", "c", "e"}, []string{"b", "c", "f"})
	if want := []string{"a", "b", "c", "e", "f"}; !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestLockFiles(t *testing.T) {
	got := lockFiles([]*rootState{{path: "/r/app"}, {path: "/r/web"}})
	want := []string{"/r/app/.git/index.lock", "/r/.git/index.lock", "/.git/index.lock", "/r/web/.git/index.lock"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}
