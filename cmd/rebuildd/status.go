package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/spf13/cobra"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/rebuildd/rebuildd/internal/escape"
	"github.com/rebuildd/rebuildd/internal/status"
)

// serveStatus starts the --listen endpoint when asked for and returns the
// logger watch mode must use from then on: the status board follows its
// structured lines (status.Observe). The endpoint closes when ctx ends.
// Without --listen it returns log unchanged and opens nothing (docs/design.md:
// no network listener unless asked for).
//
// The board is returned too (nil without --listen): once the engine is
// connected, watch mode gives it the engine's ping (Board.Probe), so
// /healthz is not 200 while the engine is away.
func serveStatus(ctx context.Context, listen string, log *zap.Logger) (*zap.Logger, *status.Board, error) {
	if listen == "" {
		return log, nil, nil
	}
	addr, err := status.ParseListen(listen)
	if err != nil {
		return nil, nil, &exitError{code: exitUsage, err: err}
	}
	board := status.NewBoard(time.Now)
	srv, err := status.Listen(addr, board)
	if err != nil {
		return nil, nil, &exitError{code: exitUsage, err: err}
	}
	context.AfterFunc(ctx, func() { srv.Close() })
	log = log.WithOptions(zap.WrapCore(func(c zapcore.Core) zapcore.Core {
		return zapcore.NewTee(c, status.Observe(board))
	}))
	fields := []zap.Field{zap.String("addr", srv.Addr()), zap.String("health", "http://"+srv.Addr()+"/healthz")}
	if !status.IsLoopback(srv.Addr()) {
		log.Warn("status endpoint reachable beyond this machine, as --listen asked", fields...)
	} else {
		log.Info("status endpoint", fields...)
	}
	return log, board, nil
}

// statusTimeout bounds `rebuildd status`: the endpoint answers from memory
// in microseconds; 5 s is far inside a compose healthcheck's 30 s default.
const statusTimeout = 5 * time.Second

// newStatusCmd is `rebuildd status --listen ADDR`: a healthcheck that needs
// no curl in the image. It prints every service's state and exits 0 when
// the daemon is ready, 1 when it is starting, does not answer, or cannot
// reach the Docker engine.
func newStatusCmd() *cobra.Command {
	var listen string
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Ask a running rebuildd (started with --listen) for its state; exit 0 when ready",
		Example: `  rebuildd status --listen 127.0.0.1:7878
  healthcheck: {test: ["CMD", "rebuildd", "status", "--listen", "127.0.0.1:7878"]}`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if listen == "" {
				return &exitError{code: exitUsage, err: fmt.Errorf("status: give the address the daemon listens on: --listen 127.0.0.1:PORT")}
			}
			addr, err := status.ParseListen(listen)
			if err != nil {
				return &exitError{code: exitUsage, err: err}
			}
			snap, err := fetchStatus(cmd.Context(), "http://"+addr+"/status")
			if err != nil {
				return &exitError{code: exitFailed, err: err}
			}
			printStatus(cmd.OutOrStdout(), snap)
			if !snap.Ready || (snap.Engine != "" && snap.Engine != status.EngineOK) {
				return &exitError{code: exitFailed}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&listen, "listen", "", "the address the running rebuildd serves its status on: "+
		"what it was started with (--listen); a port alone means 127.0.0.1")
	return cmd
}

func fetchStatus(ctx context.Context, url string) (status.Snapshot, error) {
	var snap status.Snapshot
	ctx, cancel := context.WithTimeout(ctx, statusTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return snap, fmt.Errorf("status %q: %w", url, err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return snap, fmt.Errorf("status %q: %w (is rebuildd running with this --listen?)", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return snap, fmt.Errorf("status %q: %s", url, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(&snap); err != nil {
		return snap, fmt.Errorf("status %q: read answer: %w", url, err)
	}
	return snap, nil
}

// printStatus prints "ready" or "starting", then one line per service.
func printStatus(w io.Writer, s status.Snapshot) {
	state := "starting"
	if s.Ready {
		state = "ready"
	}
	fmt.Fprintf(w, "rebuildd %s, up since %s\n", state, s.Since.Local().Format(time.DateTime))
	if s.Engine != "" && s.Engine != status.EngineOK {
		fmt.Fprintf(w, "  engine unreachable: %s\n", escape.Line(s.Engine))
	}
	for _, name := range s.Names() {
		svc := s.Services[name]
		fmt.Fprintf(w, "  %-20s %-9s since %s", name, svc.State, svc.LastChange.Local().Format(time.TimeOnly))
		if svc.LastResult != "" {
			fmt.Fprintf(w, "  %s", escape.Line(svc.LastResult)) // results name files
		}
		fmt.Fprintln(w)
	}
}
