package main

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"text/tabwriter"
	"time"
)

// results is everything one harness run measured.
type results struct {
	opts                      options
	facts                     []string
	setup, wrapper, total     time.Duration
	once                      onceResult
	ready                     map[string]readiness
	sessions                  []session
	sessRebuildd, sessCompose []counted
	latRebuildd, latCompose   latency
	liveRebuildd, liveCompose liveResult
	classify                  []classifyRow
	classifyErr               error
	idle                      idleResult
}

// machineFacts are the lines docs/performance.md needs beside the numbers.
func machineFacts() []string {
	q := func(argv ...string) string {
		out, err := exec.Command(argv[0], argv[1:]...).Output()
		if err != nil {
			return "?"
		}
		return strings.TrimSpace(string(out))
	}
	return []string{
		"date " + time.Now().UTC().Format(time.RFC3339),
		fmt.Sprintf("%s/%s, %d CPUs, kernel %s, %s", runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), q("uname", "-r"), runtime.Version()),
		"memory " + q("sh", "-c", "awk '/MemTotal/ {printf \"%.1f GiB\", $2/1048576}' /proc/meminfo"),
		"engine " + q("docker", "version", "--format", "{{.Server.Version}} (API {{.Server.APIVersion}})"),
		"compose " + q("docker", "compose", "version", "--short") + " (COMPOSE_BAKE=false, BuildKit through compose's embedded builder)",
		"inotifywait " + q("sh", "-c", "inotifywait --help 2>&1 | head -1"),
		"load average at start " + loadavg() + " (the engine and CPUs are shared: other work inflates Docker's part)",
	}
}

// loadavg is the 1, 5 and 15 minute load average.
func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); err == nil && len(f) >= 3 {
		return strings.Join(f[:3], " ")
	}
	return "?"
}

func (r *results) print(w io.Writer) {
	fmt.Fprintln(w, "rebuildd benchmark")
	for _, f := range r.facts {
		fmt.Fprintln(w, "  "+f)
	}
	l := r.opts.layout
	fmt.Fprintf(w, "  project: %d source files (all copied into the image), %d ignored node_modules files; medians of %d runs (row 7: %d)\n",
		l.files, l.nmFiles, r.opts.runs, r.opts.liveRuns)
	fmt.Fprintf(w, "  load average now %s\n", loadavg())
	fmt.Fprintf(w, "  first compose up --build %s; harness total %s\n\n", r.setup.Round(100*time.Millisecond), r.total.Round(time.Second))
	tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "#\tmeasure\trebuildd\tinotifywait -r\tdocker compose watch\ttarget\t")
	for n, f := range []func(io.Writer){r.printReady, r.printLatency, r.printSessions, r.printOnce, r.printClassify, r.printIdle, r.printLive} {
		if r.opts.wants(n + 1) {
			f(tw)
		}
	}
	tw.Flush()
}

func (r *results) printReady(w io.Writer) {
	cell := func(name string, f func(readiness) string) string {
		x, ok := r.ready[name]
		switch {
		case !ok:
			return "not run"
		case x.err != nil:
			return "cannot run: " + firstLine(x.err)
		}
		return f(x)
	}
	row := func(what string, f func(readiness) string, target string) {
		fmt.Fprintf(w, "1\t%s\t%s\t%s\t%s\t%s\t\n", what, cell("rebuildd", f), cell("inotifywait", f), cell("compose watch", f), target)
	}
	row("start -> ready", func(x readiness) string { return ms(x.ready) }, "")
	fmt.Fprintf(w, "1\t  --dry-run (hashes the context at start)\t%s\t-\t-\t\t\n", cell("rebuildd dry-run", func(x readiness) string { return ms(x.ready) }))
	fmt.Fprintf(w, "1\t  with start-up reconcile\t%s\t-\t-\t\t\n", cell("rebuildd+reconcile", func(x readiness) string { return ms(x.ready) }))
	row("inotify watches", func(x readiness) string { return fmt.Sprint(x.watches) }, "ignored dirs unwatched")
	row("RSS when ready", func(x readiness) string { return mb(x.rssKB) }, "")
}

