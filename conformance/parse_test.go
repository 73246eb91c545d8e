package conformance

import (
	"maps"
	"slices"
	"testing"

	"github.com/rebuildd/rebuildd/dockerfile"
)

// parseDockerfile is the Dockerfile the recorded outputs below were built
// from (Docker 20.10.24, Compose v2.40.3 with COMPOSE_BAKE=false), trimmed
// to the lines the parsers read.
const parseDockerfile = `FROM rebuildd-test/busybox:latest AS s0
COPY src /w1/
ARG F2=README.md
RUN echo 3 > /r3
FROM s0
COPY --from=0 /w1/ /f4/
COPY ${F2} /a5/
`

// legacyOut is the legacy builder's output after src/a.go changed.
const legacyOut = `Sending build context to Docker daemon  4.608kB
Step 1/7 : FROM rebuildd-test/busybox:latest AS s0
 ---> 5545c48e1ceb
Step 2/7 : COPY src /w1/
 ---> d84564fc7106
Step 3/7 : ARG F2=README.md
 ---> Running in c52412a29da3
Removing intermediate container c52412a29da3
 ---> 8e506f99509d
Step 4/7 : RUN echo 3 > /r3
 ---> Running in 1808cc40978e
Removing intermediate container 1808cc40978e
 ---> cc69f80c1ce1
Step 5/7 : FROM s0
 ---> cc69f80c1ce1
Step 6/7 : COPY --from=0 /w1/ /f4/
 ---> 0e76fbfd7820
Step 7/7 : COPY ${F2} /a5/
 ---> Using cache
 ---> 5d3b820f1d7c
Successfully built 5d3b820f1d7c
`

// buildkitOut is Compose v2's plain progress of a build of the same file
// (BuildKit found the first and last steps in its cache).
const buildkitOut = `#0 building with "default" instance using docker driver

#1 [web internal] load .dockerignore
#1 transferring context: 2B 0.0s done
#1 DONE 0.2s

#4 [web s0 1/3] FROM docker.io/rebuildd-test/busybox:latest
#4 CACHED

#5 [web internal] load build context
#5 DONE 0.2s

#6 [web s0 2/3] COPY src /w1/
#6 DONE 0.4s

#7 [web s0 3/3] RUN echo 3 > /r3
#7 DONE 6.4s

#8 [web stage-1 1/2] COPY --from=0 /w1/ /f4/
#8 DONE 1.1s

#9 [web stage-1 2/2] COPY README.md /a5/
#9 CACHED

#10 [web] exporting to image
#10 DONE 2.4s
`

func TestRerunParsers(t *testing.T) {
	ins, err := instructions(parseDockerfile)
	if err != nil {
		t.Fatal(err)
	}
	st := newStages(ins)
	tests := []struct {
		name string
		got  func() (map[int]bool, error)
		want []int
	}{
		{"legacy", func() (map[int]bool, error) { return legacyReruns(legacyOut, ins) }, []int{2, 3, 4, 6}},
		{"buildkit", func() (map[int]bool, error) { return buildkitReruns(buildkitOut, st) }, []int{2, 4, 6}},
		{"buildkit single stage", func() (map[int]bool, error) {
			one, _ := instructions("FROM x\nCOPY a /w1/\nRUN echo 2 > /r2\n")
			return buildkitReruns("#3 [j0 1/3] FROM x\n#3 CACHED\n#4 [j0 2/3] COPY a /w1/\n#4 DONE 0.1s\n#5 [j0 3/3] RUN echo 2 > /r2\n#5 CACHED\n", newStages(one))
		}, []int{2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.got()
			if err != nil {
				t.Fatal(err)
			}
			if lines := slices.Sorted(maps.Keys(got)); !slices.Equal(lines, tt.want) {
				t.Errorf("re-run lines = %v, want %v", lines, tt.want)
			}
		})
	}
}

// TestBuildKitUnknownStepFails: a step that matches no instruction is an
// error, never a silent wrong line.
func TestBuildKitUnknownStepFails(t *testing.T) {
	ins, _ := instructions(parseDockerfile)
	if _, err := buildkitReruns("#6 [web s0 2/3] COPY src /w9/\n#6 DONE 0.1s\n", newStages(ins)); err == nil {
		t.Error("buildkitReruns accepted a step /w9/ the Dockerfile does not have")
	}
}

