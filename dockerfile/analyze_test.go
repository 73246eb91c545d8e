package dockerfile

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/rebuildd/rebuildd/config"
)

// inputSummary is an input in one comparable line:
// "L3 COPY [go.mod go.sum] deps@4 after@4".
func inputSummary(in *Input) string {
	s := fmt.Sprintf("L%d %s %v %s", in.Line, in.Kind, in.Sources, in.Layer)
	if in.DepsRun != nil {
		s += fmt.Sprintf("@%d", in.DepsRun.Line)
	}
	if in.RunAfter != nil {
		s += fmt.Sprintf(" after@%d", in.RunAfter.Line)
	}
	if len(in.Excludes) > 0 {
		s += fmt.Sprintf(" excl%v", in.Excludes)
	}
	return s
}

func stageNames(an *Analysis) string {
	var out []string
	for _, s := range an.Stages {
		n := s.Name
		if n == "" {
			n = fmt.Sprint(s.Index)
		}
		out = append(out, n)
	}
	return strings.Join(out, ",")
}

func TestAnalyzeShapes(t *testing.T) {
	tests := []struct {
		name, src, target string
		args              map[string]string
		stages            string
		inputs            []string
	}{{
		name: "go modules with cache mounts",
		src: `FROM golang:1.22 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
RUN --mount=type=cache,target=/root/.cache/go-build go build -o /out/app ./cmd/app
FROM gcr.io/distroless/static
COPY --from=build /out/app /app
`,
		stages: "build,1",
		inputs: []string{"L3 COPY [go.mod go.sum] deps@4 after@4", "L5 COPY [.] source after@6"},
	}, {
		name: "python bind-mounted requirements",
		src: `FROM python:3.12
WORKDIR /app
RUN --mount=type=bind,source=requirements.txt,target=/tmp/r.txt pip install -r /tmp/r.txt
COPY . .
CMD ["python", "app.py"]
`,
		stages: "0",
		inputs: []string{"L3 RUN [requirements.txt] deps@3 after@3", "L4 COPY [.] source"},
	}, {
		name: "bind without source is the whole context",
		src: `FROM golang
RUN --mount=target=/src go build /src
`,
		stages: "0",
		inputs: []string{"L2 RUN [.] source after@2"},
	}, {
		name:   "globs",
		src:    "FROM node\nCOPY *.json ./\nRUN npm ci\nCOPY src/**/*.ts ./src/\n",
		stages: "0",
		inputs: []string{"L2 COPY [*.json] deps@3 after@3", "L4 COPY [src/**/*.ts] source"},
	}, {
		name:   "ARG defaults, meta ARGs and ENV",
		src:    "ARG APP=web\nFROM alpine\nARG APP\nARG DIR=apps/${APP}\nENV CONF=conf.d\nCOPY ${DIR}/ /srv/\nCOPY $CONF /etc/\n",
		stages: "0",
		inputs: []string{"L6 COPY [apps/web] source", "L7 COPY [conf.d] source"},
	}, {
		name:   "compose args override ARG defaults",
		src:    "ARG APP=web\nFROM alpine\nARG APP\nARG DIR=apps/${APP}\nCOPY ${DIR} /srv/\n",
		args:   map[string]string{"APP": "api"},
		stages: "0",
		inputs: []string{"L5 COPY [apps/api] source"},
	}, {
		name:   "meta ARG in FROM picks a stage",
		src:    "ARG BASE=deps\nFROM alpine AS deps\nCOPY lock ./\nRUN install\nFROM alpine AS other\nCOPY other ./\nFROM ${BASE}\nCOPY . .\n",
		stages: "deps,2",
		inputs: []string{"L3 COPY [lock] deps@4 after@4", "L8 COPY [.] source"},
	}, {
		name:   "COPY --from=<index>",
		src:    "FROM alpine\nCOPY assets /assets\nRUN gzip -r /assets\nFROM nginx\nCOPY --from=0 /assets /usr/share/nginx/html\n",
		stages: "0,1",
		inputs: []string{"L2 COPY [assets] source after@3"},
	}, {
		name:   "FROM base AS builder stacks layers",
		src:    "FROM node AS base\nCOPY package.json ./\nRUN npm ci\nFROM base AS dev\nCOPY . .\n",
		stages: "base,dev",
		inputs: []string{"L2 COPY [package.json] deps@3 after@3", "L5 COPY [.] source"},
	}, {
		name:   "base alone: nothing follows the RUN",
		src:    "FROM node AS base\nCOPY package.json ./\nRUN npm ci\nFROM base AS dev\nCOPY . .\n",
		target: "base",
		stages: "base",
		inputs: []string{"L2 COPY [package.json] source after@3"},
	}, {
		name:   "heredocs, URLs and git refs are not context inputs",
		src:    "FROM alpine\nCOPY <<EOF /etc/motd\nhello\nEOF\nADD https://example.com/x.tgz /x\nADD git@github.com:moby/buildkit.git /bk\nADD https://github.com/moby/buildkit.git#v0.1 /bk2\nCOPY <<EOF real.txt /r/\nhi\nEOF\nRUN <<EOF\necho hi\nEOF\n",
		stages: "0",
		inputs: []string{"L8 COPY [real.txt] source after@11"},
	}, {
		name:   "--exclude",
		src:    "FROM alpine\nCOPY --exclude=*.md --exclude=docs/ . /app\n",
		stages: "0",
		inputs: []string{"L2 COPY [.] source excl[*.md docs]"},
	}, {
		name:   "RUN --mount=from brings a stage in and runs after it",
		src:    "FROM alpine AS assets\nCOPY web/ /web\nFROM alpine AS unused\nCOPY nothing /\nFROM alpine\nRUN --mount=from=assets,source=/web,target=/w cp -r /w /srv\n",
		stages: "assets,2",
		inputs: []string{"L2 COPY [web] source after@6"},
	}, {
		name:   "a RUN before COPY --from does not run after the copied stage",
		src:    "FROM alpine AS a\nCOPY x /x\nFROM alpine\nRUN apk add y\nCOPY --from=a /x /x\n",
		stages: "a,1",
		inputs: []string{"L2 COPY [x] source"},
	}, {
		name:   "sources are cleaned and context-relative",
		src:    "FROM alpine\nCOPY /etc/../conf/ ./a/../b ../../c /dst/\nCOPY --parents ./pkg/./x/y.go /dst/\n",
		stages: "0",
		inputs: []string{"L2 COPY [conf b c] source", "L3 COPY [pkg/x/y.go] source"},
	}, {
		name:   "COPY --from an image is not a stage",
		src:    "FROM alpine\nCOPY --from=busybox:latest /bin/sh /sh\nCOPY app /app\n",
		stages: "0",
		inputs: []string{"L3 COPY [app] source"},
	}, {
		// docs/design.md, "Layer of an input": a COPY --from is no context
		// input, so it does not make the RUN before it a deps RUN.
		name:   "a COPY --from after the RUN leaves it source",
		src:    "FROM node AS build\nCOPY . .\nRUN npm run build\nFROM node\nCOPY package.json ./\nRUN npm ci\nCOPY --from=build /dist ./dist\n",
		stages: "build,1",
		inputs: []string{"L2 COPY [.] source after@3", "L5 COPY [package.json] source after@6"},
	}, {
		name:   "ONBUILD triggers of a base stage run in the stage built FROM it",
		src:    "FROM alpine AS base\nONBUILD COPY . /app\nONBUILD RUN make\nFROM base\nCOPY extra /x\n",
		stages: "base,1",
		inputs: []string{"L4 COPY [.] deps@4 after@4", "L5 COPY [extra] source"},
	}, {
		// BuildKit's lexer reads a byte that is not UTF-8 as U+FFFD (and
		// says so on stderr, which rebuildd must not): such a name never
		// matches the file.
		name:   "bytes that are not UTF-8 are read as U+FFFD",
		src:    "FROM alpine\nCOPY caf\xe9 /x\n",
		stages: "0",
		inputs: []string{"L2 COPY [caf\uFFFD] source"},
	}, {
		name:   "ONBUILD triggers do not run in their own stage",
		src:    "FROM alpine AS base\nONBUILD COPY . /app\nFROM base\n",
		target: "base",
		stages: "base",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			an, err := Analyze([]byte(tt.src), "Dockerfile", tt.target, tt.args)
			if err != nil {
				t.Fatal(err)
			}
			if got := stageNames(an); got != tt.stages {
				t.Errorf("stages %q, want %q", got, tt.stages)
			}
			var got []string
			for _, in := range an.Inputs {
				got = append(got, inputSummary(in))
			}
			if strings.Join(got, "\n") != strings.Join(tt.inputs, "\n") {
				t.Errorf("inputs:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(tt.inputs, "\n  "))
			}
		})
	}
}

