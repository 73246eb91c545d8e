package ignore

import (
	"path/filepath"
	"strconv"
	"strings"
)

// IsTempFile reports whether the base name of path is an editor or tool temp
// file. Such files never trigger a rebuild on their own, but they stay part of
// the build context (Excluded does not consider them): if one is still there
// when a build runs, Docker sends it like any other file.
//
// The list follows what the editors write around a save (compose's
// pkg/watch/ephemeral.go and Tilt keep similar lists):
func IsTempFile(path string) bool {
	base := filepath.Base(filepath.FromSlash(path))
	if base == "." || base == "/" {
		return false
	}
	for _, t := range tempRules {
		if t.match(base) {
			return true
		}
	}
	return false
}

type tempRule struct {
	tool  string // who writes it, for people reading the list
	match func(base string) bool
}

var tempRules = []tempRule{
	// vim: before writing, vim creates "4913" to test whether it may create
	// files in the directory; if that name exists it adds 123 until it finds a
	// free one (bufwrite.c, formerly fileio.c).
	{"vim write test", isVimWriteTest},
	// vim (backup), emacs (backup), gedit, kate: "name~".
	{"backup files", func(b string) bool { return len(b) > 1 && strings.HasSuffix(b, "~") }},
	// vim swap files ".name.swp"; when that is taken vim goes on to .swo,
	// .swn ... (memline.c), so every ".name.sw?" is treated alike.
	{"vim swap", isVimSwap},
	// JetBrains IDEs "safe write": write name___jb_tmp___, rename the original
	// to name___jb_old___, rename the temp into place.
	{"JetBrains safe write", func(b string) bool {
		return strings.HasSuffix(b, "___jb_tmp___") || strings.HasSuffix(b, "___jb_old___")
	}},
	// emacs: ".#name" lock symlinks and "#name#" auto-save files.
	{"emacs lock", func(b string) bool { return strings.HasPrefix(b, ".#") }},
	{"emacs auto-save", func(b string) bool { return len(b) > 2 && b[0] == '#' && b[len(b)-1] == '#' }},
	// kate (KDE): ".name.kate-swp" swap files.
	{"kate swap", func(b string) bool { return strings.HasSuffix(b, ".kate-swp") }},
	// macOS Finder metadata, dropped into every directory it opens.
	{"macOS Finder", func(b string) bool { return b == ".DS_Store" }},
	// Atomic-save writers (VS Code's atomic save and write-then-rename
	// helpers) write "name.tmp.<digits>" and rename it over name.
	{"atomic save", isTmpDigits},
	// LibreOffice lock files ".~lock.name#".
	{"LibreOffice lock", func(b string) bool { return strings.HasPrefix(b, ".~lock.") && strings.HasSuffix(b, "#") }},
	// Chromium's File System Access API (VS Code for the web, browser
	// editors) writes "name.crswap" and swaps it in on close.
	{"Chromium crswap", func(b string) bool { return strings.HasSuffix(b, ".crswap") }},
	// GIO g_file_replace (gedit, GNOME apps): ".goutputstream-XXXXXX".
	{"GIO replace", func(b string) bool { return strings.HasPrefix(b, ".goutputstream-") }},
	// The go command probes the umask with "<name>-go-tmp-umask" files.
	{"go umask probe", func(b string) bool { return strings.HasSuffix(b, "-go-tmp-umask") }},
	// sed -i writes "sedXXXXXX" beside the file and renames it over it
	// (GNU sed's ck_mkstemp); perl -i writes "XXXXXXXX", of which mkstemp
	// fills the last six.
	{"sed -i", func(b string) bool { return mkstempName(b, "sed") }},
	{"perl -i", func(b string) bool { return mkstempName(b, "XX") }},
}

// mkstempName matches prefix followed by the six characters mkstemp
// picks from [A-Za-z0-9]. A word such as "sedentary" has the shape too,
// so at least one of the six must be a digit or an upper-case letter:
// all six are lower-case letters in one name out of ~180, which is then
// only reported, as any file would be.
func mkstempName(b, prefix string) bool {
	rnd, ok := strings.CutPrefix(b, prefix)
	if !ok || len(rnd) != 6 {
		return false
	}
	mixed := false
	for _, c := range rnd {
		switch {
		case c >= 'a' && c <= 'z':
		case c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
			mixed = true
		default:
			return false
		}
	}
	return mixed
}

// isVimWriteTest matches 4913, 5036, 5159, ...: vim's write-test names.
func isVimWriteTest(b string) bool {
	n, err := strconv.Atoi(b)
	if err != nil || b[0] == '0' || b[0] == '+' || b[0] == '-' {
		return false
	}
	return n >= 4913 && (n-4913)%123 == 0
}

// isVimSwap matches ".name.sw?" with a lowercase letter: .swp first, then
// .swo, .swn ... as vim finds earlier ones taken.
func isVimSwap(b string) bool {
	if len(b) < 6 || b[0] != '.' {
		return false
	}
	ext := b[len(b)-4:]
	return ext[:3] == ".sw" && ext[3] >= 'a' && ext[3] <= 'z'
}

// isTmpDigits matches "name.tmp.<digits>".
func isTmpDigits(b string) bool {
	i := strings.LastIndex(b, ".tmp.")
	if i <= 0 {
		return false
	}
	digits := b[i+len(".tmp."):]
	if digits == "" {
		return false
	}
	for _, c := range digits {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
