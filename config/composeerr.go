package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// lineRE finds the line yaml parsers put in their messages ("line 3:").
var lineRE = regexp.MustCompile(`line (\d+)`)

// schemaKeyRE is compose-go's JSON-schema message for an unknown key:
// "services.api.imag false schema" or "... additional properties 'foo' not allowed".
var (
	falseSchemaRE = regexp.MustCompile(`^([\w.-]+)\.([^.\s]+) false schema$`)
	additionalRE  = regexp.MustCompile(`^([\w.-]+) additional properties? '([^']+)' not allowed$`)
)

// mustExist reports the first of files that does not exist (or is a
// directory) as an InputError saying what to do. compose-go's own message
// for this is "compose file "x" is invalid: open x: no such file".
func mustExist(files []string, what, fix string) error {
	for _, f := range files {
		if f == "-" || strings.Contains(f, "://") {
			continue
		}
		fi, err := os.Stat(f)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return &InputError{File: f, Err: err, Msg: fmt.Sprintf("%s does not exist: %s", what, fix)}
		case err != nil:
			return &InputError{File: f, Err: err, Msg: fmt.Sprintf("cannot read %s: %v", what, err)}
		case fi.IsDir():
			return &InputError{File: f, Msg: fmt.Sprintf("%s is a directory: %s", what, fix)}
		}
	}
	return nil
}

// composeError turns a compose-go error into one line naming the file and,
// when known, the line: from the YAML parser's message, or for an unknown
// key by finding the key in the compose files.
func composeError(o Options, err error, files ...string) error {
	msg := strings.Join(strings.Fields(err.Error()), " ")
	ie := &InputError{Err: err}
	for _, f := range files {
		if strings.Contains(msg, f) {
			ie.File = f
		}
		// compose-go wraps with the file: drop the wrappers, the file is
		// printed first anyway.
		msg = strings.NewReplacer(
			"compose file "+strconv.Quote(f)+" is invalid: ", "",
			"validating "+f+": ", "",
			f+": ", "",
		).Replace(msg)
	}
	if ie.File == "" && len(files) > 0 {
		ie.File = files[0]
	}
	msg = strings.TrimPrefix(msg, "yaml: ")
	if m := falseSchemaRE.FindStringSubmatch(msg); m != nil {
		msg, ie.File, ie.Line = unknownKey(m[1], m[2], ie.File, files)
	} else if m := additionalRE.FindStringSubmatch(msg); m != nil {
		msg, ie.File, ie.Line = unknownKey(m[1], m[2], ie.File, files)
	} else if m := lineRE.FindStringSubmatch(msg); m != nil {
		ie.Line, _ = strconv.Atoi(m[1])
	}
	ie.Msg = msg
	return ie
}

// nameRE is the Compose schema's pattern for the names of services,
// networks, volumes, secrets, configs and models; a name outside it is
// reported by the schema as an additional property, as if it were a key.
var nameRE = regexp.MustCompile(`^[a-zA-Z0-9._-]+$`)

// namedSections are the top-level sections whose keys are names.
var namedSections = map[string]string{"services": "service", "networks": "network",
	"volumes": "volume", "secrets": "secret", "configs": "config", "models": "model"}

// unknownKey words an unknown-key error and finds where the key is written.
// Under a top-level section of names the key is a name the schema refused.
func unknownKey(parent, key, file string, files []string) (string, string, int) {
	msg := fmt.Sprintf("%s: unknown key %q: check its spelling against the Compose file reference", parent, key)
	if what, ok := namedSections[parent]; ok && !nameRE.MatchString(key) {
		msg = fmt.Sprintf("%s: invalid %s name %q: use only letters, digits, '.', '_' and '-'", parent, what, key)
	}
	path := append(strings.Split(parent, "."), key)
	for _, f := range files {
		if line := keyPathLine(f, path); line > 0 {
			return msg, f, line
		}
	}
	return msg, file, 0
}

// keyPathLine returns the line of the mapping key at path (e.g. services,
// api, imag) in the YAML file, 0 when it cannot be found.
func keyPathLine(file string, path []string) int {
	data, err := os.ReadFile(file)
	if err != nil {
		return 0
	}
	var doc yaml.Node
	if yaml.Unmarshal(data, &doc) != nil || len(doc.Content) == 0 {
		return 0
	}
	n, line := doc.Content[0], 0
	for _, k := range path {
		if n.Kind != yaml.MappingNode {
			return 0
		}
		found := false
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == k {
				line, n, found = n.Content[i].Line, n.Content[i+1], true
				break
			}
		}
		if !found {
			return 0
		}
	}
	return line
}
