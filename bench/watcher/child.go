package main

import (
	"bufio"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/rebuildd/rebuildd/ignore"
	"github.com/rebuildd/rebuildd/watcher"
)

// runChild is the measured process: a watcher on root with node_modules
// ignored and no quiet window. It prints "ready" once the initial walk is
// done (with the in-process walk time in ns), then "P path" / "R root" for every batch, until stdin closes or a
// signal arrives.
func runChild(root string) error {
	m, err := ignore.New([]string{"node_modules"})
	if err != nil {
		return err
	}
	start := time.Now()
	w, err := watcher.New(watcher.Options{
		Roots:    []watcher.Root{{Path: root, SkipDir: m.SkipDir}},
		Debounce: -1,
		Poll:     "off",
	})
	if err != nil {
		return err
	}
	defer w.Close()
	out := bufio.NewWriter(os.Stdout)
	<-w.Ready()
	// The walk's own time, without process start-up and package init
	// (which the exec-to-ready time includes, as inotifywait's does).
	fmt.Fprintln(out, "ready", time.Since(start).Nanoseconds())
	out.Flush()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, os.Interrupt)
	for {
		select {
		case <-sig:
			return nil
		case b := <-w.Batches():
			for _, p := range b.Paths {
				fmt.Fprintln(out, "P", p)
			}
			for _, r := range b.Rescan {
				fmt.Fprintln(out, "R", r)
			}
			out.Flush()
		}
	}
}
