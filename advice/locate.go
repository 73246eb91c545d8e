package advice

import (
	"os"
	"strings"

	"gopkg.in/yaml.v3"
)

// composeAt finds the line of services.<service>.<keys...> in the project's
// compose files, so a finding about the compose file points at the line to
// edit. Later files override earlier ones, so the last file that has the key
// wins. When the full path is not there (short syntax such as `build: .`, a
// key set by `extends`), the nearest ancestor that is there is used; failing
// that, the first compose file with line 0.
func (s *subject) composeAt(keys ...string) (string, int) {
	return s.composeFind(keys, nil)
}

// composeFind is composeAt where the last key names a sequence and item
// picks the entry (a volume, an arg in list form).
func (s *subject) composeFind(keys []string, item func(*yaml.Node) bool) (string, int) {
	path := append([]string{"services", s.svc.Name}, keys...)
	bestFile, bestLine, bestDepth := "", 0, -1
	files := s.proj.ComposeFiles
	for i := len(files) - 1; i >= 0; i-- {
		root := s.composeDoc(files[i])
		if root == nil {
			continue
		}
		n, depth := descend(root, path)
		if depth == len(path) && item != nil {
			if it := pick(n, item); it != nil {
				return files[i], it.Line
			}
		}
		if depth > bestDepth && n != nil {
			bestFile, bestLine, bestDepth = files[i], n.Line, depth
		}
	}
	if bestFile == "" && len(files) > 0 {
		return files[0], 0
	}
	return bestFile, bestLine
}

// composeDoc parses a compose file once per subject; nil when unreadable.
func (s *subject) composeDoc(file string) *yaml.Node {
	if s.yamlDocs == nil {
		s.yamlDocs = map[string]*yaml.Node{}
	}
	if n, ok := s.yamlDocs[file]; ok {
		return n
	}
	var root *yaml.Node
	if b, err := os.ReadFile(file); err == nil {
		var doc yaml.Node
		if yaml.Unmarshal(b, &doc) == nil && len(doc.Content) > 0 {
			root = doc.Content[0]
		}
	}
	s.yamlDocs[file] = root
	return root
}

// descend follows mapping keys from n and returns the deepest node reached:
// the value node of the last key found, and how many keys were found. A key
// is shown at the line of the key itself, which is the line people edit.
func descend(n *yaml.Node, path []string) (*yaml.Node, int) {
	var last *yaml.Node
	for depth, key := range path {
		if n == nil || n.Kind != yaml.MappingNode {
			return last, depth
		}
		var next *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == key {
				next = n.Content[i+1]
				last = &yaml.Node{Line: n.Content[i].Line, Kind: next.Kind, Style: next.Style, Content: next.Content, Value: next.Value}
				break
			}
		}
		if next == nil {
			return last, depth
		}
		n = next
	}
	return last, len(path)
}

// pick returns the first entry of a sequence (or key of a mapping) that
// item accepts.
func pick(n *yaml.Node, item func(*yaml.Node) bool) *yaml.Node {
	if n == nil {
		return nil
	}
	switch n.Kind {
	case yaml.SequenceNode:
		for _, c := range n.Content {
			if item(c) {
				return c
			}
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			if item(n.Content[i]) {
				return n.Content[i]
			}
		}
	}
	return nil
}

// argItem matches a build arg by name in either form compose accepts:
// a mapping key, or a list entry "NAME=value" / "NAME".
func argItem(name string) func(*yaml.Node) bool {
	return func(n *yaml.Node) bool {
		k, _, _ := strings.Cut(n.Value, "=")
		return n.Kind == yaml.ScalarNode && k == name
	}
}

// volumeItem matches a volume entry by container path, short form
// ("/app/node_modules", "src:/app/src:ro") or long form (target: ...).
func volumeItem(target string) func(*yaml.Node) bool {
	return func(n *yaml.Node) bool {
		if n.Kind == yaml.ScalarNode {
			parts := strings.Split(n.Value, ":")
			if len(parts) == 1 {
				return strings.TrimRight(parts[0], "/") == target
			}
			return strings.TrimRight(parts[1], "/") == target
		}
		if n.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == "target" {
					return strings.TrimRight(n.Content[i+1].Value, "/") == target
				}
			}
		}
		return false
	}
}
