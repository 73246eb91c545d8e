package e2e

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"
)

// These tests cover the rig's own logic and need no engine.

func TestComposeNaming(t *testing.T) {
	tests := []struct {
		c              Compose
		container, img string
	}{
		{Compose{Name: "v1"}, "proj_web_2", "proj_web"},
		{Compose{Name: "v2"}, "proj-web-2", "proj-web"},
	}
	for _, tt := range tests {
		if got := tt.c.ContainerName("proj", "web", 2); got != tt.container {
			t.Errorf("%s ContainerName = %q, want %q", tt.c.Name, got, tt.container)
		}
		if got := tt.c.ImageName("proj", "web"); got != tt.img {
			t.Errorf("%s ImageName = %q, want %q", tt.c.Name, got, tt.img)
		}
	}
}

func TestParseEvents(t *testing.T) {
	out := `{"status":"create","id":"abc","Type":"container","Action":"create","Actor":{"ID":"abc","Attributes":{"com.docker.compose.project":"p","com.docker.compose.service":"web","name":"p-web-1"}},"scope":"local","time":1,"timeNano":1700000000123456789}

{"Type":"image","Action":"tag","Actor":{"ID":"sha256:0123456789abcdef","Attributes":{"name":"p-web:latest"}},"timeNano":1700000001000000000}
{"Type":"container","Action":"restart","Actor":{"ID":"abc","Attributes":{"com.docker.compose.service":"web"}},"timeNano":1700000002000000000}
`
	es, err := parseEvents(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 3 {
		t.Fatalf("parsed %d events, want 3:\n%s", len(es), es)
	}
	if got := es[0].Time; !got.Equal(time.Unix(1700000000, 123456789)) {
		t.Errorf("time = %v, want nanosecond precision", got)
	}
	if es[0].Service() != "web" || es[1].Name() != "p-web:latest" {
		t.Errorf("attributes lost: %+v", es)
	}
	counts := []struct {
		name      string
		got, want int
	}{
		{"Creates(web)", es.Creates("web"), 1},
		{"Creates(db)", es.Creates("db"), 0},
		{"Creates(all)", es.Creates(""), 1},
		{"Tags", es.Tags(), 1},
		{"Restarts(web)", es.Restarts("web"), 1},
	}
	for _, c := range counts {
		if c.got != c.want {
			t.Errorf("%s = %d, want %d", c.name, c.got, c.want)
		}
	}
	if _, err := parseEvents("{not json\n"); err == nil {
		t.Error("a malformed line parsed without error")
	}
}

func TestProjectOwns(t *testing.T) {
	p := &Project{Name: "rbtest01"}
	tests := []struct {
		attrs map[string]string
		want  bool
	}{
		{map[string]string{"com.docker.compose.project": "rbtest01", "name": "0a1b_rbtest01-web-1"}, true},
		{map[string]string{"name": "rbtest01_web:latest"}, true},
		{map[string]string{"name": "rbtest01-web:latest"}, true},
		{map[string]string{"name": "rbtest02-web:latest"}, false},
		{map[string]string{"name": "rebuildd-test/busybox:latest"}, false},
		{map[string]string{"com.docker.compose.project": "other", "name": "other-web-1"}, false},
	}
	for _, tt := range tests {
		if got := p.owns(Event{Attributes: tt.attrs}); got != tt.want {
			t.Errorf("owns(%v) = %v, want %v", tt.attrs, got, tt.want)
		}
	}
}

func TestUnixNanoKeepsNanoseconds(t *testing.T) {
	if got := unixNano(time.Unix(1700000000, 5)); got != "1700000000.000000005" {
		t.Errorf("unixNano = %q", got)
	}
}

func TestTail(t *testing.T) {
	if got := tail("a\nb\nc\n", 2); got != "... (1 lines cut)\nb\nc" {
		t.Errorf("tail = %q", got)
	}
	if got := tail("a\nb", 5); got != "a\nb" {
		t.Errorf("tail of a short text = %q", got)
	}
}

func TestSkipOrFailIsStrictUnderE2E(t *testing.T) {
	for _, strict := range []string{"", "1"} {
		t.Setenv(StrictEnv, strict)
		rec := &recorder{TB: t}
		func() {
			defer func() { recover() }() // Skip and Fatal stop the goroutine; the recorder panics instead
			skipOrFail(rec, "no %s", "engine")
		}()
		wantFatal := strict == "1"
		if rec.fatal != wantFatal || rec.skipped == wantFatal {
			t.Errorf("%s=%q: fatal=%v skipped=%v, want fatal=%v", StrictEnv, strict, rec.fatal, rec.skipped, wantFatal)
		}
		if !strings.Contains(rec.msg, "no engine") {
			t.Errorf("message %q lost its reason", rec.msg)
		}
	}
}

// recorder captures Skip and Fatal instead of ending the test.
type recorder struct {
	testing.TB
	fatal, skipped bool
	msg            string
}

var errStop = errors.New("stopped")

func (r *recorder) Helper() {}
func (r *recorder) Fatalf(format string, args ...any) {
	r.fatal, r.msg = true, fmt.Sprintf(format, args...)
	panic(errStop)
}
func (r *recorder) Skip(args ...any) {
	r.skipped, r.msg = true, fmt.Sprint(args...)
	panic(errStop)
}

func TestCheckStaticRefusesDynamicBinaries(t *testing.T) {
	const dynamic = "/bin/ls" // Debian's coreutils link libc
	err := checkStatic(dynamic)
	if err == nil {
		t.Skipf("%s is statically linked here; no counter-example", dynamic)
	}
	if !strings.Contains(err.Error(), "apt-get install busybox-static") {
		t.Errorf("checkStatic(%s) = %v, want the apt-get hint", dynamic, err)
	}
}

func TestBusyboxRootfs(t *testing.T) {
	if err := checkStatic(BusyboxPath); err != nil {
		skipOrFail(t, "e2e: %v", err)
	}
	data, err := busyboxRootfs(BusyboxPath)
	if err != nil {
		t.Fatal(err)
	}
	entries := map[string]*tar.Header{}
	tr := tar.NewReader(bytes.NewReader(data))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		entries[h.Name] = h
	}
	for name, want := range map[string]byte{
		"bin/busybox": tar.TypeReg, "bin/sh": tar.TypeSymlink, "usr/sbin/httpd": tar.TypeSymlink,
		"etc/passwd": tar.TypeReg, "tmp/": tar.TypeDir, "www/": tar.TypeDir,
	} {
		h, ok := entries[name]
		if !ok || h.Typeflag != want {
			t.Errorf("rootfs entry %s: %+v, want type %c", name, h, want)
		}
	}
	if h := entries["tmp/"]; h != nil && h.Mode != 0o1777 {
		t.Errorf("tmp mode = %o, want 1777", h.Mode)
	}
	if h := entries["bin/sh"]; h != nil && h.Linkname != "/bin/busybox" {
		t.Errorf("bin/sh -> %q, want /bin/busybox", h.Linkname)
	}
}