func TestAnalyzeErrors(t *testing.T) {
	tests := []struct {
		name, src, target string
		line              int
		msg               string
	}{
		{"unknown target", "FROM alpine AS a\nFROM alpine AS b\n", "x", 0, `target stage "x" not found; stages are: a, b`},
		{"unknown instruction", "FROM alpine\nFORM x\n", "", 2, "unknown instruction: FORM"},
		{"no FROM", "ARG X=1\n", "", 0, "no FROM instruction"},
		{"instruction before FROM", "RUN echo\nFROM alpine\n", "", 1, "before the first FROM"},
		{"COPY without destination", "FROM alpine\nCOPY onlyone\n", "", 2, "COPY requires at least two arguments"},
		{"bad stage index", "FROM alpine\nCOPY --from=3 /x /x\n", "", 2, "no stage 3"},
		{"unterminated heredoc", "FROM alpine\nRUN <<EOF\necho\n", "", 2, "unterminated heredoc"},
		{"empty FROM after expansion", "ARG B\nFROM ${B}\n", "", 2, "base name is empty"},
		{"bad mount", "FROM alpine\nRUN --mount=type=nope echo\n", "", 2, "unsupported mount type"},
		{"required variable", "FROM alpine\nCOPY ${X:?needed} /x\n", "", 2, "needed"},
		{"empty file", "", "", 0, "file with no instructions"},
		{"NUL byte", "FROM alpine\nRUN a\x00b\n", "", 2, "NUL byte: a Dockerfile is text"},
		{"too large", "FROM alpine\n" + strings.Repeat("#", MaxSize), "", 0, "larger than 8 MiB"},
		{"expansion doubles every line", "FROM a\nARG A=xx\n" + strings.Repeat("ARG A=${A}${A}\n", 40), "", 23, "expansions add up to more than 4 MiB"},
		{"ONBUILD triggers times stages", "FROM a AS b\n" + strings.Repeat("ONBUILD RUN x\n", 1000) + strings.Repeat("FROM b\n", 100), "", 1067, "more than 65536 instructions"},
		{"stage reads itself", "FROM alpine AS a\nCOPY --from=a /x /x\n", "", 2, "circular dependency detected on stage a: stage a reads it here"},
		// BuildKit allows COPY --from a later stage, but not a cycle; the
		// message names a reading on the cycle, not stage c that only
		// feeds it.
		{"cycle of stages", "FROM alpine AS c\nFROM alpine AS a\nCOPY --from=c /c /c\nCOPY --from=b /x /x\nFROM a AS b\nFROM b\n", "", 5, "circular dependency detected on stage a: stage b reads it here, and stage a is built from stage b's result"},
		{"bad ONBUILD trigger", "FROM alpine AS b\nONBUILD COPY onlyone\nFROM b\n", "", 3, `ONBUILD "COPY onlyone" of stage b`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Analyze([]byte(tt.src), "/p/Dockerfile", tt.target, nil)
			var ie *config.InputError
			if !errors.As(err, &ie) {
				t.Fatalf("error %v (%T), want *config.InputError", err, err)
			}
			if ie.File != "/p/Dockerfile" || ie.Line != tt.line || !strings.Contains(ie.Msg, tt.msg) {
				t.Errorf("got file %q line %d msg %q; want /p/Dockerfile line %d containing %q", ie.File, ie.Line, ie.Msg, tt.line, tt.msg)
			}
		})
	}
}

func TestAnalyzeSyntaxAndStmts(t *testing.T) {
	src := "# syntax=docker/dockerfile:1.7\nFROM golang AS b\nRUN --mount=type=cache,target=/go/pkg/mod --mount=type=bind,source=go.mod,target=go.mod go mod download\nFROM scratch\nCOPY --from=b /x /x\n"
	an, err := Analyze([]byte(src), "Dockerfile", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if an.Syntax != "docker/dockerfile:1.7" {
		t.Errorf("syntax %q", an.Syntax)
	}
	if an.Target != "1" || strings.Join(an.Names, ",") != "b" {
		t.Errorf("target %q names %v", an.Target, an.Names)
	}
	if len(an.Stmts) != 2 || an.Stmts[0].Cmd != "RUN" || an.Stmts[1].From != "b" {
		t.Fatalf("stmts %+v", an.Stmts)
	}
	want := []Mount{{Type: "cache", Target: "/go/pkg/mod"}, {Type: "bind", Source: "go.mod", Target: "go.mod"}}
	if fmt.Sprint(an.Stmts[0].Mounts) != fmt.Sprint(want) {
		t.Errorf("mounts %+v, want %+v", an.Stmts[0].Mounts, want)
	}
}
