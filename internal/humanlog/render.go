package humanlog

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"go.uber.org/zap/zapcore"

	"github.com/rebuildd/rebuildd/internal/escape"
)

// timeLayout: a terminal beside the stack needs the time of day, not the
// date or milliseconds.
const timeLayout = "15:04:05"

// indent is the width of "15:04:05 ", so status lines and a failure's
// output line up under the service names.
const indent = "         "

// render is one entry as the console prints it, newline included; ""
// for an entry the console shows otherwise.
func (o Options) render(ev event) string {
	if ev.msg == "decision" && ev.str("action") == "sync" && ev.level == zapcore.InfoLevel {
		return "" // its result line says the change and the sync at once
	}
	if ev.msg == "build" && ev.level == zapcore.InfoLevel {
		// A build's start: the status line (a terminal) or its steps'
		// progress lines say it, with what it is doing.
		return ""
	}
	var b strings.Builder
	b.WriteString(o.paint(dim, ev.time.Format(timeLayout)))
	b.WriteByte(' ')
	switch {
	case ev.level >= zapcore.ErrorLevel:
		b.WriteString(o.paint(red, "ERROR") + " ")
	case ev.level == zapcore.WarnLevel:
		b.WriteString(o.paint(yellow, "WARN") + " ")
	case ev.level <= zapcore.DebugLevel:
		b.WriteString(o.paint(dim, "debug") + " ")
	}
	if svc := ev.str("service"); svc != "" {
		b.WriteString(o.service(svc) + "  ")
	}
	b.WriteString(o.body(ev))
	b.WriteByte('\n')
	if !o.Verbose {
		o.output(&b, ev)
	}
	return b.String()
}

// body is the sentence after the service name, by message.
func (o Options) body(ev event) string {
	switch {
	case ev.msg == "decision":
		return o.decision(ev)
	case ev.msg == "result":
		return o.result(ev)
	case ev.msg == "progress":
		return progressText(ev)
	case ev.msg == "watching" && ev.str("service") != "":
		return o.watching(ev)
	case ev.msg == "ready":
		return ready(ev)
	case ev.msg == "reconciled":
		return o.reconciled(ev)
	case strings.HasPrefix(ev.msg, "advice: "):
		return o.advice(ev)
	case ev.msg == "volume" && ev.str("action") != "":
		return volume(ev)
	case ev.msg == "configuration reloaded":
		return ev.msg // what it changed follows as decisions
	}
	return o.generic(ev)
}

// decision: "package-lock.json -> deps (RUN npm ci, Dockerfile:5) -> rebuild".
func (o Options) decision(ev event) string {
	action := ev.str("action")
	if m := ev.str("mount"); action == "none" && m != "" {
		return o.files(ev) + " -> bind mount " + escape.Line(m) + ": live, nothing to build"
	}
	text := o.change(ev) + " -> "
	switch {
	case action == "none":
		return text + "nothing to do: " + escape.Line(ev.str("why"))
	}
	return text + escape.Line(action)
}

// change is what changed and the layer it feeds: "package-lock.json ->
// deps (RUN npm ci, Dockerfile:5)". The instruction comes from the step
// and at fields; older lines carry only the whole reason.
func (o Options) change(ev event) string {
	if len(ev.strs("files")) == 0 {
		if r := ev.str("reason"); r != "" {
			return escape.Line(Cut(r, 2*maxInstruction))
		}
	}
	text := o.files(ev)
	if impact := ev.str("impact"); impact != "" {
		text += " -> " + escape.Line(impact)
		if step := ev.str("step"); step != "" {
			text += " (" + instruction(step) + ", " + escape.Line(ev.str("at")) + ")"
		}
	}
	return text
}

// files are the changed files as the entry names them (relative to the
// context), else its paths.
func (o Options) files(ev event) string {
	files := ev.strs("files")
	if len(files) == 0 {
		files = ev.strs("paths")
	}
	names := make([]string, len(files))
	for i, f := range files {
		names[i] = o.path(f)
	}
	return strings.Join(names, ", ")
}

// result: "rebuilt in 12.4s, recreated api-1", or the failure and what to do.
func (o Options) result(ev event) string {
	what := escape.Line(ev.str("result"))
	if what == "" {
		what = "failed"
	}
	if ev.str("action") == "sync" && ev.level < zapcore.WarnLevel {
		return o.synced(ev, what)
	}
	if d, ok := ev.dur("took"); ok && !ev.flag("dry_run") {
		what = joinIn(what, Took(d))
	}
	return what + o.failure(ev)
}

// failure is what a failed entry adds: the error, when it retries, and the
// command that shows the failure again.
func (o Options) failure(ev event) string {
	var text string
	if err := ev.str("error"); err != "" {
		text += ": " + escape.Line(err)
	}
	if r := ev.str("retry"); r != "" {
		text += "; retries " + escape.Line(r)
	}
	if r := ev.str("reproduce"); r != "" {
		text += "; to see it again: " + escape.Line(r)
	}
	return text
}

// reconciled: what the start-up reconcile did to a service, "rebuilt:
// image missing, recreated api-1".
func (o Options) reconciled(ev event) string {
	text := escape.Line(ev.str("status"))
	switch r := ev.str("reason"); {
	case r != "" && text == "failed": // the reason says what failed
		text = escape.Line(r)
	case r != "":
		text += ": " + escape.Line(r)
	}
	if cs := ev.strs("containers"); len(cs) > 0 {
		text += ", recreated " + escape.Line(strings.Join(cs, ", "))
	}
	return text + o.failure(ev)
}

