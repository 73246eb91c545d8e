package status

import (
	"fmt"

	"go.uber.org/zap/zapcore"
)

// Observe returns a zap core that feeds r from watch mode's structured log
// lines, to tee beside the real core: zap.New(zapcore.NewTee(core,
// status.Observe(board))). docs/design.md makes readiness and decisions log
// lines that harnesses read, so the endpoint reads the same contract. It
// keys on fields, never on messages, which differ between console and JSON
// output:
//
//   - message "watching" with field service: the service is listed, idle;
//   - message "ready": Ready;
//   - fields service + impact + action other than "none" (a decision):
//     building (the action is queued or running from here on);
//   - fields service + result + took (a request's end): idle, or failed
//     when logged at error level; a cancelled one is idle;
//   - fields service + status (the start-up reconcile): failed when status
//     is "failed", else idle, with status and reason as the result.
func Observe(r Reporter) zapcore.Core {
	return &observer{r: r}
}

type observer struct {
	r      Reporter
	fields []zapcore.Field // from With
}

func (o *observer) Enabled(l zapcore.Level) bool { return l >= zapcore.InfoLevel }

func (o *observer) With(fields []zapcore.Field) zapcore.Core {
	return &observer{r: o.r, fields: append(append([]zapcore.Field{}, o.fields...), fields...)}
}

func (o *observer) Check(e zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	if o.Enabled(e.Level) {
		return ce.AddCore(e, o)
	}
	return ce
}

func (o *observer) Sync() error { return nil }

func (o *observer) Write(e zapcore.Entry, fields []zapcore.Field) error {
	enc := zapcore.NewMapObjectEncoder()
	for _, f := range append(append([]zapcore.Field{}, o.fields...), fields...) {
		f.AddTo(enc)
	}
	m := enc.Fields
	str := func(k string) string { s, _ := m[k].(string); return s }
	_, hasTook := m["took"]
	_, hasResult := m["result"]
	svc := str("service")
	switch {
	case e.Message == "ready":
		o.r.Ready()
	case svc == "":
	case e.Message == "watching":
		if w, ok := o.r.(interface{ Watching(...string) }); ok {
			w.Watching(svc)
		}
	case str("impact") != "" && str("action") != "none":
		o.r.Set(svc, Building, "")
	case hasResult && hasTook:
		o.r.Set(svc, endState(e.Level, str("status")), resultText(str("result"), str("error"), str("status")))
	case str("status") != "":
		state := Idle
		if str("status") == "failed" {
			state = Failed
		}
		o.r.Set(svc, state, resultText(str("status"), str("reason"), ""))
	}
	return nil
}

func endState(l zapcore.Level, status string) State {
	if l >= zapcore.ErrorLevel && status != "cancelled" {
		return Failed
	}
	return Idle
}

// resultText is "what", "what: why" or "what (status)".
func resultText(what, why, status string) string {
	if what == "" {
		what = "failed"
	}
	if why != "" {
		what = fmt.Sprintf("%s: %s", what, why)
	}
	if status != "" {
		what = fmt.Sprintf("%s (%s)", what, status)
	}
	return what
}
