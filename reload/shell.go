package reload

import (
	"fmt"
	"strings"
)

// simple is one simple command of a shell script, and how it ends.
type simple struct {
	words []string
	bg    bool // sent to the background with "&": it keeps running
	piped bool // part of a pipeline: it runs alongside the others
}

// parseScript splits an `sh -c` script into simple commands: words with
// quotes and backslashes removed, at ";", newlines, "&&", "||", "&" and
// "|", with redirections dropped. Variables are left as written (an
// argument like $PORT does not decide anything here). Command
// substitution, subshells, groups and control flow are refused: what runs
// then is not read from the text alone.
func parseScript(s string) ([]simple, error) {
	t := &tokenizer{src: s}
	for t.i < len(t.src) {
		if err := t.step(); err != nil {
			return nil, err
		}
	}
	t.endCommand(false, false)
	for _, c := range t.out {
		switch c.words[0] {
		case "if", "then", "else", "fi", "for", "while", "until", "do", "done", "case", "esac", "function":
			return nil, fmt.Errorf("shell control flow (%s)", c.words[0])
		}
	}
	return t.out, nil
}

type tokenizer struct {
	src    string
	i      int
	word   strings.Builder
	inWord bool
	cur    []string
	out    []simple
	piped  bool // the current command follows a "|"
	redir  bool // the next word is a redirection's target: dropped
}

// step reads one character (or operator) of the script.
func (t *tokenizer) step() error {
	c := t.src[t.i]
	switch {
	case c == ' ' || c == '\t':
		t.endWord()
	case c == '\n' || c == ';':
		t.endCommand(false, false)
	case c == '#' && !t.inWord:
		for t.i < len(t.src) && t.src[t.i] != '\n' {
			t.i++
		}
		return nil
	case c == '&' || c == '|':
		return t.operator(c)
	case c == '<' || c == '>':
		t.redirection()
		return nil
	case c == '\'':
		return t.quoted('\'')
	case c == '"':
		return t.quoted('"')
	case c == '\\':
		t.i++
		if t.i < len(t.src) && t.src[t.i] != '\n' {
			t.add(t.src[t.i])
		}
	case c == '`' || c == '(' || c == ')' || c == '{' && !t.inWord || c == '$' && t.peek(1) == '(':
		return fmt.Errorf("command substitution, subshell or group (%q)", string(c))
	default:
		t.add(c)
	}
	t.i++
	return nil
}

func (t *tokenizer) peek(n int) byte {
	if t.i+n < len(t.src) {
		return t.src[t.i+n]
	}
	return 0
}

func (t *tokenizer) add(c byte) { t.word.WriteByte(c); t.inWord = true }

func (t *tokenizer) endWord() {
	if !t.inWord {
		return
	}
	w := t.word.String()
	t.word.Reset()
	t.inWord = false
	if t.redir {
		t.redir = false
		return
	}
	t.cur = append(t.cur, w)
}

func (t *tokenizer) endCommand(bg, pipe bool) {
	t.endWord()
	if len(t.cur) > 0 {
		t.out = append(t.out, simple{words: t.cur, bg: bg, piped: pipe || t.piped})
	}
	t.cur, t.piped = nil, pipe
}

// operator reads "&&", "||", "&", "|" or "&>" (a redirection).
func (t *tokenizer) operator(c byte) error {
	switch {
	case c == '&' && t.peek(1) == '>':
		t.redirection()
		return nil
	case t.peek(1) == c: // && or ||
		t.endCommand(false, false)
		t.i += 2
	case c == '&':
		t.endCommand(true, false)
		t.i++
	default: // |
		t.endCommand(false, true)
		t.i++
	}
	return nil
}

// redirection drops "[n]>", ">>", "<", "&>", ">&n" and the word they name.
func (t *tokenizer) redirection() {
	if t.inWord && isDigits(t.word.String()) { // the "2" of "2>"
		t.word.Reset()
		t.inWord = false
	}
	t.endWord()
	for t.i < len(t.src) && strings.IndexByte("<>&|", t.src[t.i]) >= 0 {
		t.i++
	}
	if t.i < len(t.src) && (isDigits(string(t.src[t.i])) || t.src[t.i] == '-') && t.src[t.i-1] == '&' {
		t.i++ // >&2, >&-
		return
	}
	t.redir = true
}

// quoted reads a quoted string into the current word. In double quotes a
// backslash escapes $ ` " \ and newline, as in sh.
func (t *tokenizer) quoted(q byte) error {
	t.inWord = true
	for t.i++; t.i < len(t.src); t.i++ {
		c := t.src[t.i]
		switch {
		case c == q:
			t.i++
			return nil
		case q == '"' && (c == '`' || c == '$' && t.peek(1) == '('):
			return fmt.Errorf("command substitution in a quoted string")
		case q == '"' && c == '\\' && strings.IndexByte("$`\"\\\n", t.peek(1)) >= 0:
			t.i++
			if t.src[t.i] != '\n' {
				t.word.WriteByte(t.src[t.i])
			}
		default:
			t.word.WriteByte(c)
		}
	}
	return fmt.Errorf("unterminated %c quote", q)
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
