package watcher

// backend watches single directories (never recursively: the loop walks the
// tree itself so it can prune ignored directories) and pushes what happens
// in them to the loop's queue. Implementations: inotify (fsnotify), polling
// and, in tests, fakeBackend.
type backend interface {
	// name is "inotify" or "polling", as reported in Stats.
	name() string
	// add watches the entries of dir. Errors are classified by classify.
	add(dir string) error
	// remove stops watching dir. Removing a directory that is not watched
	// (the kernel already dropped it) is not an error.
	remove(dir string)
	// close stops the backend's goroutines; after it returns the backend
	// pushes nothing more. Safe to call twice.
	close() error
}

// hooks are seams for tests: conditions root cannot produce on demand
// (EACCES, ENOSPC) and a reader that stalls long enough to overflow the
// kernel queue for real.
type hooks struct {
	// addWatch runs before every backend add; a non-nil error is treated as
	// the backend's own error for dir.
	addWatch func(dir string) error
	// newInotify replaces the inotify backend constructor.
	newInotify func(q *queue, h *hooks) (backend, error)
	// stall, when non-nil, is received from by the inotify reader before
	// it forwards each event, so a test can hold the reader still.
	stall chan struct{}
}
