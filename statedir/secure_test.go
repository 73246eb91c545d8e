package statedir

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// precious is a file outside the state dir that a planted link points at:
// no operation of rebuildd may change it.
func precious(t *testing.T) (path string, check func()) {
	t.Helper()
	path = filepath.Join(t.TempDir(), "precious")
	if err := os.WriteFile(path, []byte("root's data\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	return path, func() {
		t.Helper()
		b, err := os.ReadFile(path)
		fi, _ := os.Stat(path)
		if err != nil || string(b) != "root's data\n" || fi.Mode().Perm() != 0o640 {
			t.Errorf("link target changed: %q %v %v", b, fi.Mode(), err)
		}
	}
}

// TestSymlinkedLockRefused: a lock file planted as a link is refused, and
// its target is untouched (issue 17: root's --once truncated it).
func TestSymlinkedLockRefused(t *testing.T) {
	target, check := precious(t)
	dir := t.TempDir()
	if err := os.Symlink(target, filepath.Join(dir, "lock")); err != nil {
		t.Fatal(err)
	}
	l, err := AcquireLock(dir, "shop", nil)
	if err == nil {
		l.Release()
		t.Fatal("lock through a symbolic link taken")
	}
	if !strings.Contains(err.Error(), "symbolic link") {
		t.Errorf("error %q does not say why", err)
	}
	check()
}

// TestLockHardLinkRefused: a second name for another file is refused too.
func TestLockHardLinkRefused(t *testing.T) {
	target, check := precious(t)
	dir := t.TempDir()
	if err := os.Link(target, filepath.Join(dir, "lock")); err != nil {
		t.Skipf("cannot hard-link across the temp dirs: %v", err)
	}
	if _, err := AcquireLock(dir, "shop", nil); err == nil || !strings.Contains(err.Error(), "hard links") {
		t.Fatalf("lock with two names: %v, want a refusal", err)
	}
	check()
}

// TestWritesDoNotFollowLinks: records, the index and the flavour cache are
// written through WriteAtomic and read through ReadFile; a link planted at
// their name is replaced or refused, never followed.
func TestWritesDoNotFollowLinks(t *testing.T) {
	target, check := precious(t)
	dir, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	rec := filepath.Join(dir, Version, "service-api.json")
	if err := os.Symlink(target, rec); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadFile(rec); err == nil || !strings.Contains(err.Error(), "symbolic link") {
		t.Errorf("ReadFile through a link: %v, want a refusal", err)
	}
	if err := WriteAtomic(rec, func(w io.Writer) error { _, err := io.WriteString(w, "{}"); return err }); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(rec); err != nil || !fi.Mode().IsRegular() {
		t.Errorf("after WriteAtomic %s is %v (%v), want the link replaced by a file", rec, fi.Mode(), err)
	}
	check()

	// The layout directory itself planted as a link.
	other := t.TempDir()
	root := t.TempDir()
	if err := os.Symlink(other, filepath.Join(root, Version)); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(root); err == nil {
		t.Error("Open accepted a layout directory that is a symbolic link")
	}
	if err := WriteAtomic(filepath.Join(root, Version, "index"), func(io.Writer) error { return nil }); err == nil {
		t.Error("WriteAtomic wrote through a linked directory")
	}
	if entries, _ := os.ReadDir(other); len(entries) != 0 {
		t.Errorf("files written through the link: %v", entries)
	}
}

// TestOpenRefusesUnsafeDirs: a state dir others may write or that another
// user owns is refused, with the command that fixes it.
func TestOpenRefusesUnsafeDirs(t *testing.T) {
	euid := os.Geteuid()
	tests := []struct {
		name  string
		setup func(t *testing.T) string // returns the state dir
		euid  int
		want  []string
	}{
		{"world-writable", func(t *testing.T) string { return chmod(t, t.TempDir(), 0o777) }, euid,
			[]string{"everyone", "chmod go-w "}},
		{"group-writable", func(t *testing.T) string { return chmod(t, t.TempDir(), 0o770) }, euid,
			[]string{"writable by its group", "chmod go-w "}},
		{"world-writable even when sticky", func(t *testing.T) string { return chmod(t, t.TempDir(), os.ModeSticky|0o777) }, euid,
			[]string{"everyone"}},
		{"someone else's", func(t *testing.T) string { return t.TempDir() }, euid + 1,
			[]string{"is owned by uid " + strconv.Itoa(euid) + ", not by you (uid " + strconv.Itoa(euid+1) + ")", "chown -hR " + strconv.Itoa(euid+1) + ":"}},
		{"parent writable by everyone", func(t *testing.T) string {
			parent := chmod(t, t.TempDir(), 0o777)
			return filepath.Join(parent, "state")
		}, euid, []string{"everyone", "chmod go-w "}},
		{"a link to a directory others may write", func(t *testing.T) string {
			link := filepath.Join(t.TempDir(), "state")
			if err := os.Symlink(chmod(t, t.TempDir(), 0o777), link); err != nil {
				t.Fatal(err)
			}
			return link
		}, euid, []string{"everyone"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := tc.setup(t)
			_, err := open(dir, tc.euid)
			var ue *UnsafeError
			if !errors.As(err, &ue) {
				t.Fatalf("open(%s): %v, want an UnsafeError", dir, err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("message %q lacks %q", err, w)
				}
			}
			if !strings.Contains(err.Error(), "--state-dir") {
				t.Errorf("message %q does not offer another --state-dir", err)
			}
		})
	}
	// A shared parent protected by its sticky bit (/tmp) is fine.
	parent := chmod(t, t.TempDir(), os.ModeSticky|0o777)
	if _, err := Open(filepath.Join(parent, "state")); err != nil {
		t.Errorf("state dir in a sticky shared directory: %v", err)
	}
}

// TestForeignOwnedStateDirRefused is the real case, for a test run as
// root: a state dir (and a lock in it) owned by another user, as a user
// would leave for root's rebuildd to follow.
func TestForeignOwnedStateDirRefused(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("chown needs root; TestOpenRefusesUnsafeDirs covers the check through the euid seam")
	}
	target, check := precious(t)
	dir := filepath.Join(t.TempDir(), "state")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, filepath.Join(dir, "lock")); err != nil {
		t.Fatal(err)
	}
	if err := os.Lchown(filepath.Join(dir, "lock"), 65534, 65534); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(dir, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	_, err := AcquireLock(dir, "shop", nil)
	var ue *UnsafeError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "owned by uid 65534") || !strings.Contains(err.Error(), "chown -hR 0:") {
		t.Errorf("lock in a foreign-owned state dir: %v", err)
	}
	check()
}