func TestStagesFollows(t *testing.T) {
	ins, _ := instructions(parseDockerfile)
	st := newStages(ins)
	tests := []struct {
		line  int
		rerun []int
		want  bool
	}{
		{4, []int{2, 4}, true}, // after a re-run step in its stage
		{2, []int{2}, false},   // the first step: nothing explains it
		{6, []int{4, 6}, true}, // COPY --from=0 of a re-run stage (and FROM s0)
		{7, []int{7}, false},   // stage 1 builds on s0, which did not re-run
		{7, []int{2, 7}, true}, // FROM s0, s0 re-ran
	}
	for _, tt := range tests {
		rerun := map[int]bool{}
		for _, l := range tt.rerun {
			rerun[l] = true
		}
		if got := st.follows(tt.line, rerun); got != tt.want {
			t.Errorf("follows(%d, %v) = %v, want %v", tt.line, tt.rerun, got, tt.want)
		}
	}
}

// TestCheckReruns feeds checkReruns the model's answer for parseDockerfile
// and re-run sets a builder could report, right and wrong.
func TestCheckReruns(t *testing.T) {
	an, err := dockerfile.Analyze([]byte(parseDockerfile), "Dockerfile", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	ins, _ := instructions(parseDockerfile)
	st := newStages(ins)
	var copySrc, copyF *dockerfile.Input
	for _, in := range an.Inputs {
		switch in.Line {
		case 2:
			copySrc = in
		case 7:
			copyF = in
		}
	}
	if copySrc == nil || copyF == nil {
		t.Fatalf("inputs %v: want COPY at lines 2 and 7", an.Inputs)
	}
	deps := dockerfile.Result{Impact: dockerfile.ImpactDeps, Input: copySrc}
	tests := []struct {
		name     string
		res      dockerfile.Result
		rel      string
		rerun    []int
		problems int
	}{
		// line 7 follows FROM s0, whose RUN re-ran: Docker re-runs it
		{"deps read and re-run as said", deps, "src/a.go", []int{2, 4, 6, 7}, 0},
		// line 2 cached: it did not re-run, it is not first, 4 is
		// unexplained, and no context input re-ran after the RUN
		{"reader kept cached", deps, "src/a.go", []int{4, 6}, 4},
		// the RUN re-ran but line 7 after it did not: no sign of deps
		{"deps without a context input after the RUN", deps, "src/a.go", []int{2, 4, 6}, 1},
		// line 2 reads only src: Docker re-running it for README.md is a
		// reader rebuildd missed (first re-run, unexplained)
		{"stray re-run", dockerfile.Result{Impact: dockerfile.ImpactSource, Input: copyF}, "README.md", []int{2, 7}, 2},
		{"nothing re-ran", deps, "src/a.go", nil, 2},
		{"unused and nothing ran", dockerfile.Result{Impact: dockerfile.ImpactUnused}, "other", nil, 0},
		{"unused but Docker re-ran", dockerfile.Result{Impact: dockerfile.ImpactUnused}, "other", []int{7}, 1},
		{"ignored but Docker re-ran", dockerfile.Result{Impact: dockerfile.ImpactIgnored}, "x", []int{2}, 1},
		// and, being source, it has no RUN after it while Docker re-ran one
		{"deciding input does not read it", dockerfile.Result{Impact: dockerfile.ImpactSource, Input: copyF}, "src/a.go", []int{2, 4, 6}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rerun := map[int]bool{}
			for _, l := range tt.rerun {
				rerun[l] = true
			}
			if got := checkReruns(an, st, tt.res, tt.rel, rerun); len(got) != tt.problems {
				t.Errorf("problems = %q, want %d", got, tt.problems)
			}
		})
	}
}

// TestBuildKitNumberingIgnored: the step numbers and stage labels BuildKit
// prints are not trusted (no label when the target builds alone, ARGs
// counted in some stages only): the marker decides.
func TestBuildKitNumberingIgnored(t *testing.T) {
	ins, _ := instructions("FROM x AS s0\nRUN echo 1 > /r1\nARG F2=a\nCOPY ${F2} /a2/\nFROM s0 AS s1\nCOPY c /w3/\n")
	out := "#4 [j0 1/4] FROM docker.io/library/x\n#5 [j0 2/4] RUN echo 1 > /r1\n#5 CACHED\n#6 [j0 4/4] COPY a /a2/\n#6 DONE 0.1s\n"
	got, err := buildkitReruns(out, newStages(ins))
	if err != nil {
		t.Fatal(err)
	}
	if !got[4] || len(got) != 1 {
		t.Errorf("re-run lines = %v, want line 4 only", got)
	}
}

