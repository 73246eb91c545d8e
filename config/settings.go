package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/moby/patternmatcher"
	"gopkg.in/yaml.v3"
)

// Defaults of rebuild.yaml; rebuild.yaml.example explains each.
const (
	// DefaultDebounce: long enough to fold an editor's write-rename-chmod
	// sequence into one batch, short enough not to be noticed.
	DefaultDebounce = 200 * time.Millisecond
	// DefaultMaxWait: a steady stream of writes (a build tool writing
	// output, a long checkout) still yields a batch every 2 s.
	DefaultMaxWait = 2 * time.Second
	// DefaultPollInterval: polling costs a stat per file per interval; one
	// second keeps a 100k-file tree cheap and feels immediate enough.
	DefaultPollInterval = time.Second
	// MinPollInterval: one polling scan stats every file of a root, tens
	// of milliseconds for a 50,000-file tree; a shorter interval keeps a
	// core busy scanning (1ns used 87% of one) and sees changes no sooner
	// than the 200 ms quiet window acts on them anyway.
	MinPollInterval = 100 * time.Millisecond
)

// rawSettings is rebuild.yaml as written. Decoded with KnownFields, so an
// unknown key anywhere is an error with its line.
type rawSettings struct {
	Debounce       *string                `yaml:"debounce"`
	MaxWait        *string                `yaml:"max_wait"`
	Poll           *string                `yaml:"poll"`
	PollInterval   *string                `yaml:"poll_interval"`
	LogFormat      string                 `yaml:"log_format"`
	Parallel       *int                   `yaml:"parallel"`
	OnBusy         string                 `yaml:"on_busy"`
	ComposeCommand yaml.Node              `yaml:"compose_command"`
	Builder        string                 `yaml:"builder"`
	Services       map[string]*rawService `yaml:"services"`
}

type rawService struct {
	OnSource string   `yaml:"on_source"`
	Ignore   []string `yaml:"ignore"`
	Exclude  bool     `yaml:"exclude"`
}

// loadSettings reads rebuild.yaml: explicit (must exist) or the project
// directory's (optional). It returns the file used ("" for none) and the
// settings with defaults, with an entry for every service.
// user is the Compose CLI the user named, which wins over compose_command.
func loadSettings(explicit, projectDir string, svcs []Service, user []string) (string, Settings, error) {
	file := explicit
	if file == "" {
		file = filepath.Join(projectDir, "rebuild.yaml")
	}
	data, err := os.ReadFile(file)
	switch {
	case err != nil && explicit == "" && errors.Is(err, os.ErrNotExist):
		s, _ := settingsFrom(&rawSettings{}, file, nil, svcs, user)
		return "", s, nil
	case err != nil:
		return "", Settings{}, &InputError{File: file, Msg: fmt.Sprintf("cannot read rebuild.yaml: %v", err), Err: err}
	}
	var raw rawSettings
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return "", Settings{}, yamlError(file, err, nil)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&raw); err != nil && !errors.Is(err, io.EOF) {
		return "", Settings{}, yamlError(file, err, &doc)
	}
	s, err := settingsFrom(&raw, file, &doc, svcs, user)
	return file, s, err
}

// yamlError turns yaml.v3's "yaml: line 3: ..." or "line 2: field x not
// found in type ..." into file:line: message, naming the key for type errors.
func yamlError(file string, err error, doc *yaml.Node) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	msg = strings.TrimPrefix(msg, "unmarshal errors:\n")
	msg = strings.TrimSpace(strings.SplitN(msg, "\n", 2)[0])
	ie := &InputError{File: file, Msg: msg, Err: err}
	if m := lineRE.FindStringSubmatch(msg); m != nil {
		ie.Line, _ = strconv.Atoi(m[1])
		ie.Msg = strings.TrimSpace(strings.TrimPrefix(msg[strings.Index(msg, m[0])+len(m[0]):], ":"))
	}
	if strings.HasPrefix(ie.Msg, "field ") && strings.Contains(ie.Msg, " not found in type") {
		key := strings.Fields(ie.Msg)[1]
		ie.Msg = fmt.Sprintf("unknown key %q: rebuild.yaml.example lists every key", key)
	}
	if m := typeRE.FindStringSubmatch(ie.Msg); m != nil {
		key := keyPathAt(doc, ie.Line)
		if key == "" {
			key = "rebuild.yaml"
		}
		ie.Msg = fmt.Sprintf("%s: wrong type: got %s, want %s", key, yamlKind(m[1], m[2]), goKind(m[3]))
	}
	return ie
}