func chmod(t *testing.T, dir string, mode os.FileMode) string {
	t.Helper()
	if err := os.Chmod(dir, mode); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestShellQuote(t *testing.T) {
	for in, want := range map[string]string{"/var/cache/x": "/var/cache/x", "/a b": "'/a b'", "/it's": `'/it'\''s'`, "": "''"} {
		if got := shellQuote(in); got != want {
			t.Errorf("shellQuote(%q) = %s, want %s", in, got, want)
		}
	}
}

// TestKey: made once, kept, shared by concurrent first users, replaced
// when damaged.
func TestKey(t *testing.T) {
	dir, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	keys := make([][]byte, 8)
	var wg sync.WaitGroup
	for i := range keys {
		wg.Go(func() {
			k, err := Key(dir)
			if err != nil {
				t.Error(err)
			}
			keys[i] = k
		})
	}
	wg.Wait()
	for _, k := range keys {
		if len(k) != keySize || !bytes.Equal(k, keys[0]) {
			t.Fatalf("keys differ: %x", keys)
		}
	}
	again, _ := Key(dir)
	if !bytes.Equal(again, keys[0]) {
		t.Error("the key changed on a later call")
	}
	path := filepath.Join(dir, Version, "key")
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v (%v), want 0600", fi.Mode(), err)
	}
	os.WriteFile(path, []byte("short"), 0o600)
	fresh, err := Key(dir)
	if err != nil || len(fresh) != keySize || bytes.Equal(fresh, keys[0]) {
		t.Errorf("damaged key: got %x, %v; want a new one", fresh, err)
	}
	if entries, _ := filepath.Glob(filepath.Join(dir, Version, "key.new*")); len(entries) != 0 {
		t.Errorf("staged key files left behind: %v", entries)
	}
}
