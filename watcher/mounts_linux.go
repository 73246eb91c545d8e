package watcher

import (
	"bufio"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// mountTable maps mount points to file system types, from
// /proc/self/mountinfo. Poll "auto" uses it to pick polling for roots on file
// systems where inotify does not see changes made by the other side: Docker
// Desktop shares (virtiofs, fakeowner, grpcfuse), VM shares (9p), network
// mounts (nfs, cifs/smb) and FUSE, WSL's drvfs.
type mountTable map[string]string

// readMounts returns nil when the table cannot be read; callers then treat
// every root as local (inotify), the common case.
func readMounts() mountTable {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil
	}
	defer f.Close()
	return parseMountinfo(f)
}

// parseMountinfo reads proc(5) mountinfo lines:
// "36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue".
// Field 5 is the mount point (octal escapes), the first field after "-" the type.
func parseMountinfo(r io.Reader) mountTable {
	t := mountTable{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		sep := -1
		for i, f := range fields {
			if f == "-" {
				sep = i
				break
			}
		}
		if len(fields) < 5 || sep < 0 || sep+1 >= len(fields) {
			continue
		}
		t[unescapeMount(fields[4])] = fields[sep+1]
	}
	return t
}

// unescapeMount undoes the kernel's octal escapes (\040 space, \011 tab,
// \012 newline, \134 backslash).
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) && isOctal(s[i+1:i+4]) {
			b.WriteByte((s[i+1]-'0')<<6 | (s[i+2]-'0')<<3 | (s[i+3] - '0'))
			i += 3
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isOctal(s string) bool {
	if len(s) != 3 {
		return false
	}
	for i := 0; i < 3; i++ {
		if s[i] < '0' || s[i] > '7' {
			return false
		}
	}
	return true
}

// fsType returns the type of the file system holding path: the mount with
// the longest mount point that is path or one of its ancestors.
func (t mountTable) fsType(path string) string {
	for p := filepath.Clean(path); ; p = filepath.Dir(p) {
		if typ, ok := t[p]; ok {
			return typ
		}
		if p == "/" || p == "." {
			return ""
		}
	}
}

// needsPolling reports whether inotify is known not to fire on fsType.
func needsPolling(fsType string) bool {
	switch fsType {
	case "9p", "virtiofs", "fakeowner", "grpcfuse", "nfs", "nfs4", "cifs", "smb3", "smbfs", "fuse", "drvfs":
		return true
	}
	return strings.HasPrefix(fsType, "fuse.")
}