// joinIn puts " in 3.9s" after the first clause of what ("rebuilt,
// recreated api-1" -> "rebuilt in 3.9s, recreated api-1").
func joinIn(what, took string) string {
	head, tail, ok := strings.Cut(what, ", ")
	if !ok {
		return what + " in " + took
	}
	return head + " in " + took + ", " + tail
}

// progressText: "building [dev 3/7] RUN npm ci".
func progressText(ev event) string {
	text := escape.Line(ev.str("phase"))
	if n := ev.num("step"); n > 0 {
		pos := fmt.Sprintf("%d/%d", n, ev.num("steps"))
		if st := ev.str("stage"); st != "" {
			pos = escape.Line(st) + " " + pos
		}
		text += " [" + pos + "]"
	}
	if in := ev.str("instruction"); in != "" {
		text += " " + instruction(in)
	}
	return text
}

// watching: the banner line of one service.
func (o Options) watching(ev event) string {
	text := "watching " + o.path(ev.str("context"))
	var about []string
	if t := ev.str("target"); t != "" {
		about = append(about, "target "+escape.Line(t))
	}
	if b := ev.str("builder"); b != "" {
		about = append(about, escape.Line(b)+" ignore rules")
	}
	if be := ev.str("backend"); be != "" {
		about = append(about, fmt.Sprintf("%d dirs by %s", ev.num("watched_dirs"), escape.Line(be)))
	}
	if len(about) > 0 {
		text += " (" + strings.Join(about, ", ") + ")"
	}
	return text
}

// ready: "ready: 6 watches" and what else a person should know.
func ready(ev event) string {
	text := fmt.Sprintf("ready: %d watches", ev.num("watches"))
	if n := ev.num("polled_dirs"); n > 0 {
		text += fmt.Sprintf(", %d directories polled", n)
	}
	if ev.flag("dry_run") {
		text += "; dry run: decisions are printed, nothing is built"
	}
	return text
}

// advice: "advice: <finding> (Dockerfile:5); <fix>".
func (o Options) advice(ev event) string {
	text := escape.Line(ev.msg)
	if f := ev.str("file"); f != "" {
		at := o.path(f)
		if n := ev.num("line"); n > 0 {
			at += fmt.Sprintf(":%d", n)
		}
		text += " (" + at + ")"
	}
	if fix := ev.str("fix"); fix != "" {
		text += "; " + escape.Line(fix)
	}
	return text
}

// volume: what a recreate did to one volume and why, "volume /deps
// (3f2a9c1b0d4e) refreshed: it hides the files the new image has at /deps";
// a failed refresh adds the commands that do it by hand.
func volume(ev event) string {
	name := ev.str("volume")
	if len(name) > 12 {
		name = name[:12]
	}
	text := "volume " + escape.Line(ev.str("path")) + " (" + escape.Line(name) + ") " +
		escape.Line(ev.str("action")) + ": " + escape.Line(ev.str("why"))
	if fix := ev.str("fix"); fix != "" {
		text += "; by hand: " + escape.Line(fix)
	}
	return text
}

// generic renders any other entry: the message, its error, what to do,
// then its other fields as key=value.
func (o Options) generic(ev event) string {
	text := escape.Line(ev.msg)
	if err := ev.str("error"); err != "" {
		text += ": " + escape.Line(err)
	}
	if fix := ev.str("fix"); fix != "" {
		text += "; " + escape.Line(fix)
	}
	keys := make([]string, 0, len(ev.f))
	for k := range ev.f {
		switch k {
		case "service", "error", "errorVerbose", "fix", outputKey:
			continue
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if v := o.value(ev.f[k]); v != "" && v != `""` {
			text += "  " + escape.Line(k) + "=" + v
		}
	}
	return text
}

// value is one field's value as generic prints it.
func (o Options) value(v any) string {
	switch v := v.(type) {
	case string:
		s := escape.Line(v)
		if strings.ContainsAny(s, " \"") || s == "" {
			return fmt.Sprintf("%q", s)
		}
		return s
	case time.Duration:
		return Took(v)
	case []any:
		parts := make([]string, len(v))
		for i, x := range v {
			parts[i] = o.value(x)
		}
		return strings.Join(parts, ",")
	}
	return escape.Line(fmt.Sprint(v))
}

// outputKey holds the last lines of a failed command's output.
const outputKey = "output_tail"

// output prints a failure's build output under its line, once: with
// --verbose it was streamed already.
func (o Options) output(b *strings.Builder, ev event) {
	out := ev.str(outputKey)
	if out == "" {
		return
	}
	prefix := indent + o.service(ev.str("service")) + " | "
	for _, l := range strings.Split(strings.TrimRight(out, "\n"), "\n") {
		b.WriteString(prefix + escape.Line(l) + "\n")
	}
}

// synced is a live update's one line: "src/server.js -> synced to
// /app/src/server.js in 84ms (restart 0.9s)", or "(busybox httpd serves
// it)" when nothing needed a restart.
func (o Options) synced(ev event, what string) string {
	text := o.files(ev) + " -> " + what
	if ev.flag("dry_run") {
		return text + " (dry run)"
	}
	if d, ok := ev.dur("took"); ok {
		text += " in " + shortTook(d)
	}
	switch d, ok := ev.dur("restart"); {
	case ok:
		text += " (restart " + shortTook(d) + ")"
	case ev.str("reloads") != "":
		text += " (" + escape.Line(ev.str("reloads")) + ")"
	}
	return text
}