func (r *results) printLatency(w io.Writer) {
	cell := func(x latency, f func(latency) string) string {
		switch {
		case x.err != nil:
			return "failed: " + firstLine(x.err)
		case x.runs == 0:
			return "not run"
		}
		return f(x)
	}
	own := r.latRebuildd.started - quietWindow
	fmt.Fprintf(w, "2\twrite -> build started (rebuildd: on_source: rebuild)\t%s\t-\t%s\t\t\n",
		cell(r.latRebuildd, func(x latency) string { return ms(x.started) }),
		cell(r.latCompose, func(x latency) string { return ms(x.started) }))
	fmt.Fprintf(w, "2\t  write -> decision / build log line\t%s\t-\t-\t\t\n",
		cell(r.latRebuildd, func(x latency) string { return ms(x.decided) + " / " + ms(x.logged) }))
	fmt.Fprintf(w, "2\t  quiet window\t%s\t-\t%s\t\t\n", ms(quietWindow), "500 ms (fixed)")
	fmt.Fprintf(w, "2\t  own part beyond the window\t%s\t-\t%s\t<= 10 ms %s\t\n",
		cell(r.latRebuildd, func(latency) string { return ms(own) }),
		cell(r.latCompose, func(x latency) string { return ms(x.started - 500*time.Millisecond) }),
		verdict(r.latRebuildd.err == nil && r.latRebuildd.runs > 0 && own <= 10*time.Millisecond))
	fmt.Fprintf(w, "2\t  of which the stamp wrapper (calibrated)\t%s\t-\t-\t\t\n", ms(r.wrapper))
	fmt.Fprintf(w, "2\twrite -> new content served (median / p90)\t%s\t-\t%s\t\t\n",
		cell(r.latRebuildd, func(x latency) string { return ms(x.served) + " / " + ms(x.servedP90) }),
		cell(r.latCompose, func(x latency) string { return ms(x.served) + " / " + ms(x.servedP90) }))
	fmt.Fprintf(w, "2\t  Docker's part (build+recreate)\t%s\t-\t%s\t\t\n",
		cell(r.latRebuildd, func(x latency) string { return ms(x.docker) }),
		cell(r.latCompose, func(x latency) string { return ms(x.docker) }))
}

func (r *results) printSessions(w io.Writer) {
	cell := func(cs []counted, i int) string {
		if i >= len(cs) {
			return "not run"
		}
		c := cs[i]
		if c.err != nil {
			return "failed: " + firstLine(c.err)
		}
		img := "same image"
		if c.newImage {
			img = "new image"
		}
		return fmt.Sprintf("%d builds, %d recreates, %s", c.started, c.recreate, img)
	}
	spurious := 0
	for i, s := range r.sessions {
		if i < len(r.sessRebuildd) && s.builds == 0 && (r.sessRebuildd[i].started > 0 || r.sessRebuildd[i].err != nil) {
			spurious++
		}
		fmt.Fprintf(w, "3\t%s\t%s\t-\t%s\t%d build(s)\t\n", s.name, cell(r.sessRebuildd, i), cell(r.sessCompose, i), s.builds)
	}
	fmt.Fprintf(w, "3\t  spurious builds (rebuildd)\t%d\t-\t-\t0 %s\t\n", spurious, verdict(spurious == 0))
}

func (r *results) printOnce(w io.Writer) {
	o := r.once
	if o.err != nil {
		fmt.Fprintf(w, "4\t--once, up to date\tfailed: %s\t-\t-\t\t\n", firstLine(o.err))
		return
	}
	x := float64(o.compose) / float64(o.rebuildd)
	fmt.Fprintf(w, "4\t--once vs compose build (%d files)\t%s (%d builds)\t-\t%s (compose build)\t%.1fx faster\t\n",
		r.opts.layout.files, ms(o.rebuildd), o.builds, ms(o.compose), x)
	bound := o.floor*3/2 + 25*time.Millisecond
	fmt.Fprintf(w, "4\t--once vs the floor (bare walk, same files)\t%s\t-\t%s (floor)\t<= 1.5x floor + 25 ms = %s: %s\t\n",
		ms(o.rebuildd), ms(o.floor), ms(bound), verdict(o.rebuildd <= bound && o.builds == 0))
}

func (r *results) printClassify(w io.Writer) {
	if r.classifyErr != nil {
		fmt.Fprintf(w, "5\tclassify\tfailed: %s\t-\t-\t\t\n", firstLine(r.classifyErr))
		return
	}
	for _, c := range r.classify {
		fmt.Fprintf(w, "5\tclassify %s\t%.0f ns/path (%.0f CPU ns)\t-\t-\t\t\n", c.name, c.nsPath, c.cpuPath)
	}
}

