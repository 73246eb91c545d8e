// Package sidecar is what rebuildd does differently when it runs as a
// container beside the stack it watches: find its own container through the
// Engine API, check that the project is mounted at the same absolute path as
// on the host (Compose in the container hands paths to the engine, which
// resolves them on the host), and name the service it must never rebuild or
// recreate: itself.
//
// Detection is two steps on purpose. The cheap file checks (/.dockerenv,
// /proc/1/cgroup, the root mount) say "probably a container"; they are also
// true in CI runners and dev containers that are not containers of the engine
// rebuildd talks to. Only a container the engine knows by our ID is a sidecar,
// so a process whose ID the engine does not know is treated like one on the
// host.
package sidecar

import (
	"bufio"
	"bytes"
	"os"
	"regexp"
	"strings"
)

// Env is the process's view of where it runs. Its fields are seams: tests
// give fixed files; OSEnv reads the real ones.
type Env struct {
	ReadFile func(path string) ([]byte, error)
	Exists   func(path string) bool
	Getenv   func(key string) string
}

// OSEnv reads the real /proc and environment.
func OSEnv() Env {
	return Env{
		ReadFile: os.ReadFile,
		Exists:   func(p string) bool { _, err := os.Stat(p); return err == nil },
		Getenv:   os.Getenv,
	}
}

// markerFiles exist only in containers: Docker creates /.dockerenv, Podman
// /run/.containerenv.
var markerFiles = []string{"/.dockerenv", "/run/.containerenv"}

// cgroupMarkers appear in /proc/1/cgroup (cgroup v1) of a container's PID 1.
// Under cgroup v2 with a private cgroup namespace the file says only "0::/",
// which is why the root mount is checked too.
var cgroupMarkers = []string{"/docker/", "/docker-", "/kubepods", "/containerd/", "/libpod-", "/lxc/"}

// overlayRoots are the file system types of a container's root mount (the
// image layers); a host's root is a block device file system.
var overlayRoots = map[string]bool{"overlay": true, "fuse-overlayfs": true, "aufs": true}

// InContainer reports whether the cheap signs say this process runs in a
// container. It can be true outside a container of the engine (see the
// package comment); Find settles it.
func (e Env) InContainer() bool {
	for _, f := range markerFiles {
		if e.Exists(f) {
			return true
		}
	}
	if b, err := e.ReadFile("/proc/1/cgroup"); err == nil {
		for _, m := range cgroupMarkers {
			if bytes.Contains(b, []byte(m)) {
				return true
			}
		}
	}
	if b, err := e.ReadFile("/proc/self/mountinfo"); err == nil {
		return overlayRoots[rootFSType(b)]
	}
	return false
}

// rootFSType is the file system type of the "/" mount in mountinfo, "" when
// the table has none.
func rootFSType(mountinfo []byte) string {
	typ := ""
	sc := bufio.NewScanner(bytes.NewReader(mountinfo))
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		sep := indexOf(f, "-")
		// Field 5 is the mount point; the first field after "-" the type.
		// The last "/" mount wins: later mounts stack on earlier ones.
		if len(f) >= 5 && sep >= 0 && sep+1 < len(f) && f[4] == "/" {
			typ = f[sep+1]
		}
	}
	return typ
}

func indexOf(fields []string, s string) int {
	for i, f := range fields {
		if f == s {
			return i
		}
	}
	return -1
}

// containerPathID finds the 64-hex container ID in a path of the engine's
// data root: Docker bind-mounts /etc/hostname, /etc/hosts and
// /etc/resolv.conf from /var/lib/docker/containers/<id>/, and the mount's
// root shows that path in mountinfo (cgroup v1 and v2 alike).
var containerPathID = regexp.MustCompile(`/containers/([0-9a-f]{64})/`)

// cgroupID finds the ID in a cgroup v1 path: /docker/<id> (cgroupfs driver)
// or docker-<id>.scope (systemd driver).
var cgroupID = regexp.MustCompile(`(?:/docker/|docker-)([0-9a-f]{64})`)

// shortID is the hostname Docker gives a container without hostname: set,
// the first 12 hex digits of its ID.
var shortID = regexp.MustCompile(`^[0-9a-f]{12,64}$`)

// CandidateIDs returns the IDs this process's container may have, best
// first, without duplicates: full IDs from mountinfo and cgroup, then
// HOSTNAME when it looks like an ID prefix. Empty when there is no hint.
func (e Env) CandidateIDs() []string {
	var ids []string
	seen := map[string]bool{}
	add := func(id string) {
		if !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	if b, err := e.ReadFile("/proc/self/mountinfo"); err == nil {
		for _, id := range mountinfoIDs(b) {
			add(id)
		}
	}
	if b, err := e.ReadFile("/proc/self/cgroup"); err == nil {
		for _, m := range cgroupID.FindAllSubmatch(b, -1) {
			add(string(m[1]))
		}
	}
	if h := e.Getenv("HOSTNAME"); shortID.MatchString(h) && !coveredBy(h, ids) {
		add(h)
	}
	return ids
}

// engineFiles are where Docker bind-mounts a container's own files from
// /var/lib/docker/containers/<id>/ inside the container.
var engineFiles = map[string]bool{"/etc/hostname": true, "/etc/hosts": true, "/etc/resolv.conf": true}

// mountinfoIDs returns the container IDs in the roots of the mounts at
// engineFiles. Only those: the engine's own mounts in the host's namespace
// show the same roots at other mount points (a `docker cp` mounts a
// container's file system with its hostname file at .../merged/etc/hostname),
// and a host that merely looks like a container (/.dockerenv) took a
// stranger's container for itself.
func mountinfoIDs(mountinfo []byte) []string {
	var ids []string
	sc := bufio.NewScanner(bytes.NewReader(mountinfo))
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		// Field 4 is the mount's root in its file system, field 5 the mount point.
		f := strings.Fields(sc.Text())
		if len(f) < 5 || !engineFiles[f[4]] {
			continue
		}
		if m := containerPathID.FindStringSubmatch(f[3] + "/"); m != nil {
			ids = append(ids, m[1])
		}
	}
	return ids
}

// coveredBy reports whether prefix starts one of the full IDs already found.
func coveredBy(prefix string, ids []string) bool {
	for _, id := range ids {
		if strings.HasPrefix(id, prefix) {
			return true
		}
	}
	return false
}
