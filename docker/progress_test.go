package docker

import (
	"bufio"
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// TestStepParserRecorded reads the steps from build output recorded on a
// real engine (testdata/progress/README.md), for each builder.
func TestStepParserRecorded(t *testing.T) {
	twoStages := []string{
		"[dev 1/5] FROM docker.io/rebuildd-test/busybox:latest",
		"[dev 2/5] WORKDIR /app",
		"[stage 0 3/4] COPY deps.txt ./",
		"[stage 0 4/4] RUN sleep 1 && cat deps.txt > installed.txt",
		"[dev 3/5] COPY --from=0 /app/installed.txt ./",
		`[dev 4/5] RUN echo "building $(cat installed.txt)" && sleep 1`,
		"[dev 5/5] COPY src/ ./src/",
		"exporting to image",
	}
	classic := func(total int) []string {
		steps := []string{
			"ARG BASE=rebuildd-test/busybox:latest", "FROM ${BASE}", "WORKDIR /app", "COPY deps.txt ./",
			"RUN sleep 1 && cat deps.txt > installed.txt", "FROM ${BASE} AS dev", "WORKDIR /app",
			"COPY --from=0 /app/installed.txt ./", `RUN echo "building $(cat installed.txt)" && sleep 1`,
			"COPY src/ ./src/", `CMD ["sleep", "3600"]`, "LABEL com.docker.compose.image.builder=classic",
		}[:total]
		for i := range steps {
			steps[i] = "[" + itoa(i+1) + "/" + itoa(total) + "] " + steps[i]
		}
		return steps
	}
	for _, tc := range []struct {
		file, service string
		want          []string
	}{
		{"buildkit-compose-v2.txt", "app", twoStages},
		{"buildkit-compose-v2-failed.txt", "app", []string{
			"[stage 0 1/4] FROM docker.io/rebuildd-test/busybox:latest",
			"[stage 0 2/4] WORKDIR /app",
			"[stage 0 3/4] COPY deps.txt ./",
			"[stage 0 4/4] RUN sleep 1 && cat deps.txt > installed.txt",
			"[dev 3/5] COPY --from=0 /app/installed.txt ./",
			`[dev 4/5] RUN echo boom && exit 3 && echo "building $(cat installed.txt)" && sleep 1`,
		}},
		{"buildkit-compose-v2-one-stage.txt", "api", []string{
			"[1/4] FROM docker.io/rebuildd-test/busybox:humanlog",
			"[2/4] COPY deps.txt /app/deps.txt",
			"[3/4] RUN sleep 1 && cp /app/deps.txt /app/installed.txt",
			"[4/4] COPY src/ /www/",
			"exporting to image",
		}},
		{"classic-compose-v1.txt", "app", classic(11)},
		{"classic-compose-v2.txt", "app", classic(12)},
	} {
		t.Run(tc.file, func(t *testing.T) {
			got := parseFile(t, tc.file, tc.service)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("steps:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

// The recorded failure of the classic builder stops at the failing step.
func TestStepParserClassicFailure(t *testing.T) {
	got := parseFile(t, "classic-compose-v1-failed.txt", "app")
	if last := got[len(got)-1]; !strings.HasPrefix(last, "[9/11] RUN echo boom") {
		t.Errorf("last step %q, want the failing RUN", last)
	}
}

func parseFile(t *testing.T, name, service string) []string {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "progress", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p := NewStepParser(service)
	var got []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if s, ok := p.Line(sc.Text()); ok {
			got = append(got, strings.TrimSpace(s.Label()+" "+s.Text))
		}
	}
	return got
}

func itoa(n int) string { return strconv.Itoa(n) }

// Lines that look like steps but are not: BuildKit's error summary
// repeats the failing step after " > ", a RUN's own output may print
// "Step 1/2 : " only at the start of a line it owns, and "[internal]"
// vertices have no number.
func TestStepParserRejects(t *testing.T) {
	p := NewStepParser("api")
	for _, l := range []string{
		` > [api dev 4/5] RUN exit 3:`,
		`#5 [api internal] load build context`,
		`#10 0.981 Step 1/2 : from the program's own output`,
		`api | #7 [api 3/4] RUN x`,
		``,
	} {
		if s, ok := p.Line(l); ok {
			t.Errorf("Line(%q) = %+v, want no step", l, s)
		}
	}
	if _, ok := p.Line("#7 [api 3/4] RUN x"); !ok {
		t.Fatal("a step line was not read")
	}
	if _, ok := p.Line("#7 [api 3/4] RUN x"); ok {
		t.Error("a vertex printed again was reported twice")
	}
}

// recorder is a Progress that keeps what it hears, in order.
type recorder struct{ events []string }

func (r *recorder) Begin(s string, ph Phase) { r.events = append(r.events, "begin "+s+" "+string(ph)) }
func (r *recorder) Step(s string, st Step) {
	r.events = append(r.events, "step "+s+" "+strings.TrimSpace(st.Label()+" "+st.Text))
}
func (r *recorder) End(s string) { r.events = append(r.events, "end "+s) }

// TestComposeProgress runs a stand-in compose that prints BuildKit lines
// split across writes, and checks Build and Up bracket their services and
// read the steps, while the output still reaches the caller's writer.
func TestComposeProgress(t *testing.T) {
	rec := &recorder{}
	script := `case "$1" in build) printf '#1 [api 1/2] FROM base\n#2 [api 2/'; printf '2] RUN make\n#2 DONE\n';; esac`
	c := &ComposeCLI{Command: []string{"sh", "-c", script, "sh"}, Progress: rec}
	w := NewPrefixWriter("api", nil)
	if err := c.Build(context.Background(), "api", w); err != nil {
		t.Fatal(err)
	}
	if err := c.Up(context.Background(), []string{"api", "web"}, false, nil); err != nil {
		t.Fatal(err)
	}
	want := []string{"begin api building", "step api [1/2] FROM base", "step api [2/2] RUN make", "end api",
		"begin api recreating", "begin web recreating", "end api", "end web"}
	if !reflect.DeepEqual(rec.events, want) {
		t.Errorf("events:\n%s\nwant:\n%s", strings.Join(rec.events, "\n"), strings.Join(want, "\n"))
	}
	if tail := w.Tail(); len(tail) != 3 || tail[1] != "#2 [api 2/2] RUN make" {
		t.Errorf("the output did not reach the caller's writer whole: %q", tail)
	}
}

// TestFailureLines keeps, of each recorded failure's last 30 lines, the
// failing step and what the builder said about it.
func TestFailureLines(t *testing.T) {
	for _, tc := range []struct {
		file        string
		first, last string
		n           int
	}{
		{"buildkit-compose-v2-failed.txt", `#10 [app dev 4/5] RUN echo boom && exit 3 && echo "building $(cat installed.txt)" && sleep 1`,
			"failed to solve: executor failed running [/bin/sh -c echo boom && exit 3 && echo \"building $(cat installed.txt)\" && sleep 1]: exit code: 3", 8},
		{"classic-compose-v1-failed.txt", `Step 9/11 : RUN echo boom && exit 3 && echo "building $(cat installed.txt)" && sleep 1`,
			"Service 'app' failed to build : The command '/bin/sh -c echo boom && exit 3 && echo \"building $(cat installed.txt)\" && sleep 1' returned a non-zero code: 3", 5},
	} {
		b, err := os.ReadFile(filepath.Join("testdata", "progress", tc.file))
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
		if len(lines) > 30 {
			lines = lines[len(lines)-30:] // what PrefixWriter keeps
		}
		got := FailureLines(lines)
		if len(got) != tc.n || got[0] != tc.first || got[len(got)-1] != tc.last {
			t.Errorf("%s: %d lines\n%s\nwant %d, from %q to %q", tc.file, len(got), strings.Join(got, "\n"), tc.n, tc.first, tc.last)
		}
	}
	if got := FailureLines([]string{"", "exit status 1", ""}); !reflect.DeepEqual(got, []string{"exit status 1"}) {
		t.Errorf("no step in the lines: %q", got)
	}
}