func (r *results) printIdle(w io.Writer) {
	x := r.idle
	if x.err != nil {
		fmt.Fprintf(w, "6\tidle\tfailed: %s\t-\t-\t\t\n", firstLine(x.err))
		return
	}
	share := float64(x.cpu) / float64(x.window) * 100
	fmt.Fprintf(w, "6\tidle %d files: start -> ready\t%s\t-\t-\t\t\n", x.files, ms(x.ready))
	fmt.Fprintf(w, "6\t  watches / RSS\t%d / %s\t-\t-\t\t\n", x.watches, mb(x.rssKB))
	fmt.Fprintf(w, "6\t  CPU in the first %v after ready\t%s (%.2f%%)\t-\t-\t\t\n", x.window, ms(x.afterReady),
		float64(x.afterReady)/float64(x.window)*100)
	fmt.Fprintf(w, "6\t  CPU over the next %v, idle\t%s (%.2f%%)\t-\t-\tnear zero %s\t\n", x.window, ms(x.cpu), share, verdict(share < 1))
}

// printLive is row 7: live update beside compose watch's sync rule, and
// row 2's build path for the same edit.
func (r *results) printLive(w io.Writer) {
	cell := func(x liveResult, f func(liveResult) string) string {
		switch {
		case x.err != nil && x.runs == 0:
			return "failed: " + firstLine(x.err)
		case x.runs == 0:
			return "not run"
		}
		return f(x)
	}
	dist := func(ds []time.Duration) string { return ms(median(ds)) + " / " + ms(p90(ds)) }
	rb, cw := r.liveRebuildd, r.liveCompose
	row := func(what string, fr, fc func(liveResult) string, target string) {
		a, b := "-", "-"
		if fr != nil {
			a = cell(rb, fr)
		}
		if fc != nil {
			b = cell(cw, fc)
		}
		fmt.Fprintf(w, "7\t%s\t%s\t-\t%s\t%s\t\n", what, a, b, target)
	}
	served := func(x liveResult) string { return dist(x.served) + fmt.Sprintf(" (%d runs)", x.runs) }
	ok := rb.runs > 0 && rb.err == nil && median(rb.served) <= 400*time.Millisecond
	row("save -> served, live update (median / p90)", served, served, "<= 400 ms median "+verdict(ok))
	row("  quiet window", func(liveResult) string { return ms(quietWindow) }, func(liveResult) string { return "500 ms (fixed)" }, "")
	row("  save -> work started, beyond the window", func(x liveResult) string { return dist(x.wake(quietWindow)) },
		func(x liveResult) string { return dist(x.wake(500*time.Millisecond)) + " (to its Syncing line)" }, "")
	timing := func(f func(liveResult) string) func(liveResult) string {
		return func(x liveResult) string {
			if x.timed == 0 {
				return "no sync timing line"
			}
			return f(x)
		}
	}
	row("  decide / plan (sync timing line, medians)", timing(func(x liveResult) string { return ms(median(x.decide)) + " / " + ms(median(x.plan)) }), nil, "")
	own := rb.own()
	row("  own part beyond the window (wake + decide + plan)", timing(func(x liveResult) string { return dist(own) }), nil,
		"<= 50 ms median "+verdict(len(own) > 0 && median(own) <= 50*time.Millisecond))
	row("  engine's archive upload (copy)", timing(func(x liveResult) string { return dist(x.copy) }), nil, "")
	row("  result's took (decide + plan + copy)", func(x liveResult) string { return dist(x.took) }, nil, "")
	row("  builds before the sync / containers created", func(x liveResult) string { return fmt.Sprintf("%d / %d", x.builds, x.recreates) },
		func(x liveResult) string { return fmt.Sprintf("%d / %d", x.builds, x.recreates) }, "0 / 0")
	row("  save -> converge build's result (background)", func(x liveResult) string { return dist(x.converge) },
		func(liveResult) string { return "none (the image stays behind)" }, "")
	row("  load average before / after", func(x liveResult) string { return x.load[0] + " / " + x.load[1] },
		func(x liveResult) string { return x.load[0] + " / " + x.load[1] }, "")
	for _, x := range []struct {
		who string
		liveResult
	}{{"rebuildd", rb}, {"compose watch", cw}} {
		if x.err != nil && x.runs > 0 {
			row("  "+x.who+" stopped after a failure", nil, nil, firstLine(x.err))
		}
	}
	if r.opts.wants(2) {
		cellL := func(x latency) string {
			if x.err != nil || x.runs == 0 {
				return "see row 2"
			}
			return ms(x.served) + " / " + ms(x.servedP90)
		}
		fmt.Fprintf(w, "7\t  build path, row 2 (rebuildd on_source: rebuild; compose rebuild rule)\t%s\t-\t%s\t\t\n",
			cellL(r.latRebuildd), cellL(r.latCompose))
	}
}

func verdict(ok bool) string {
	if ok {
		return "ok"
	}
	return "MISSED"
}

func firstLine(err error) string {
	s, _, _ := strings.Cut(err.Error(), "\n")
	return s
}
