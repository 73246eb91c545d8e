package statedir

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// The state directory is trusted the way ssh trusts ~/.ssh: rebuildd reads
// records from it that decide whether to build, and writes files in it,
// often as root in a sidecar. A directory someone else owns or may write
// could hold a symbolic link named "lock" that turns rebuildd's write into
// a write to any file of the user's (issue 17). So the directory must be
// owned by the user running rebuildd (root: by root), writable by no one
// else, and so must every directory above it that could swap it for
// another (a shared directory such as /tmp is safe by its sticky bit).
// Files in it are then opened without following symbolic links
// (files_linux.go).

// UnsafeError is a state directory rebuildd refuses, with the command
// that makes it safe.
type UnsafeError struct {
	Path string // the directory at fault: the state dir or one above it
	Why  string // "is owned by uid 1000, not by you (uid 0)"
	Fix  string // the shell command to run
}

func (e *UnsafeError) Error() string {
	return fmt.Sprintf("state dir: %q %s, so another user could plant files rebuildd trusts: run `%s`, or choose another --state-dir", e.Path, e.Why, e.Fix)
}

// Open creates dir and its layout subdirectory when missing (0700) and
// checks that it is safe: see UnsafeError. It returns the absolute path.
func Open(dir string) (string, error) { return open(dir, os.Geteuid()) }

// open is Open for the user euid (a seam: tests cannot chown without root).
func open(dir string, euid int) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("state dir %q: %w", dir, err)
	}
	if err := os.MkdirAll(abs, 0o700); err != nil {
		return "", fmt.Errorf("create state dir %q: %w (choose another --state-dir)", abs, err)
	}
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return "", fmt.Errorf("state dir %q: %w", abs, err)
	}
	// Both chains: the path as given (a link in it can be re-pointed by
	// whoever may write the directory holding it) and where it leads.
	for _, p := range []string{abs, real} {
		if err := checkChain(p, euid); err != nil {
			return "", err
		}
	}
	sub := filepath.Join(real, Version)
	if err := os.Mkdir(sub, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
		return "", fmt.Errorf("create state dir %q: %w (choose another --state-dir)", sub, err)
	}
	if err := checkDir(sub, euid, true, false); err != nil {
		return "", err
	}
	return abs, nil
}

// checkChain checks dir itself strictly and each directory above it for
// what would let another user replace what lies below it.
func checkChain(dir string, euid int) error {
	if err := checkDir(dir, euid, true, true); err != nil {
		return err
	}
	for p := filepath.Dir(dir); ; p = filepath.Dir(p) {
		if err := checkDir(p, euid, false, true); err != nil {
			return err
		}
		if p == filepath.Dir(p) {
			return nil
		}
	}
}

// checkDir checks one directory. The state dir itself (own) must be the
// user's; a directory above it may also be root's, and may be writable by
// others when its sticky bit keeps them from renaming what is not theirs.
// follow: stat through a symbolic link (a component of the path as given);
// else the entry must be a real directory.
func checkDir(path string, euid int, own, follow bool) error {
	var st syscall.Stat_t
	stat := syscall.Lstat
	if follow {
		stat = syscall.Stat
	}
	if err := stat(path, &st); err != nil {
		return fmt.Errorf("state dir %q: %w", path, err)
	}
	if st.Mode&syscall.S_IFMT != syscall.S_IFDIR {
		return &UnsafeError{Path: path, Why: "is not a directory (a symbolic link?)", Fix: "rm " + shellQuote(path)}
	}
	uid := int(st.Uid)
	switch {
	case own && uid != euid:
		return &UnsafeError{Path: path, Why: fmt.Sprintf("is owned by uid %d, not by you (uid %d)", uid, euid),
			Fix: sudo(euid) + fmt.Sprintf("chown -hR %d:%d %s", euid, os.Getegid(), shellQuote(path))}
	case !own && uid != euid && uid != 0:
		return &UnsafeError{Path: path, Why: fmt.Sprintf("is owned by uid %d, who could replace the state dir inside it", uid),
			Fix: sudo(euid) + fmt.Sprintf("chown %d %s", euid, shellQuote(path))}
	}
	writable := st.Mode & 0o022
	sticky := st.Mode&syscall.S_ISVTX != 0
	if writable != 0 && (own || !sticky) {
		who := map[uint32]string{0o020: "its group", 0o002: "everyone", 0o022: "its group and everyone"}[writable]
		return &UnsafeError{Path: path, Why: "is writable by " + who, Fix: "chmod go-w " + shellQuote(path)}
	}
	return nil
}

func sudo(euid int) string {
	if euid == 0 {
		return ""
	}
	return "sudo "
}

// shellQuote quotes s for a POSIX shell, so a printed command can be
// pasted as is.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-+:@") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
