package sidecar

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/docker/docker/api/types/container"
)

const (
	idA = "4f1c2a9d8b7e6f5a4f1c2a9d8b7e6f5a4f1c2a9d8b7e6f5a4f1c2a9d8b7e6f5a"
	idB = "b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0"
)

// hostMountinfo is a host's table: ext4 root, no container paths.
const hostMountinfo = `21 26 0:20 / /proc rw,relatime - proc proc rw
26 1 254:0 / / rw,relatime - ext4 /dev/vda rw
`

// containerMountinfo is a Docker container's: overlay root and the
// engine-managed files bind-mounted from the container's directory.
const containerMountinfo = `612 540 0:56 / / rw,relatime master:305 - overlay overlay rw,lowerdir=/var/lib/docker/overlay2/l/X
640 612 254:0 /var/lib/docker/containers/` + idA + `/resolv.conf /etc/resolv.conf rw,relatime - ext4 /dev/vda rw
641 612 254:0 /var/lib/docker/containers/` + idA + `/hostname /etc/hostname rw,relatime - ext4 /dev/vda rw
642 612 254:0 /var/lib/docker/containers/` + idA + `/hosts /etc/hosts rw,relatime - ext4 /dev/vda rw
643 612 254:0 /home/me/app /home/me/app rw,relatime - ext4 /dev/vda rw
`

// hostDuringCopy is a host's table (with /.dockerenv, as a VM image built
// from a container has) while the engine runs `docker cp` into container
// B: B's file system and its hostname, hosts and resolv.conf files are
// mounted below the storage driver's directory, in the host's namespace.
const hostDuringCopy = hostMountinfo + `700 26 0:60 / /var/lib/docker/fuse-overlayfs/abc/merged rw - fuse.fuse-overlayfs fuse-overlayfs rw
701 700 254:0 /var/lib/docker/containers/` + idB + `/hostname /var/lib/docker/fuse-overlayfs/abc/merged/etc/hostname rw - ext4 /dev/vda rw
702 700 254:0 /var/lib/docker/containers/` + idB + `/hosts /var/lib/docker/fuse-overlayfs/abc/merged/etc/hosts rw - ext4 /dev/vda rw
703 26 0:61 / /var/lib/docker/containers/` + idB + `/mounts/shm rw - tmpfs shm rw
`

