package main

import (
	"fmt"
	"io"
	"os"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"golang.org/x/sys/unix"

	"github.com/rebuildd/rebuildd/docker"
	"github.com/rebuildd/rebuildd/internal/humanlog"
)

// console is how rebuildd talks on stderr: the logger, the progress of
// compose commands, and where build output goes.
type console struct {
	log      *zap.Logger
	progress docker.Progress
	// buildOut streams build output (with --verbose); nil keeps only the
	// last lines, which a failure prints once.
	buildOut io.Writer
	close    func() // stops the status redraws and erases the status lines
}

// consoleOptions are what shapes the console besides the flags.
type consoleOptions struct {
	format  string // "", "console" or "json"
	debug   bool   // REBUILDD_DEBUG=1: every "none" decision, raw events
	verbose bool   // --verbose: stream build output
	env     func(string) string
	now     func() time.Time
	// terminal reports whether the writer is a terminal, and its width
	// (default: isTerminal; tests pretend).
	terminal func(io.Writer) (bool, func() int)
}

// newConsole builds the console on w: for people the human format
// (internal/humanlog), with colour and live status lines when w is a
// terminal; JSON for machines (sidecars, harnesses that wait for
// "msg":"ready"), with one "msg":"progress" line per build step.
func newConsole(w io.Writer, o consoleOptions) (*console, error) {
	if o.env == nil {
		o.env = os.Getenv
	}
	if o.now == nil {
		o.now = time.Now
	}
	if o.terminal == nil {
		o.terminal = isTerminal
	}
	level := zapcore.InfoLevel
	if o.debug {
		level = zapcore.DebugLevel
	}
	c := &console{close: func() {}}
	switch o.format {
	case "", "console":
		tty, width := o.terminal(w)
		dir, _ := os.Getwd()
		ho := humanlog.Options{Verbose: o.verbose, Dir: dir,
			Color: tty && o.env("NO_COLOR") == "" && o.env("TERM") != "dumb"}
		if tty && o.env("TERM") != "dumb" {
			screen := humanlog.NewScreen(w, ho, o.now, width)
			c.log = zap.New(zapcore.NewCore(humanlog.NewEncoder(ho), screen, level))
			c.progress, w = screen, screen
			c.close = redraw(screen)
		} else {
			c.log = zap.New(zapcore.NewCore(humanlog.NewEncoder(ho), zapcore.Lock(zapcore.AddSync(w)), level))
		}
	case "json":
		cfg := zap.NewProductionEncoderConfig()
		cfg.TimeKey = "ts"
		cfg.EncodeTime = zapcore.RFC3339NanoTimeEncoder
		cfg.CallerKey = ""
		cfg.StacktraceKey = ""
		c.log = zap.New(zapcore.NewCore(zapcore.NewJSONEncoder(cfg), zapcore.Lock(zapcore.AddSync(w)), level))
	default:
		return nil, &exitError{code: exitUsage, err: fmt.Errorf("--log-format %q: use console or json", o.format)}
	}
	if c.progress == nil {
		c.progress = humanlog.LogProgress(c.log, o.now)
	}
	if o.verbose {
		c.buildOut = humanlog.EscapeLines(w)
	}
	return c, nil
}

// redraw moves the status lines' clocks every humanlog.Tick until the
// returned stop, which also erases them.
func redraw(s *humanlog.Screen) (stop func()) {
	t := time.NewTicker(humanlog.Tick)
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		for {
			select {
			case <-t.C:
				s.Tick()
			case <-done:
				return
			}
		}
	}()
	return func() {
		t.Stop()
		close(done)
		<-finished
		s.Close()
	}
}

// isTerminal reports whether w is a terminal, and a function for its width.
func isTerminal(w io.Writer) (bool, func() int) {
	f, ok := w.(*os.File)
	if !ok {
		return false, nil
	}
	fd := int(f.Fd())
	if _, err := unix.IoctlGetTermios(fd, unix.TCGETS); err != nil {
		return false, nil
	}
	return true, func() int {
		ws, err := unix.IoctlGetWinsize(fd, unix.TIOCGWINSZ)
		if err != nil {
			return 0
		}
		return int(ws.Col)
	}
}
