package dockerfile

import (
	"bytes"
	"fmt"
	"strings"
	"unicode/utf8"
)

// env is an ordered set of variables, the shell.EnvGetter that BuildKit's
// word expansion reads ARG and ENV values from. Changes are logged so a
// stage's can be undone (expandChain).
type env struct {
	m    map[string]string
	keys []string
	log  []change
}

// change is one set: the key and what it held before.
type change struct {
	key, old string
	existed  bool
}

func newEnv() *env { return &env{m: map[string]string{}} }

func (e *env) Get(k string) (string, bool) { v, ok := e.m[k]; return v, ok }
func (e *env) Keys() []string              { return e.keys }

func (e *env) set(k, v string) {
	old, ok := e.m[k]
	if !ok {
		e.keys = append(e.keys, k)
	}
	e.log = append(e.log, change{k, old, ok})
	e.m[k] = v
}

// mark is a point undo can go back to.
func (e *env) mark() int { return len(e.log) }

// undo reverts every set since mark, latest first, so keys added since
// leave keys in the order they came.
func (e *env) undo(mark int) {
	for i := len(e.log) - 1; i >= mark; i-- {
		c := e.log[i]
		if c.existed {
			e.m[c.key] = c.old
			continue
		}
		delete(e.m, c.key)
		e.keys = e.keys[:len(e.keys)-1]
	}
	e.log = e.log[:mark]
}

// expandBudget bounds what ARG and ENV expansion may produce over a
// Dockerfile of size n. Each expansion is linear, but values can double
// per line (ARG A=${A}${A}) or grow per line (ARG A=${A}x): 40 lines would
// ask for a terabyte. A real Dockerfile's expansions are about as long as
// the words they replace: 4 MiB plus twice the file is far past that, and
// about a second of the lexer's work at most (it splits every byte of a
// result into words too).
func expandBudget(n int) int { return 4<<20 + 2*n }

// expandWord is BuildKit's word expansion (shell.Lex.ProcessWord) of w
// with e. A word without variables, quotes, heredocs or escapes is
// returned as it is, which is what the lexer would return, without the
// lexer's cost (BenchmarkAnalyzeHuge). Expansion past the budget is an
// error. (Analyze has made the text UTF-8 without NUL: see textOf.)
func (a *analyzer) expandWord(w string, e *env) (string, error) {
	if a.plainWord(w) {
		return w, nil
	}
	v, _, err := a.lex.ProcessWord(w, e)
	if err != nil {
		return "", err
	}
	if a.expanded += len(v); a.expanded > a.budget {
		return "", fmt.Errorf("ARG and ENV expansions add up to more than %d MiB here; a Dockerfile whose variables grow with every line is not one rebuildd can analyse", a.budget>>20)
	}
	return v, nil
}

// plainWord reports whether BuildKit's word expansion leaves w as it is:
// no variable, quote, heredoc or escape character in it.
func (a *analyzer) plainWord(w string) bool {
	for i := 0; i < len(w); i++ {
		switch c := w[i]; c {
		case '$', '\'', '"', '<':
			return false
		default:
			if rune(c) == a.escape {
				return false
			}
		}
	}
	return true
}

// textOf returns src as BuildKit's lexer reads it, without the lexer's
// noise: text/scanner turns each byte that is not UTF-8 into U+FFFD (so
// such a byte never reaches a path) and prints a line to the process's
// stderr for it, and for a NUL (issue 17: nothing may write there). The
// bytes are replaced here, the same way, before BuildKit's parser sees
// them; a NUL, which no path can hold and only a binary file has, is an
// error naming its line.
func textOf(src []byte, file string) ([]byte, error) {
	if i := bytes.IndexByte(src, 0); i >= 0 {
		line := bytes.Count(src[:i], []byte("\n")) + 1
		return nil, inputErr(file, line, "NUL byte: a Dockerfile is text; check that this is the right file", nil)
	}
	if utf8.Valid(src) {
		return src, nil
	}
	return []byte(perByteRuneError(string(src))), nil
}

// perByteRuneError replaces each byte of s that is not UTF-8 by U+FFFD,
// one per byte, as text/scanner reads it (strings.ToValidUTF8 would merge
// a run of them into one).
func perByteRuneError(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, w := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && w == 1 {
			b.WriteRune(utf8.RuneError)
		} else {
			b.WriteString(s[i : i+w])
		}
		i += w
	}
	return b.String()
}

// quoteShort quotes a word for a message, cut to a readable length.
func quoteShort(s string) string {
	const max = 60
	if len(s) <= max {
		return fmt.Sprintf("%q", s)
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return fmt.Sprintf("%q...", s[:cut])
}
