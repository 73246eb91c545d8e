package ignore

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/moby/patternmatcher/ignorefile"

	"github.com/rebuildd/rebuildd/config/inputerr"
)

// Load finds the ignore file Docker would use for a build and reads it:
// <dockerfile>.dockerignore beside the Dockerfile when it exists (BuildKit's
// per-Dockerfile ignore file), else <context>/.dockerignore. It returns the
// matcher and the absolute path of the file used ("" when none exists; the
// matcher then excludes nothing). dockerfile may be "" (dockerfile_inline);
// a relative dockerfile is taken relative to context, as compose does.
//
// Bad input (unreadable file, bad pattern) is a *inputerr.Error naming the
// file and, for a bad pattern, its line.
func Load(context, dockerfile string) (*Matcher, string, error) {
	for _, file := range Candidates(context, dockerfile) {
		data, err := os.ReadFile(file)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, "", &inputerr.Error{File: file, Err: err,
				Msg: fmt.Sprintf("cannot read ignore file: %v; fix its permissions or remove it", err)}
		}
		m, err := Parse(data, file)
		if err != nil {
			return nil, "", err
		}
		return m, file, nil
	}
	m, _ := New(nil)
	return m, "", nil
}

// Candidates returns the ignore files Docker looks for, in order of
// precedence, as absolute paths. The watcher watches all of them: creating
// <dockerfile>.dockerignore changes which file applies.
func Candidates(context, dockerfile string) []string {
	context, _ = filepath.Abs(context)
	var out []string
	if dockerfile != "" {
		if !filepath.IsAbs(dockerfile) {
			dockerfile = filepath.Join(context, dockerfile)
		}
		out = append(out, filepath.Clean(dockerfile)+".dockerignore")
	}
	return append(out, filepath.Join(context, ".dockerignore"))
}

// Parse reads ignore-file content exactly as Docker does (ignorefile.ReadAll)
// and builds a matcher. file names the content in errors.
func Parse(data []byte, file string) (*Matcher, error) {
	patterns, err := ignorefile.ReadAll(bytes.NewReader(data))
	if err != nil {
		return nil, &inputerr.Error{File: file, Err: err,
			Msg: fmt.Sprintf("cannot read ignore file: %v", err)}
	}
	m, err := New(patterns)
	var pe *PatternError
	if errors.As(err, &pe) {
		return nil, &inputerr.Error{File: file, Line: patternLine(data, pe.Index), Err: err,
			Msg: fmt.Sprintf("%v; fix the pattern (write \\[ for a literal bracket) or remove the line", pe)}
	}
	if err != nil {
		return nil, &inputerr.Error{File: file, Err: err, Msg: err.Error()}
	}
	return m, nil
}

// patternLine returns the 1-based line of the index-th pattern ReadAll
// returned from data, applying ReadAll's own rules for which lines yield a
// pattern (BOM on the first line, "#" comments, blank lines).
func patternLine(data []byte, index int) int {
	sc := bufio.NewScanner(bytes.NewReader(data))
	line, n := 0, 0
	for sc.Scan() {
		text := sc.Bytes()
		if line == 0 {
			text = bytes.TrimPrefix(text, []byte{0xEF, 0xBB, 0xBF})
		}
		line++
		if bytes.HasPrefix(text, []byte("#")) || strings.TrimSpace(string(text)) == "" {
			continue
		}
		if n == index {
			return line
		}
		n++
	}
	return 0
}