func TestEventLogKeepsTheProjectsEventsAndReleasesBarriers(t *testing.T) {
	p := &Project{Name: "rbtest01"}
	l := &eventLog{owns: p.owns, ctrs: map[string]bool{}, waiters: map[string]chan struct{}{}}
	barrier := make(chan struct{})
	l.waiters["rbtest01-sync-1"] = barrier
	at := func(s int) time.Time { return time.Unix(1700000000+int64(s), 0) }
	for _, e := range []Event{
		{Type: "container", Action: "create", ID: "c1", Time: at(1),
			Attributes: map[string]string{"com.docker.compose.project": "rbtest01", "name": "rbtest01-web-1"}},
		{Type: "container", Action: "create", ID: "c2", Time: at(2),
			Attributes: map[string]string{"com.docker.compose.project": "other", "name": "other-web-1"}},
		{Type: "volume", Action: "mount", ID: strings.Repeat("ab", 32), Time: at(3), Attributes: map[string]string{"container": "c1"}},
		{Type: "volume", Action: "mount", ID: strings.Repeat("cd", 32), Time: at(4), Attributes: map[string]string{"container": "c2"}},
		{Type: "volume", Action: "destroy", ID: "rbtest01-sync-1", Time: at(5)},
	} {
		l.add(e)
	}
	select {
	case <-barrier:
	default:
		t.Error("the barrier volume's destroy event did not release its waiter")
	}
	got := l.since(at(0))
	if len(got) != 2 || got[0].ID != "c1" || got[1].Action != "mount" {
		t.Errorf("recorded:\n%s\nwant the project's container and its volume mount only", got)
	}
	if vs := anonymousVolumes(got); len(vs) != 1 || vs[0] != strings.Repeat("ab", 32) {
		t.Errorf("anonymousVolumes = %q", vs)
	}
	if n := len(l.since(at(2))); n != 1 {
		t.Errorf("since(t) kept %d events, want the 1 at or after t", n)
	}
}

