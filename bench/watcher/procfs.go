package main

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// inotifyWatches counts a process's inotify watches: one "inotify wd:" line
// per watch in /proc/PID/fdinfo/*.
func inotifyWatches(pid int) (int, error) {
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

// memKB returns a /proc/PID/status field in kB (VmRSS, VmHWM).
func memKB(pid int, field string) (int, error) {
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
