package watcher

import (
	"errors"
	"fmt"
	"sync"

	"github.com/fsnotify/fsnotify"
)

// fsnotifyBuffer is the capacity of fsnotify's Events channel. The kernel
// queue (fs.inotify.max_queued_events, 16384 by default) is the real buffer;
// a small channel only smooths the hand-off to our reader goroutine, which
// never blocks anyway.
const fsnotifyBuffer = 1024

// inotifyBackend adds one inotify watch per directory through fsnotify.
// Goroutines: fsnotify's own reader, plus ours (read), which moves Events and
// Errors into the loop's queue. read exits when fsnotify closes its channels.
type inotifyBackend struct {
	fw    *fsnotify.Watcher
	q     *queue
	stall chan struct{}
	wg    sync.WaitGroup
	once  sync.Once
	err   error
}

func newInotifyBackend(q *queue, h *hooks) (backend, error) {
	fw, err := fsnotify.NewBufferedWatcher(fsnotifyBuffer)
	if err != nil {
		return nil, fmt.Errorf("start inotify: %w", err)
	}
	b := &inotifyBackend{fw: fw, q: q, stall: h.stall}
	b.wg.Add(1)
	go b.read()
	return b, nil
}

func (b *inotifyBackend) name() string { return "inotify" }

func (b *inotifyBackend) add(dir string) error {
	if err := b.fw.Add(dir); err != nil {
		return fmt.Errorf("watch %q: %w", dir, err)
	}
	return nil
}

func (b *inotifyBackend) remove(dir string) {
	// ErrNonExistentWatch is the normal case for a deleted directory: the
	// kernel dropped the watch (IN_IGNORED) before we got here.
	_ = b.fw.Remove(dir)
}

func (b *inotifyBackend) close() error {
	b.once.Do(func() {
		b.err = b.fw.Close()
		b.wg.Wait()
	})
	return b.err
}

// read drains both fsnotify channels until they are closed. It must never
// block on anything but fsnotify (and the test stall): a stalled reader lets
// the kernel queue overflow.
func (b *inotifyBackend) read() {
	defer b.wg.Done()
	events, errs := b.fw.Events, b.fw.Errors
	for events != nil || errs != nil {
		if b.stall != nil {
			<-b.stall
		}
		select {
		case ev, ok := <-events:
			if !ok {
				events = nil
				continue
			}
			b.q.push(event{kind: kindPath, path: ev.Name, op: fromFsnotify(ev.Op), from: b})
		case err, ok := <-errs:
			if !ok {
				errs = nil
				continue
			}
			if errors.Is(err, fsnotify.ErrEventOverflow) {
				b.q.push(event{kind: kindOverflow, from: b})
				continue
			}
			b.q.push(event{kind: kindError, err: err, from: b})
		}
	}
}

func fromFsnotify(o fsnotify.Op) op {
	var r op
	pairs := []struct {
		f fsnotify.Op
		o op
	}{
		{fsnotify.Create, opCreate}, {fsnotify.Write, opWrite}, {fsnotify.Remove, opRemove},
		{fsnotify.Rename, opRename}, {fsnotify.Chmod, opChmod},
	}
	for _, p := range pairs {
		if o.Has(p.f) {
			r |= p.o
		}
	}
	return r
}
