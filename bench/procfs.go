package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/rebuildd/rebuildd/internal/procfs"
)

// The /proc readers below follow docs/design.md's "Measuring": watches are the
// "inotify wd:" lines of /proc/PID/fdinfo/*, memory is VmRSS.

func inotifyWatches(pid int) int {
	n, _ := procfs.InotifyWatches(pid)
	return n
}

// rssKB is VmRSS of pid in kB (0 when the process is gone).
func rssKB(pid int) int {
	n, _ := procfs.MemKB(pid, "VmRSS")
	return n
}

// clkTck is USER_HZ, the unit of utime and stime in /proc/PID/stat. It is
// 100 on every Linux architecture Go supports.
const clkTck = 100

// cpuTime is utime+stime of pid from /proc/PID/stat.
func cpuTime(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("read /proc/%d/stat: %w", pid, err)
	}
	// The command name may hold spaces; fields count from after its ')'.
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("read /proc/%d/stat: %d fields", pid, len(f))
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * time.Second / clkTck, nil
}

// descendants lists pid's children, grandchildren and so on: `docker
// compose` is the docker CLI running the compose plugin as its child, and
// the watches live in the child.
func descendants(pid int) []int {
	var out []int
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
	for _, t := range tasks {
		b, err := os.ReadFile(t)
		if err != nil {
			continue
		}
		for _, f := range strings.Fields(string(b)) {
			if c, err := strconv.Atoi(f); err == nil {
				out = append(out, c)
				out = append(out, descendants(c)...)
			}
		}
	}
	return out
}

// treeUsage sums watches and RSS over pid and its descendants.
func treeUsage(pid int) (watches, rss int) {
	for _, p := range append([]int{pid}, descendants(pid)...) {
		watches += inotifyWatches(p)
		rss += rssKB(p)
	}
	return watches, rss
}
