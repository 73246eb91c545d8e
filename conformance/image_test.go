package conformance

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os/exec"
	"path"
	"sort"
	"strings"
)

// saveManifest is the part of `docker save`'s manifest.json read here.
type saveManifest struct {
	RepoTags []string
	Layers   []string
}

// topLayerFiles saves images with one `docker save` and returns, per tag,
// the regular files of the image's top layer below root ("ctx"), as
// context-relative paths: exactly what `COPY . /ctx` received. Reading the
// saved layer instead of running a container costs no container start and
// sees files whatever their names.
func topLayerFiles(tags []string, root string) (map[string][]string, error) {
	cmd := exec.Command("docker", append([]string{"save"}, tags...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("docker save %d images: %w: %s", len(tags), err, stderr.String())
	}
	layers, manifest, err := readSave(out)
	if err != nil {
		return nil, err
	}
	files := map[string][]string{}
	for _, m := range manifest {
		if len(m.Layers) == 0 {
			continue
		}
		top, ok := layers[m.Layers[len(m.Layers)-1]]
		if !ok {
			return nil, fmt.Errorf("docker save: layer %q of %q missing", m.Layers[len(m.Layers)-1], m.RepoTags)
		}
		list, err := tarFiles(top, root)
		if err != nil {
			return nil, fmt.Errorf("image %q: %w", m.RepoTags, err)
		}
		for _, tag := range m.RepoTags {
			files[tag] = list
		}
	}
	return files, nil
}

// readSave splits a `docker save` archive into its layer tars (by path in
// the archive) and its manifest. Two images whose top layers have the same
// content (two contexts that both end up empty) share the layer: the second
// is saved as a symlink "../<id>/layer.tar".
func readSave(archive []byte) (map[string][]byte, []saveManifest, error) {
	layers := map[string][]byte{}
	links := map[string]string{} // a layer saved twice is a symlink to the first
	var manifest []saveManifest
	tr := tar.NewReader(bytes.NewReader(archive))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, nil, fmt.Errorf("read docker save archive: %w", err)
		}
		switch {
		case h.Name == "manifest.json":
			if err := json.NewDecoder(tr).Decode(&manifest); err != nil {
				return nil, nil, fmt.Errorf("read docker save manifest: %w", err)
			}
		case strings.HasSuffix(h.Name, "layer.tar") && h.Typeflag == tar.TypeReg:
			b, err := io.ReadAll(tr)
			if err != nil {
				return nil, nil, fmt.Errorf("read layer %q: %w", h.Name, err)
			}
			layers[h.Name] = b
		case strings.HasSuffix(h.Name, "layer.tar") && h.Typeflag == tar.TypeSymlink:
			links[h.Name] = path.Join(path.Dir(h.Name), h.Linkname)
		}
	}
	for name, target := range links {
		layers[name] = layers[target]
	}
	if manifest == nil {
		return nil, nil, fmt.Errorf("docker save archive has no manifest.json")
	}
	return layers, manifest, nil
}

// tarFiles lists the regular files of one layer tar below root, as
// sorted paths relative to root.
func tarFiles(layer []byte, root string) ([]string, error) {
	var out []string
	tr := tar.NewReader(bytes.NewReader(layer))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read layer: %w", err)
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		if rel, ok := contextRel(h.Name, root); ok {
			out = append(out, rel)
		}
	}
	sort.Strings(out)
	return out, nil
}
