// Package watcher turns file system activity under the build contexts into
// debounced batches of changed paths for the rest of the pipeline.
//
// It is fed plain values by cmd/rebuildd: roots (absolute directories; a
// root with Files is a single-file root such as compose.yaml or .env,
// watched through its directory because editors replace files by rename)
// and, per root, a SkipDir function (the ignore package's SkipDir, the
// union over the services sharing the context). It never imports config,
// dockerfile or rebuild.
//
//	w, err := watcher.New(watcher.Options{Roots: roots})
//	<-w.Ready()                   // initial walk done
//	for b := range w.Batches() { // closed by Close
//		// b.Paths changed; b.Rescan roots lost events: re-derive from disk
//	}
//	w.SetRoots(newRoots)          // compose file or Dockerfile edited
//	w.Close()                     // idempotent, waits for every goroutine
//
// # How it watches
//
// inotify (fsnotify) is not recursive: the loop walks each root and adds one
// watch per directory that SkipDir does not prune, so an ignored
// node_modules costs nothing. A directory created or moved in is watched and
// then listed, and every entry already in it is reported (the
// create-then-write race of `mkdir -p a/b && echo > a/b/f`). A deleted or
// renamed directory loses its watches, including those of its
// subdirectories (inotify would keep following a moved tree). A deleted
// root is reported and its nearest existing ancestor is watched until it
// comes back. Symlinks are reported as entries and never followed. Nested
// and duplicate roots share one watch per directory.
//
// The polling backend (Poll "on", or "auto" on 9p, virtiofs, fakeowner,
// grpcfuse, NFS, CIFS/SMB, FUSE and drvfs, from /proc/self/mountinfo)
// compares size, mtime, inode and mode of every entry of the same
// directories each PollInterval and sends the same events.
//
// When inotify's queue overflows, the affected roots appear in
// Batch.Rescan (logged once) and are re-walked. When the watch or instance
// limit is hit, one message says which sysctl to raise, and the roots that
// could not be watched are polled (and rescanned) instead.
//
// A batch is flushed after Debounce without changes, or MaxWait after its
// first change even while changes continue. While a git index.lock exists
// in a root's repository the batch is held, past MaxWait too (up to 30 s),
// so a checkout is one batch. Editor temp files (ignore.IsTempFile) are never reported,
// so they never form a batch, but the file an editor renames into place is.
//
// # Goroutines and channels
//
//   - The loop goroutine (started by New, ended by Close) owns all mutable
//     state: roots, the directory table, the pending batch and its timers.
//     SetRoots and Stats run as functions sent to it. It closes Ready after
//     the initial walk and closes Batches when it exits. It never blocks on
//     the consumer: a batch not yet received absorbs later flushes.
//   - The inotify backend's reader goroutine moves fsnotify's Events and
//     Errors into an unbounded queue and never blocks on the loop, so the
//     kernel queue is drained even while the loop walks a new tree. It ends
//     when fsnotify closes its channels (backend close).
//   - The polling backend's goroutine owns the snapshots and pushes each
//     scan's events to the same queue in one piece; add and remove reach it
//     through a mutex-guarded inbox. It ends on backend close.
//   - Close closes done, waits for the loop, which closes both backends
//     (waiting for their goroutines), then Batches.
//
// REBUILDD_DEBUG_EVENTS=1 (or Options.DebugEvents) logs every raw event at
// debug level.
package watcher
