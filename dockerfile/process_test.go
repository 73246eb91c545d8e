package dockerfile

import (
	"fmt"
	"testing"
)

// The image's process as BuildKit's dispatcher leaves it in the config:
// shell forms wrapped, ENTRYPOINT emptying an inherited CMD, stages built
// FROM stages, and what only the base image knows left unset.
func TestProcess(t *testing.T) {
	for _, tc := range []struct {
		name, df, target string
		want             string // fmt of ep/set, cmd/set, env, workdir/set
	}{
		{"image base, CMD only", "FROM node:20\nWORKDIR /app\nENV A=1\nCMD [\"node\", \"--watch\", \"s.js\"]\n", "",
			"ep=[] false cmd=[node --watch s.js] true env=[A=1] wd=/app true base=node:20"},
		{"nothing set: the base image's", "FROM nginx\nCOPY . /usr/share/nginx/html\n", "",
			"ep=[] false cmd=[] false env=[] wd= false base=nginx"},
		{"shell form and SHELL", "FROM alpine\nCMD httpd -f -h /www\nSHELL [\"/bin/ash\", \"-eo\", \"pipefail\", \"-c\"]\nENTRYPOINT exec x\n", "",
			"ep=[/bin/ash -eo pipefail -c exec x] true cmd=[/bin/sh -c httpd -f -h /www] true env=[] wd= false base=alpine"},
		{"ENTRYPOINT empties the CMD of an earlier stage", "FROM alpine AS a\nCMD [\"x\"]\nFROM a\nENTRYPOINT [\"y\"]\n", "",
			"ep=[y] true cmd=[] true env=[] wd= false base=alpine"},
		{"ENTRYPOINT keeps its own stage's CMD", "FROM alpine\nCMD [\"x\"]\nENTRYPOINT [\"y\"]\n", "",
			"ep=[y] true cmd=[x] true env=[] wd= false base=alpine"},
		{"scratch", "FROM scratch\nCOPY app /app\n", "",
			"ep=[] true cmd=[] true env=[] wd=/ true base=scratch"},
		{"ENV expanded, later wins", "FROM alpine\nARG V=2\nENV A=1 B=$V\nENV A=3\n", "",
			"ep=[] false cmd=[] false env=[B=2 A=3] wd= false base=alpine"},
		{"relative WORKDIR is the base image's", "FROM alpine\nWORKDIR app\n", "",
			"ep=[] false cmd=[] false env=[] wd= false base=alpine"},
		{"VOLUME, expanded", "FROM alpine\nARG D=/data\nVOLUME $D /logs\nVOLUME [\"/data\"]\n", "",
			"ep=[] false cmd=[] false env=[] wd= false base=alpine vol=[/data /logs]"},
		{"target leaves the dev stage's CMD out", "FROM node:20 AS base\nWORKDIR /app\nFROM base AS dev\nCMD [\"npm\", \"run\", \"dev\"]\nFROM base AS prod\nCMD [\"node\", \"s.js\"]\n", "dev",
			"ep=[] false cmd=[npm run dev] true env=[] wd=/app true base=node:20"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := syncModel(t, tc.df, nil, nil, tc.target)
			p := m.Process()
			got := fmt.Sprintf("ep=%v %v cmd=%v %v env=%v wd=%s %v base=%s", p.Entrypoint, p.EntrypointSet, p.Cmd, p.CmdSet, p.Env, p.Workdir, p.WorkdirSet, p.Base)
			if len(p.Volumes) > 0 {
				got += fmt.Sprintf(" vol=%v", p.Volumes)
			}
			if got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}
