package ignore

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

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
		data, ok, err := readFile(file)
		if err != nil {
			return nil, "", err
		}
		if !ok {
			continue
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

// MaxFileSize bounds the ignore files rebuildd reads. Every pattern is
// tried on every path of the context, so the cost grows with the file: a
// 256 KiB file of globs (about 14,000 patterns) takes about 2 s to load and
// a few ms per new directory, and a 1 MiB one 8 s and 27 ms (measured on
// the 2-core test machine under load). Real ignore files are a few
// hundred lines, tens of KiB at most; a larger one is almost surely the
// wrong file (or a hostile one), so it is bad input, not a slow start.
const MaxFileSize = 256 << 10

// readFile reads an ignore file; ok is false when it does not exist. It
// never reads more than MaxFileSize+1 bytes, and nothing that is not a
// regular file: /dev/zero or a FIFO linked as .dockerignore must neither
// fill memory nor hang. Errors are *inputerr.Error.
func readFile(file string) (data []byte, ok bool, err error) {
	// O_NONBLOCK: a FIFO named .dockerignore must not hang the open.
	f, err := os.OpenFile(file, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err == nil {
		defer f.Close()
		var fi fs.FileInfo
		if fi, err = f.Stat(); err == nil && !fi.Mode().IsRegular() {
			err = errors.New(inputerr.NotRegular(fi.Mode()))
		}
	}
	if err == nil {
		data, err = io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	}
	if err != nil {
		return nil, false, &inputerr.Error{File: file, Err: err,
			Msg: fmt.Sprintf("cannot read ignore file: %v; fix its permissions or remove it", err)}
	}
	if len(data) > MaxFileSize {
		return nil, false, &inputerr.Error{File: file, Msg: fmt.Sprintf(
			"ignore file is larger than %d KiB, the most rebuildd reads: an ignore file holds patterns, a few hundred lines at most; check that this is the right file, or shorten it", MaxFileSize>>10)}
	}
	return data, true, nil
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
	if errors.As(err, &pe) && errors.Is(err, ErrNotText) {
		return nil, &inputerr.Error{File: file, Line: patternLine(data, pe.Index), Err: err,
			Msg: fmt.Sprintf("%v; an ignore file must be text: fix the line (\"?\" matches one byte of a file name that is not UTF-8) or remove it", pe)}
	}
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
