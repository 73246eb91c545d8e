package conformance

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os/exec"
	"path"
	"slices"
	"sort"
	"strings"
	"testing"
)

// imageFS is an image's file system as a container of it starts with: its
// layers applied in order, whiteouts honoured, read from `docker save`
// (no container is created).
type imageFS struct {
	workdir string                 // Config.WorkingDir
	entries map[string]*tar.Header // "/abs/path" -> the entry
	content map[string]string      // regular files up to maxContent bytes
}

// maxContent bounds the file contents kept: context files are tiny, the
// base image's busybox binary is not.
const maxContent = 64 << 10

// saveImages reads the file systems of tags with one `docker save`.
func saveImages(tags []string) (map[string]*imageFS, error) {
	cmd := exec.Command("docker", append([]string{"save"}, tags...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("docker save %d images: %w: %s", len(tags), err, stderr.String())
	}
	files, err := tarEntries(out)
	if err != nil {
		return nil, err
	}
	var manifest []struct {
		Config   string
		RepoTags []string
		Layers   []string
	}
	if err := json.Unmarshal(files["manifest.json"], &manifest); err != nil {
		return nil, fmt.Errorf("docker save manifest: %w", err)
	}
	imgs := map[string]*imageFS{}
	for _, m := range manifest {
		var cfg struct{ Config struct{ WorkingDir string } }
		if err := json.Unmarshal(files[m.Config], &cfg); err != nil {
			return nil, fmt.Errorf("image config %q: %w", m.Config, err)
		}
		fsys := &imageFS{workdir: cfg.Config.WorkingDir, entries: map[string]*tar.Header{}, content: map[string]string{}}
		for _, l := range m.Layers {
			if err := fsys.apply(files[l]); err != nil {
				return nil, fmt.Errorf("image %v layer %q: %w", m.RepoTags, l, err)
			}
		}
		for _, tag := range m.RepoTags {
			imgs[tag] = fsys
		}
	}
	return imgs, nil
}

// tarEntries reads every regular file of a tar by name; a symlink (docker
// save stores a layer two images share once) reads as its target.
func tarEntries(archive []byte) (map[string][]byte, error) {
	out := map[string][]byte{}
	links := map[string]string{}
	tr := tar.NewReader(bytes.NewReader(archive))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read docker save archive: %w", err)
		}
		switch h.Typeflag {
		case tar.TypeReg:
			if out[h.Name], err = io.ReadAll(tr); err != nil {
				return nil, fmt.Errorf("read %q: %w", h.Name, err)
			}
		case tar.TypeSymlink:
			links[h.Name] = path.Join(path.Dir(h.Name), h.Linkname)
		}
	}
	for name, target := range links {
		out[name] = out[target]
	}
	return out, nil
}

// apply lays one layer tar over the file system: ".wh.<name>" removes
// name, ".wh..wh..opq" empties its directory of what lower layers had.
func (f *imageFS) apply(layer []byte) error {
	tr := tar.NewReader(bytes.NewReader(layer))
	opaque := map[string]bool{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		p := path.Join("/", h.Name)
		dir, base := path.Split(p)
		dir = path.Clean(dir)
		switch {
		case base == ".wh..wh..opq":
			if !opaque[dir] {
				f.removeBelow(dir)
				opaque[dir] = true
			}
			continue
		case strings.HasPrefix(base, ".wh."):
			f.remove(path.Join(dir, strings.TrimPrefix(base, ".wh.")))
			continue
		}
		if old, ok := f.entries[p]; ok && (old.Typeflag != tar.TypeDir || h.Typeflag != tar.TypeDir) {
			f.remove(p)
		}
		f.entries[p] = h
		if h.Typeflag == tar.TypeReg && h.Size <= maxContent {
			b, err := io.ReadAll(tr)
			if err != nil {
				return err
			}
			f.content[p] = string(b)
		}
	}
}

func (f *imageFS) remove(p string) {
	delete(f.entries, p)
	delete(f.content, p)
	f.removeBelow(p)
}

func (f *imageFS) removeBelow(dir string) {
	prefix := strings.TrimSuffix(dir, "/") + "/"
	for q := range f.entries {
		if strings.HasPrefix(q, prefix) {
			delete(f.entries, q)
			delete(f.content, q)
		}
	}
}

// resolve follows symlinks in p, as a path lookup in the container does.
func (f *imageFS) resolve(p string) string {
	for range 40 {
		parts := strings.Split(strings.TrimPrefix(path.Clean(p), "/"), "/")
		cur, changed := "/", false
		for i, part := range parts {
			next := path.Join(cur, part)
			if h, ok := f.entries[next]; ok && h.Typeflag == tar.TypeSymlink {
				target := h.Linkname
				if !path.IsAbs(target) {
					target = path.Join(cur, target)
				}
				p = path.Join(append([]string{target}, parts[i+1:]...)...)
				changed = true
				break
			}
			cur = next
		}
		if !changed {
			return cur
		}
	}
	return p
}

// IsDir implements dockerfile.Container.
func (f *imageFS) IsDir(p string) (bool, error) {
	if f.resolve(p) == "/" { // the root has no entry of its own
		return true, nil
	}
	h, ok := f.entries[f.resolve(p)]
	return ok && h.Typeflag == tar.TypeDir, nil
}

// Workdir implements dockerfile.Container.
func (f *imageFS) Workdir() (string, error) { return f.workdir, nil }

// holding lists the regular files whose content is body.
func (f *imageFS) holding(body string) []string {
	var out []string
	for p, c := range f.content {
		if c == body {
			out = append(out, p)
		}
	}
	return out
}

// TestImageFSWhiteouts: a later layer's whiteouts remove what lower layers
// had, an opaque directory keeps only its own entries, and symlinked
// directories resolve.
func TestImageFSWhiteouts(t *testing.T) {
	f := &imageFS{entries: map[string]*tar.Header{}, content: map[string]string{}}
	layers := []map[string]string{
		{"app/a": "1", "app/b": "2", "app/d/x": "3", "opq/old": "4", "www->app": ""},
		{"app/.wh.b": "", "app/.wh.d": "", "opq/.wh..wh..opq": "", "opq/new": "5", "app/a": "6"},
	}
	for _, l := range layers {
		if err := f.apply(tarOf(t, l)); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	for p := range f.content {
		got = append(got, p+"="+f.content[p])
	}
	sort.Strings(got)
	if want := []string{"/app/a=6", "/opq/new=5"}; !slices.Equal(got, want) {
		t.Errorf("files %q, want %q", got, want)
	}
	if p := f.resolve("/www/a"); p != "/app/a" {
		t.Errorf("resolve /www/a = %q, want /app/a", p)
	}
	if h := f.holding("6"); !slices.Equal(h, []string{"/app/a"}) {
		t.Errorf("holding = %q", h)
	}
}