// typeRE is yaml.v3's "cannot unmarshal !!str `many` into int".
var typeRE = regexp.MustCompile("^cannot unmarshal !!(\\w+) (?:`(.*)` )?into (\\S+)$")

func yamlKind(tag, value string) string {
	switch tag {
	case "seq":
		return "a list"
	case "map":
		return "a mapping"
	}
	return strconv.Quote(value)
}

func goKind(t string) string {
	switch {
	case t == "int":
		return "a whole number"
	case t == "bool":
		return "true or false"
	case t == "string":
		return "a single value"
	case strings.HasPrefix(t, "[]"):
		return "a list"
	}
	return "a mapping"
}

// keyPathAt returns the dotted path of the deepest key written on line (or
// whose value starts there), "" when none.
func keyPathAt(n *yaml.Node, line int) string {
	if n == nil {
		return ""
	}
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		return keyPathAt(n.Content[0], line)
	}
	if n.Kind != yaml.MappingNode {
		return ""
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if sub := keyPathAt(v, line); sub != "" {
			return k.Value + "." + sub
		}
		if k.Line == line || v.Line == line {
			return k.Value
		}
	}
	return ""
}

// child returns the value of key in mapping n, nil when absent.
func child(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// settingsFrom validates values and applies defaults; user is the Compose
// CLI the user named (nil: none).
func settingsFrom(raw *rawSettings, file string, doc *yaml.Node, svcs []Service, user []string) (Settings, error) {
	s := Settings{Debounce: DefaultDebounce, MaxWait: DefaultMaxWait, Poll: PollAuto,
		PollInterval: DefaultPollInterval, Parallel: 1, OnBusy: "queue", LogFormat: raw.LogFormat,
		Services: map[string]ServiceSettings{}}
	bad := func(key, msg string) error {
		return &InputError{File: file, Line: keyLine(doc, key), Msg: fmt.Sprintf("%s: %s", key, msg)}
	}
	var err error
	if s.Debounce, err = duration(raw.Debounce, DefaultDebounce); err != nil {
		return s, bad("debounce", err.Error())
	}
	if s.MaxWait, err = duration(raw.MaxWait, DefaultMaxWait); err != nil {
		return s, bad("max_wait", err.Error())
	}
	if s.PollInterval, err = duration(raw.PollInterval, DefaultPollInterval); err != nil {
		return s, bad("poll_interval", err.Error())
	}
	if s.PollInterval < MinPollInterval {
		return s, bad("poll_interval", tooShort(*raw.PollInterval))
	}
	if raw.Poll != nil {
		switch v := *raw.Poll; v {
		case "off", "auto":
			s.Poll = PollMode(v)
		default:
			d, err := time.ParseDuration(v)
			if err != nil || d <= 0 {
				return s, bad("poll", fmt.Sprintf("%q: use off, auto or an interval such as 1s", v))
			}
			if d < MinPollInterval {
				return s, bad("poll", tooShort(v))
			}
			s.Poll, s.PollInterval = PollOn, d
		}
	}
	if err := oneOf(raw.LogFormat, "", "console", "json"); err != nil {
		return s, bad("log_format", err.Error())
	}
	if raw.Parallel != nil {
		if *raw.Parallel < 1 {
			return s, bad("parallel", "must be 1 or more")
		}
		s.Parallel = *raw.Parallel
	}
	if raw.OnBusy != "" {
		if err := oneOf(raw.OnBusy, "queue", "cancel"); err != nil {
			return s, bad("on_busy", err.Error())
		}
		s.OnBusy = raw.OnBusy
	}
	if s.ComposeCommand, err = command(&raw.ComposeCommand); err != nil {
		return s, bad("compose_command", err.Error())
	}
	switch {
	case len(user) > 0:
		s.ComposeCommand, s.UserComposeCommand = user, true
	case len(s.ComposeCommand) > 0 && !IsComposeCLI(s.ComposeCommand):
		return s, bad("compose_command", notComposeCLI(s.ComposeCommand))
	}
	// The names of ignore.Dialect (config cannot import ignore: the
	// pipeline runs config -> ignore).
	if err := oneOf(raw.Builder, "", "auto", "buildkit", "classic", "classic-20.10", "docker-py", "buildkit-20.10"); err != nil {
		return s, bad("builder", err.Error())
	}
	s.Builder = raw.Builder
	return s, serviceSettings(raw, file, doc, svcs, &s)
}

func serviceSettings(raw *rawSettings, file string, doc *yaml.Node, svcs []Service, s *Settings) error {
	known := map[string]bool{}
	for _, svc := range svcs {
		known[svc.Name] = true
		s.Services[svc.Name] = ServiceSettings{OnSource: "auto"}
	}
	names := make([]string, 0, len(raw.Services))
	for name := range raw.Services {
		names = append(names, name)
	}
	sort.Strings(names) // the first mistake in file order... near enough: a stable one
	for _, name := range names {
		rs, node := raw.Services[name], child(servicesNode(doc), name)
		if !known[name] {
			return &InputError{File: file, Line: keyLine(servicesNode(doc), name),
				Msg: fmt.Sprintf("services: no service %q in the compose project: fix the name or remove it", name)}
		}
		ss := ServiceSettings{OnSource: "auto"}
		if rs != nil {
			if rs.OnSource != "" {
				if err := oneOf(rs.OnSource, "auto", "sync", "sync+restart", "restart", "rebuild", "none"); err != nil {
					return &InputError{File: file, Line: keyLine(node, "on_source"), Msg: fmt.Sprintf("services.%s.on_source: %v", name, err)}
				}
				ss.OnSource = rs.OnSource
			}
			if err := checkPatterns(rs.Ignore, file, name, child(node, "ignore")); err != nil {
				return err
			}
			ss.Ignore, ss.Exclude = rs.Ignore, rs.Exclude
		}
		s.Services[name] = ss
	}
	return nil
}

// checkPatterns rejects an ignore pattern patternmatcher would reject (the
// ignore package reads them the same way), with the line of the list item.
func checkPatterns(patterns []string, file, service string, list *yaml.Node) error {
	for i, p := range patterns {
		probe := []string{p}
		if strings.HasPrefix(strings.TrimSpace(p), "!") {
			probe = []string{"**", p} // so the exception is compiled too
		}
		pm, err := patternmatcher.New(probe)
		if err == nil {
			_, err = pm.MatchesOrParentMatches("probe") // compiles the regexp
		}
		if err != nil {
			line := 0
			if list != nil && i < len(list.Content) {
				line = list.Content[i].Line
			}
			return &InputError{File: file, Line: line, Err: err,
				Msg: fmt.Sprintf("services.%s.ignore: bad pattern %q: %v; use .dockerignore syntax (\\[ for a literal bracket)", service, p, err)}
		}
	}
	return nil
}

func duration(v *string, def time.Duration) (time.Duration, error) {
	if v == nil {
		return def, nil
	}
	d, err := time.ParseDuration(*v)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%q is not a duration: write it like 200ms or 2s", *v)
	}
	return d, nil
}

