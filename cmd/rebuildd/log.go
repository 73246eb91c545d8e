package main

import (
	"fmt"
	"io"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// newLogger builds the process logger: a console encoder for people, JSON for
// machines (sidecars, harnesses that wait for "msg":"ready"). Debug lines
// (every "none" decision, raw events) show with REBUILDD_DEBUG=1.
func newLogger(w io.Writer, format string, debug bool) (*zap.Logger, error) {
	level := zapcore.InfoLevel
	if debug {
		level = zapcore.DebugLevel
	}
	var enc zapcore.Encoder
	switch format {
	case "", "console":
		cfg := zap.NewDevelopmentEncoderConfig()
		cfg.EncodeTime = zapcore.TimeEncoderOfLayout("15:04:05.000")
		cfg.EncodeCaller = nil
		cfg.CallerKey = ""
		cfg.StacktraceKey = ""
		enc = zapcore.NewConsoleEncoder(cfg)
	case "json":
		cfg := zap.NewProductionEncoderConfig()
		cfg.TimeKey = "ts"
		cfg.EncodeTime = zapcore.RFC3339NanoTimeEncoder
		cfg.CallerKey = ""
		cfg.StacktraceKey = ""
		enc = zapcore.NewJSONEncoder(cfg)
	default:
		return nil, &exitError{code: exitUsage, err: fmt.Errorf("--log-format %q: use console or json", format)}
	}
	core := zapcore.NewCore(enc, zapcore.AddSync(w), level)
	return zap.New(core), nil
}
