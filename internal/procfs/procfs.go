// Package procfs reads what the benchmark harnesses measure of a process
// from /proc, as docs/design.md's "Measuring" says: inotify watches are the
// "inotify wd:" lines of /proc/PID/fdinfo/*, memory is VmRSS/VmHWM of
// /proc/PID/status.
package procfs

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// InotifyWatches counts the inotify watches of process pid.
func InotifyWatches(pid int) (int, error) {
	files, err := filepath.Glob(fmt.Sprintf("/proc/%d/fdinfo/*", pid))
	if err != nil {
		return 0, err
	}
	n := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue // the fd closed between the listing and the read
		}
		n += strings.Count(string(b), "inotify wd:")
	}
	return n, nil
}

// MemKB returns a /proc/PID/status field in kB (VmRSS, VmHWM).
func MemKB(pid int, field string) (int, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			return strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(rest), " kB"))
		}
	}
	return 0, fmt.Errorf("read /proc/%d/status: no %s", pid, field)
}
