package main

import (
	"fmt"
	"os"
	"text/tabwriter"
	"time"
)

// report prints the table and whether each target of issue 3 is met.
func report(s shape, ref, own setup, lat latency, b burstResult, burst int) bool {
	ok := true
	check := func(good bool) string {
		if good {
			return "ok"
		}
		ok = false
		return "MISSED"
	}
	ms := func(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }
	mb := func(kb int) string { return fmt.Sprintf("%.1f MB", float64(kb)/1024) }
	tw := tabwriter.NewWriter(os.Stdout, 2, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "measure\trebuildd watcher\tinotifywait -r (ref)\ttarget\t")
	fmt.Fprintf(tw, "exec to ready (median)\t%s\t%s\t<= 1.5x ref (%.2fx)\t%s\n", ms(own.ready), ms(ref.ready),
		float64(own.ready)/float64(ref.ready), check(float64(own.ready) <= 1.5*float64(ref.ready)))
	fmt.Fprintf(tw, "  of which the walk\t%s\t-\tin process, New to Ready\t\n", ms(own.walk))
	fmt.Fprintf(tw, "inotify watches\t%d\t%d\t= %d non-ignored dirs\t%s\n", own.watches, ref.watches,
		s.watchable(), check(own.watches == s.watchable()))
	fmt.Fprintf(tw, "VmRSS when ready\t%s\t%s\t< 100 MB\t%s\n", mb(own.rssKB), mb(ref.rssKB), check(own.rssKB < 100*1024))
	fmt.Fprintf(tw, "VmHWM after burst\t%s\t-\t< 100 MB\t%s\n", mb(b.hwmKB), check(b.hwmKB < 100*1024))
	fmt.Fprintf(tw, "event->batch p50/p95/max\t%s / %s / %s\t-\tquiet window 0\t\n", ms(lat.p50), ms(lat.p95), ms(lat.max))
	fmt.Fprintf(tw, "burst of %d new files\t%d reported, %d rescans, all in %s\t-\tnone lost\t%s\n", burst,
		b.reported, b.rescans, ms(b.all), check(b.reported == burst))
	tw.Flush()
	return ok
}