func TestInContainer(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files map[string]string
		want  bool
	}{
		{"host", map[string]string{"/proc/self/mountinfo": hostMountinfo, "/proc/1/cgroup": "0::/init.scope\n"}, false},
		{"dockerenv", map[string]string{"/.dockerenv": "", "/proc/self/mountinfo": hostMountinfo}, true},
		{"podman", map[string]string{"/run/.containerenv": ""}, true},
		{"cgroup v1 cgroupfs", map[string]string{"/proc/1/cgroup": "12:pids:/docker/" + idA + "\n"}, true},
		{"cgroup v1 systemd", map[string]string{"/proc/1/cgroup": "1:name=systemd:/system.slice/docker-" + idA + ".scope\n"}, true},
		{"kubernetes", map[string]string{"/proc/1/cgroup": "11:memory:/kubepods/besteffort/pod1/" + idA + "\n"}, true},
		{"cgroup v2 overlay root", map[string]string{"/proc/1/cgroup": "0::/\n", "/proc/self/mountinfo": containerMountinfo}, true},
		{"fuse-overlayfs root", map[string]string{"/proc/self/mountinfo": "1 0 0:1 / / rw - fuse-overlayfs fuse-overlayfs rw\n"}, true},
		{"no proc at all", map[string]string{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := FakeEnv(tc.files, nil).InContainer(); got != tc.want {
				t.Errorf("InContainer() = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestCandidateIDs(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files map[string]string
		host  string
		want  []string
	}{
		{"mountinfo", map[string]string{"/proc/self/mountinfo": containerMountinfo}, "", []string{idA}},
		{"a host while the engine copies into a container", map[string]string{"/proc/self/mountinfo": hostDuringCopy}, "", nil},
		{"hostname prefix of a found ID is dropped", map[string]string{"/proc/self/mountinfo": containerMountinfo}, idA[:12], []string{idA}},
		{"cgroup then hostname", map[string]string{"/proc/self/cgroup": "4:cpu:/docker/" + idB + "\n"}, "abcdef012345", []string{idB, "abcdef012345"}},
		{"hostname set by the user is no ID", map[string]string{}, "rebuildd", nil},
		{"short hex hostname is no ID", map[string]string{}, "cafe", nil},
		{"nothing", map[string]string{"/proc/self/mountinfo": hostMountinfo}, "", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := FakeEnv(tc.files, map[string]string{"HOSTNAME": tc.host}).CandidateIDs()
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("CandidateIDs() = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestFind(t *testing.T) {
	inCtr := map[string]string{"/.dockerenv": "", "/proc/self/mountinfo": containerMountinfo}
	self := FakeContainer(idA, "app-rebuildd-1", "app", "rebuildd", "/home/me/app:/home/me/app")
	other := FakeContainer(idB, "app-web-1", "app", "web")
	t.Run("found by mountinfo", func(t *testing.T) {
		eng := &FakeEngine{Containers: []container.InspectResponse{self, other}}
		s, err := Find(context.Background(), FakeEnv(inCtr, nil), eng)
		if err != nil || s == nil {
			t.Fatalf("Find() = %v, %v; want our container", s, err)
		}
		if s.ID != idA || s.Name != "app-rebuildd-1" || s.Project != "app" || s.Service != "rebuildd" {
			t.Errorf("Find() = %+v", s)
		}
	})
	t.Run("on the host the engine is not asked", func(t *testing.T) {
		eng := &FakeEngine{Containers: []container.InspectResponse{self}}
		s, err := Find(context.Background(), FakeEnv(map[string]string{"/proc/self/mountinfo": hostMountinfo}, map[string]string{"HOSTNAME": idA[:12]}), eng)
		if s != nil || err != nil || eng.Calls != 0 {
			t.Errorf("Find() = %v, %v after %d calls; want nil, nil, 0 calls", s, err, eng.Calls)
		}
	})
	t.Run("a host that looks like a container does not take a stranger's for its own", func(t *testing.T) {
		env := FakeEnv(map[string]string{"/.dockerenv": "", "/proc/self/mountinfo": hostDuringCopy}, map[string]string{"HOSTNAME": "vm"})
		eng := &FakeEngine{Containers: []container.InspectResponse{FakeContainer(idB, "app-web-1", "app", "web")}}
		s, err := Find(context.Background(), env, eng)
		if s != nil || err != nil {
			t.Errorf("Find() = %+v, %v; want nil, nil (the process is on the host)", s, err)
		}
	})
	t.Run("a container of another engine is treated as the host", func(t *testing.T) {
		eng := &FakeEngine{Containers: []container.InspectResponse{other}}
		s, err := Find(context.Background(), FakeEnv(inCtr, nil), eng)
		if s != nil || err != nil {
			t.Errorf("Find() = %v, %v; want nil, nil", s, err)
		}
	})
	t.Run("hostname matching a stranger's ID prefix is not us", func(t *testing.T) {
		stranger := FakeContainer(idB, "x", "", "")
		stranger.Config.Hostname = "elsewhere"
		env := FakeEnv(map[string]string{"/.dockerenv": ""}, map[string]string{"HOSTNAME": idB[:12]})
		s, err := Find(context.Background(), env, &FakeEngine{Containers: []container.InspectResponse{stranger}})
		if s != nil || err != nil {
			t.Errorf("Find() = %v, %v; want nil, nil", s, err)
		}
	})
	t.Run("engine error is returned", func(t *testing.T) {
		down := errors.New("connection refused")
		_, err := Find(context.Background(), FakeEnv(inCtr, nil), &FakeEngine{Err: down})
		if !errors.Is(err, down) || !strings.Contains(err.Error(), idA) {
			t.Errorf("Find() error = %v, want it to wrap %v and name the ID", err, down)
		}
	})
}

func TestExcludedService(t *testing.T) {
	s := selfOf(FakeContainer(idA, "app-rebuildd-1", "app", "rebuildd"))
	for _, tc := range []struct {
		self    *Self
		project string
		want    string
	}{
		{s, "app", "rebuildd"},
		{s, "other", ""},
		{selfOf(FakeContainer(idA, "runner", "", "")), "app", ""},
		{nil, "app", ""},
	} {
		if got := tc.self.ExcludedService(tc.project); got != tc.want {
			t.Errorf("%+v.ExcludedService(%q) = %q, want %q", tc.self, tc.project, got, tc.want)
		}
	}
}

func TestCheckMounts(t *testing.T) {
	project := Dir{Path: "/home/me/app", What: "the project directory"}
	lib := Dir{Path: "/home/me/lib", What: "the build context of api"}
	for _, tc := range []struct {
		name   string
		mounts []string
		dirs   []Dir
		lines  []string // the volumes: lines in the message, exactly; nil: no error
		more   []string // further text the message must hold
	}{
		{"same path", []string{"/var/run/docker.sock:/var/run/docker.sock", "/home/me/app:/home/me/app"}, []Dir{project}, nil, nil},
		{"parent mounted at the same path", []string{"/home/me:/home/me"}, []Dir{project, lib}, nil, nil},
		{"nested mount at the same path", []string{"/srv:/home", "/home/me/app:/home/me/app"}, []Dir{project}, nil, nil},
		{"trailing slash", []string{"/home/me/app/:/home/me/app/"}, []Dir{project}, nil, nil},
		{"other path", []string{"/home/me/app:/src"}, []Dir{{Path: "/src", What: "the project directory"}},
			[]string{"- /home/me/app:/home/me/app"}, []string{"the host's /home/me/app mounted at another path", "working_dir: /home/me/app"}},
		{"other path, subdirectory", []string{"/home/me:/work"}, []Dir{{Path: "/work/app", What: "the project directory"}},
			[]string{"- /home/me/app:/home/me/app"}, nil},
		{"not mounted", []string{"/var/run/docker.sock:/var/run/docker.sock"}, []Dir{project},
			[]string{"- /home/me/app:/home/me/app"}, []string{"not mounted from the host", "use the host path on both sides"}},
		{"named volume", []string{"code:/home/me/app"}, []Dir{project},
			[]string{"- /home/me/app:/home/me/app"}, []string{`volume mount "code"`}},
		{"prefix is not a parent", []string{"/home/me/ap:/home/me/ap"}, []Dir{project},
			[]string{"- /home/me/app:/home/me/app"}, nil},
		{"context outside the project", []string{"/home/me/app:/home/me/app"}, []Dir{project, lib},
			[]string{"- /home/me/lib:/home/me/lib"}, []string{"the build context of api /home/me/lib"}},
		{"contexts inside a wrongly mounted project: one line", []string{"/home/me/app:/src"}, []Dir{
			{Path: "/src", What: "the project directory"},
			{Path: "/src/api", What: "the build context of api"},
			{Path: "/src/docs", What: "the build context of docs"},
			{Path: "/src/docs", What: "the build context of mirror"},
			{Path: "/src/web/", What: "the build context of web"},
		}, []string{"- /home/me/app:/home/me/app"}, []string{
			"(so are /src/api, /src/docs and /src/web, below it)", "working_dir: /home/me/app"}},
		{"project and a sibling context: their common parent", []string{"/home/me:/work"}, []Dir{
			{Path: "/work/app", What: "the project directory"}, {Path: "/work/lib", What: "the build context of api"},
		}, []string{"- /home/me:/home/me"}, []string{"working_dir: /home/me/app", "(so is /work/lib, below it)"}},
		{"nothing in common but the root: a line each", []string{"/data/lib:/lib"}, []Dir{
			project, {Path: "/lib", What: "the build context of api"},
		}, []string{"- /home/me/app:/home/me/app", "- /data/lib:/data/lib"}, []string{
			"the project directory /home/me/app is not mounted", "; and the build context of api /lib is the host's /data/lib"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := selfOf(FakeContainer(idA, "app-rebuildd-1", "app", "rebuildd", tc.mounts...))
			err := s.CheckMounts(tc.dirs)
			if tc.lines == nil {
				if err != nil {
					t.Fatalf("CheckMounts() = %v, want nil", err)
				}
				return
			}
			var me *MountError
			if !errors.As(err, &me) {
				t.Fatalf("CheckMounts() = %v, want a *MountError", err)
			}
			msg := err.Error()
			for _, want := range append([]string{`"app-rebuildd-1"`, "volumes:"}, tc.more...) {
				if !strings.Contains(msg, want) {
					t.Errorf("message lacks %q:\n%s", want, msg)
				}
			}
			var entries []string
			for _, l := range strings.Split(msg, "\n") {
				if strings.HasPrefix(l, "      - ") {
					entries = append(entries, strings.TrimSpace(l))
				}
			}
			if !reflect.DeepEqual(entries, tc.lines) || !reflect.DeepEqual(me.Lines(), tc.lines) {
				t.Errorf("volumes: entries %q (Lines %q), want %q:\n%s", entries, me.Lines(), tc.lines, msg)
			}
			if n := strings.Count(msg, "Compose in this container"); n != 1 {
				t.Errorf("the explanation appears %d times, want once:\n%s", n, msg)
			}
			// One sentence per volumes: entry, however many directories.
			said := 0
			for _, what := range []string{"mounted at another path", "is not mounted from the host", "not a bind mount"} {
				said += strings.Count(msg, what)
			}
			if said != len(tc.lines) {
				t.Errorf("%d wrong mounts described for %d volumes: entries:\n%s", said, len(tc.lines), msg)
			}
		})
	}
}

// TestMountErrorForgesNoLine: the message is printed as lines, so a line
// break in a directory's name is escaped, never a line of the fix.
func TestMountErrorForgesNoLine(t *testing.T) {
	s := selfOf(FakeContainer(idA, "app-rebuildd-1", "app", "rebuildd", "/home/me/a\n      - /etc\x1b[2J:/src"))
	err := s.CheckMounts([]Dir{{Path: "/src", What: "the project directory"}})
	if err == nil {
		t.Fatal("CheckMounts() = nil, want a wrong mount")
	}
	msg := err.Error()
	want := `      - /home/me/a\n      - /etc\x1b[2J:/home/me/a\n      - /etc\x1b[2J` + "\n"
	if !strings.Contains(msg, want) || strings.Count(msg, "\n      - ") != 1 || strings.Contains(msg, "\x1b") {
		t.Errorf("message forges a line or carries a control byte; want %q in:\n%s", want, msg)
	}
}

func TestCheckProject(t *testing.T) {
	s := selfOf(FakeContainer(idA, "app-rebuildd-1", "app", "rebuildd"))
	if err := s.CheckProject("app"); err != nil {
		t.Errorf("same project: %v", err)
	}
	err := s.CheckProject("rebuildd")
	var pe *ProjectError
	if !errors.As(err, &pe) || !strings.Contains(err.Error(), "COMPOSE_PROJECT_NAME: app") {
		t.Errorf("other project: %v, want a *ProjectError naming COMPOSE_PROJECT_NAME: app", err)
	}
	if err := selfOf(FakeContainer(idA, "runner", "", "")).CheckProject("app"); err != nil {
		t.Errorf("container not started by compose: %v", err)
	}
}
