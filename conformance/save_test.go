package conformance

import (
	"archive/tar"
	"bytes"
	"slices"
	"testing"
)

// tarOf builds a tar of entries: a name ending in "->target" is a symlink.
func tarOf(t *testing.T, entries map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, name := range sortedKeys(entries) {
		body := entries[name]
		h := &tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(body))}
		if i := bytes.Index([]byte(name), []byte("->")); i >= 0 {
			h = &tar.Header{Name: name[:i], Typeflag: tar.TypeSymlink, Linkname: name[i+2:], Mode: 0o777}
			body = ""
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestReadSaveFollowsSharedLayers: docker save stores a layer two images
// share once and links the second to it; both images must list its files.
func TestReadSaveFollowsSharedLayers(t *testing.T) {
	layer := string(tarOf(t, map[string]string{"ctx/a b": "x", "ctx/d/e": "y", "etc/passwd": "z"}))
	archive := tarOf(t, map[string]string{
		"aaa/layer.tar":                   layer,
		"bbb/layer.tar->../aaa/layer.tar": "",
		"manifest.json": `[{"RepoTags":["one:1"],"Layers":["aaa/layer.tar"]},` +
			`{"RepoTags":["two:1"],"Layers":["base/layer.tar","bbb/layer.tar"]}]`,
	})
	layers, manifest, err := readSave(archive)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range manifest {
		top := m.Layers[len(m.Layers)-1]
		files, err := tarFiles(layers[top], "ctx")
		if err != nil {
			t.Fatalf("%v: %v", m.RepoTags, err)
		}
		if want := []string{"a b", "d/e"}; !slices.Equal(files, want) {
			t.Errorf("%v: files = %q, want %q", m.RepoTags, files, want)
		}
	}
}
