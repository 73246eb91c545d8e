package statedir

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Lock is the one-rebuildd-per-project lock: an flock on <state dir>/lock.
// The kernel drops it when the process dies, so a crash never leaves a
// stale lock behind; the pid and start time written into the file are only
// for the message the next rebuildd prints.
type Lock struct {
	mu sync.Mutex
	f  *os.File
}

// LockedError says who holds the lock.
type LockedError struct {
	Project string
	PID     int
	Started time.Time // zero when the holder wrote no time
	Dir     string
}

func (e *LockedError) Error() string {
	who := "another rebuildd"
	if e.PID > 0 {
		who = fmt.Sprintf("another rebuildd (pid %d, started %s)", e.PID, e.Started.Format(time.RFC3339))
	}
	return fmt.Sprintf("%s holds the lock for project %s: stop it or use --state-dir", who, e.Project)
}

// AcquireLock takes the lock of the project whose state lives in dir
// without waiting. now stamps the holder's start time; nil means time.Now.
func AcquireLock(dir, project string, now func() time.Time) (*Lock, error) {
	if now == nil {
		now = time.Now
	}
	dir, err := Open(dir)
	if err != nil {
		return nil, err
	}
	path := filepath.Join(dir, "lock")
	// O_RDWR without O_TRUNC: truncating before holding the lock would wipe
	// the holder's pid from under it. O_NOFOLLOW: a link named lock is
	// refused, never written through (files_linux.go).
	f, err := openFile(path, syscall.O_RDWR|syscall.O_CREAT, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock %q: %w", path, err)
	}
	if err := plainFile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %q: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		defer f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, holder(f, project, dir)
		}
		return nil, fmt.Errorf("lock %q: %w", path, err)
	}
	stamp := fmt.Sprintf("%d %s\n", os.Getpid(), now().UTC().Format(time.RFC3339))
	if err := f.Truncate(0); err == nil {
		f.WriteAt([]byte(stamp), 0)
	}
	return &Lock{f: f}, nil
}

// holder reads the pid and start time the holder wrote.
func holder(f *os.File, project, dir string) error {
	e := &LockedError{Project: project, Dir: dir}
	buf := make([]byte, 128)
	n, _ := f.ReadAt(buf, 0)
	fields := strings.Fields(string(buf[:n]))
	if len(fields) == 2 {
		e.PID, _ = strconv.Atoi(fields[0])
		e.Started, _ = time.Parse(time.RFC3339, fields[1])
	}
	return e
}

// Release drops the lock. Safe to call twice.
func (l *Lock) Release() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return nil
	}
	f := l.f
	l.f = nil
	// The file stays: removing it would let a third process lock a fresh
	// inode while a second one still waits on the old.
	return f.Close()
}

// plainFile refuses a lock file that is not a regular file of the user's
// with one name: a hard link to another file would have it truncated.
func plainFile(f *os.File) error {
	var st syscall.Stat_t
	if err := syscall.Fstat(int(f.Fd()), &st); err != nil {
		return err
	}
	switch {
	case st.Mode&syscall.S_IFMT != syscall.S_IFREG:
		return errors.New("not a regular file: remove it")
	case int(st.Uid) != os.Geteuid():
		return fmt.Errorf("owned by uid %d, not by you: remove it", st.Uid)
	case st.Nlink != 1:
		return errors.New("has other hard links: remove it")
	}
	return nil
}
