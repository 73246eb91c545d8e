package watcher

import (
	"errors"
	"io/fs"
	"syscall"
)

// errClass is the one place errors are sorted (docs/design.md): vanished ->
// ignore, permission -> skip the directory, limits -> message with the fix,
// anything else -> report.
type errClass int

const (
	errNone       errClass = iota
	errVanished            // the path went away between the event and our look
	errPermission          // unreadable directory: skip it, keep the rest
	errWatchLimit          // ENOSPC from inotify_add_watch: fs.inotify.max_user_watches
	errInstLimit           // EMFILE from inotify_init: fs.inotify.max_user_instances
	errOther
)

func classify(err error) errClass {
	switch {
	case err == nil:
		return errNone
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, syscall.ENOTDIR):
		return errVanished
	case errors.Is(err, fs.ErrPermission), errors.Is(err, syscall.EACCES), errors.Is(err, syscall.EPERM):
		return errPermission
	case errors.Is(err, syscall.ENOSPC):
		return errWatchLimit
	case errors.Is(err, syscall.EMFILE), errors.Is(err, syscall.ENFILE):
		return errInstLimit
	}
	return errOther
}

// limitFix is the user-facing advice for a limit, naming the sysctl to run
// now and the line that keeps it after a reboot.
func limitFix(c errClass) (msg, fix string) {
	key, val := "fs.inotify.max_user_watches", "524288"
	msg = "inotify watch limit reached; polling the directories that could not be watched"
	if c == errInstLimit {
		key, val = "fs.inotify.max_user_instances", "512"
		msg = "inotify instance limit reached; polling instead of inotify"
	}
	fix = "raise the limit with `sudo sysctl " + key + "=" + val + "` and keep it across reboots with the line `" +
		key + "=" + val + "` in /etc/sysctl.d/99-rebuildd.conf, then restart rebuildd"
	return msg, fix
}
