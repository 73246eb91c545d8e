package statedir

import (
	"errors"
	"os"
	"strconv"
	"testing"
	"time"
)

func TestLockSecondHolderIsTold(t *testing.T) {
	dir := t.TempDir()
	start := time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC)
	l, err := AcquireLock(dir, "shop", func() time.Time { return start })
	if err != nil {
		t.Fatal(err)
	}
	_, err = AcquireLock(dir, "shop", nil)
	var le *LockedError
	if !errors.As(err, &le) {
		t.Fatalf("second lock: %v, want LockedError", err)
	}
	want := "another rebuildd (pid " + strconv.Itoa(os.Getpid()) + ", started 2026-03-01T09:30:00Z) holds the lock for project shop: stop it or use --state-dir"
	if err.Error() != want {
		t.Errorf("message\n got %q\nwant %q", err.Error(), want)
	}
	if err := l.Release(); err != nil {
		t.Fatal(err)
	}
	if err := l.Release(); err != nil {
		t.Errorf("second Release: %v", err)
	}
	l2, err := AcquireLock(dir, "shop", nil)
	if err != nil {
		t.Fatalf("lock after release: %v", err)
	}
	l2.Release()
}