func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		out, cause string
	}{
		{"Step 2/4 : COPY rootfs/ /\nunable to find image \"sha256:518fd4b2\"", "removed while a build used it"},
		{"Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?", "stopped answering"},
		{"write /var/lib/docker/tmp/x: no space left on device", "disk is full"},
		{"Error: No such image: rebuildd-test/busybox:t-0a1b2c", "base image was removed"},
		{"failed to export image: failed to set parent sha256:2677: unknown parent image ID sha256:2677", "removed while a build used it"},
		{"COPY failed: file not found in build context", ""},
	} {
		err := Classify(errors.New(tc.out))
		var env *EnvError
		if got := errors.As(err, &env); got != (tc.cause != "") {
			t.Errorf("Classify(%q) = %v, environment %v; want %v", tc.out, err, got, tc.cause != "")
			continue
		}
		if tc.cause != "" && (!strings.Contains(err.Error(), tc.cause) || !strings.Contains(err.Error(), "ENVIRONMENT")) {
			t.Errorf("Classify(%q) = %q, want it to say ENVIRONMENT and %q", tc.out, err, tc.cause)
		}
		if tc.cause != "" && !strings.Contains(Explain(tc.out), tc.cause) {
			t.Errorf("Explain(%q) = %q", tc.out, Explain(tc.out))
		}
	}
	if Classify(nil) != nil {
		t.Error("Classify(nil) != nil")
	}
	if !vanished(Classify(errors.New("unknown parent image ID sha256:ab"))) || !vanished(Classify(errors.New(`failed to get destination image "sha256:0e13": No such image: sha256:0e13`))) ||
		vanished(Classify(errors.New("no space left on device"))) {
		t.Error("vanished() does not single out an image removed under a build")
	}
}

func TestCreatedFrom(t *testing.T) {
	ev := func(image, id string) Event {
		return Event{Type: "container", Action: "create", Attributes: map[string]string{"image": image, "com.docker.compose.image": id}}
	}
	es := Events{
		ev("rbtest01-web", "sha256:aa"),
		ev("rbtest01-web", "sha256:aa"), // a recreate from the same image
		ev("rbtest01-docs:latest", "sha256:bb"),
		ev("busybox", "sha256:cc"), // not the project's image
		ev("rbtest01_web", ""),     // Compose v1 sets no such label
		{Type: "container", Action: "start", Attributes: map[string]string{"image": "rbtest01-web", "com.docker.compose.image": "sha256:dd"}},
	}
	if got := createdFrom(es, "rbtest01"); strings.Join(got, " ") != "sha256:aa sha256:bb" {
		t.Errorf("createdFrom = %q, want the project's two images once each", got)
	}
}

func TestBuildsDetectsBuildingCommands(t *testing.T) {
	for args, want := range map[string]bool{
		"up -d --build": true, "build": true, "run --rm web": true, "create": true,
		"down -v": false, "ps": false, "restart web": false, "logs": false,
	} {
		if got := builds(strings.Fields(args)); got != want {
			t.Errorf("builds(%q) = %v, want %v", args, got, want)
		}
	}
}
