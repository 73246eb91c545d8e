package status

import (
	"fmt"
	"net/http/httptest"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// BenchmarkObserve is what --listen adds to every log line of watch mode:
// the tee's field decoding and the board update.
func BenchmarkObserve(b *testing.B) {
	for _, tc := range []struct {
		name   string
		listen bool
	}{{"without", false}, {"with", true}} {
		b.Run(tc.name+" --listen", func(b *testing.B) {
			core := zapcore.NewCore(zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig()), zapcore.AddSync(discardWriter{}), zap.InfoLevel)
			if tc.listen {
				core = zapcore.NewTee(core, Observe(NewBoard(nil)))
			}
			log := zap.New(core)
			b.ReportAllocs()
			for b.Loop() {
				log.Info("result", zap.String("service", "api"), zap.String("action", "rebuild"),
					zap.String("result", "api rebuilt"), zap.Duration("took", time.Second))
			}
		})
	}
}

// BenchmarkStatus is one GET /status with 50 services on the board.
func BenchmarkStatus(b *testing.B) {
	board := NewBoard(nil)
	for i := range 50 {
		board.Set(fmt.Sprintf("service-%02d", i), Idle, "rebuilt, recreated")
	}
	h := Handler(board)
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/status", nil))
	}
}

type discardWriter struct{}

func (discardWriter) Write(p []byte) (int, error) { return len(p), nil }