// crossDockerfile reads stage s0 through RUN --mount=from and s1 through
// COPY --from, as dfGen's cross-stage cases do.
const crossDockerfile = `FROM x AS s0
COPY a /o/w1/
RUN mkdir -p /o && cat /proc/sys/kernel/random/uuid > /o/r2
FROM x AS s1
RUN --mount=type=bind,from=s0,source=/o,target=/m3 mkdir -p /o && cat /proc/sys/kernel/random/uuid > /o/b3
COPY b /o/w4/
FROM x
COPY --from=s1 /o/ /o/f5/
RUN --mount=type=bind,target=/m6 mkdir -p /o && cat /proc/sys/kernel/random/uuid > /o/b6
`

// TestStagesAfter: the oracle's own "follows" crosses stages through
// RUN --mount=from and COPY --from, and only forwards.
func TestStagesAfter(t *testing.T) {
	ins, err := instructions(crossDockerfile)
	if err != nil {
		t.Fatal(err)
	}
	st := newStages(ins)
	if in := st.byLine[5]; len(in.mountFrom) != 1 || in.ctxMount || !st.byLine[9].ctxMount {
		t.Fatalf("mounts read wrong: line 5 %+v, line 9 %+v", in, st.byLine[9])
	}
	tests := []struct {
		x, y int
		want bool
	}{
		{3, 2, true}, {2, 3, false}, // in a stage
		{5, 2, true}, {6, 3, true}, // RUN --mount=from=s0 and what follows it
		{8, 2, true}, {9, 6, true}, // COPY --from=s1, which s0 flows into
		{5, 6, false}, {2, 8, false},
	}
	for _, tt := range tests {
		if got := st.after(tt.x, tt.y); got != tt.want {
			t.Errorf("after(%d, %d) = %v, want %v", tt.x, tt.y, got, tt.want)
		}
	}
}

// TestCheckLayer: the model's answers for crossDockerfile pass against
// the re-runs Docker makes, and a wrong layer or RUN after is caught.
func TestCheckLayer(t *testing.T) {
	m := crossModel(t)
	ins, _ := instructions(crossDockerfile)
	st := newStages(ins)
	set := func(lines ...int) map[int]bool {
		out := map[int]bool{}
		for _, l := range lines {
			out[l] = true
		}
		return out
	}
	a, b := m.Classify("/c/a"), m.Classify("/c/b")
	if a.Impact != dockerfile.ImpactDeps || b.Impact != dockerfile.ImpactSource || b.Input.RunAfter == nil || b.Input.RunAfter.Line != 9 {
		t.Fatalf("model: a %+v, b %+v (RUN after %v)", a, b, b.Input.RunAfter)
	}
	wrongA := a
	wrongA.Impact = dockerfile.ImpactSource
	noRun := *b.Input
	noRun.RunAfter = nil
	tests := []struct {
		name     string
		res      dockerfile.Result
		rerun    map[int]bool
		problems int
	}{
		{"deps through RUN --mount=from", a, set(2, 3, 5, 6, 8, 9), 0},
		{"source with a RUN after through COPY --from", b, set(6, 8, 9), 0},
		{"says source where Docker shows deps", wrongA, set(2, 3, 5, 6, 8, 9), 1},
		{"misses the RUN after", dockerfile.Result{Impact: dockerfile.ImpactSource, Input: &noRun}, set(6, 8, 9), 1},
		{"deps but nothing after the RUN re-ran", a, set(2, 3), 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := checkLayer(st, tt.res, tt.rerun); len(got) != tt.problems {
				t.Errorf("problems = %q, want %d", got, tt.problems)
			}
		})
	}
}

func crossModel(t *testing.T) *dockerfile.Model {
	t.Helper()
	an, err := dockerfile.Analyze([]byte(crossDockerfile), "Dockerfile", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	return dockerfile.NewModel(dockerfile.Parts{Context: "/c", Dockerfile: "/c/Dockerfile", Analysis: an})
}