// tooShort words a polling interval below MinPollInterval.
func tooShort(v string) string {
	return fmt.Sprintf("%q is too short: poll at least every %v (each scan stats every file)", v, MinPollInterval)
}

func oneOf(v string, allowed ...string) error {
	for _, a := range allowed {
		if v == a {
			return nil
		}
	}
	return fmt.Errorf("%q: use one of %s", v, strings.Join(allowed[boolToInt(allowed[0] == ""):], ", "))
}

func boolToInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// command accepts "docker compose" or ["docker", "compose"].
func command(n *yaml.Node) ([]string, error) {
	switch n.Kind {
	case 0:
		return nil, nil
	case yaml.ScalarNode:
		return strings.Fields(n.Value), nil
	case yaml.SequenceNode:
		var out []string
		if err := n.Decode(&out); err != nil {
			return nil, err
		}
		return out, nil
	}
	return nil, errors.New("use a string or a list of strings")
}

// keyLine finds the line of key in a mapping node (the document's top
// level when n is a document), 0 when absent.
func keyLine(n *yaml.Node, key string) int {
	if n == nil {
		return 0
	}
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	if n.Kind != yaml.MappingNode {
		return 0
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i].Line
		}
	}
	return 0
}

func servicesNode(doc *yaml.Node) *yaml.Node {
	if doc == nil || len(doc.Content) == 0 {
		return nil
	}
	m := doc.Content[0]
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == "services" {
			return m.Content[i+1]
		}
	}
	return nil
}
