package fingerprint

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/rebuildd/rebuildd/dockerfile"
	"github.com/rebuildd/rebuildd/statedir"
)

// Record is what rebuildd knows about the image a service was last built
// into: the fingerprint of the inputs and the image ID they produced. A
// record only vouches for that image ID; any other image under the
// service's tag was built by someone else (see plan.go).
type Record struct {
	Service     string    `json:"service"`
	Fingerprint string    `json:"fingerprint"`
	ImageID     string    `json:"image_id"`
	Time        time.Time `json:"time"`
	// Impacts are what made the build necessary ("deps", "dockerfile",
	// "image missing", "adopted" when an outside build was taken as is).
	Impacts []string `json:"impacts"`
	Parts   Parts    `json:"parts"`
	// Unsettled is the layer ("deps" or "source") of a file that changed
	// while the build ran: the image may hold a state of it that is on
	// disk no more (an edit and its revert), so the record vouches for
	// nothing and the next check builds again.
	Unsettled string `json:"unsettled,omitempty"`
}

// Store keeps records, per-file sums and the hash index of one project in
// its state directory. Every write is atomic (temp file + rename).
type Store struct {
	dir     string
	key     []byte     // statedir.Key: what the build-arg parts of prints are keyed with
	marksMu sync.Mutex // one UpdateSyncMarks at a time
}

// OpenStore creates dir if needed. It refuses a directory inside a build
// context (the state would change with every build and be sent to the
// builder) and one another user could change (statedir.Open).
func OpenStore(dir string, contexts []string) (*Store, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("state dir %q: %w", dir, err)
	}
	for _, c := range contexts {
		if Within(c, abs) {
			return nil, fmt.Errorf("state dir %q is inside the build context %q: choose a --state-dir outside every build context", abs, c)
		}
	}
	if abs, err = statedir.Open(abs); err != nil {
		return nil, err
	}
	key, err := statedir.Key(abs)
	if err != nil {
		return nil, err
	}
	return &Store{dir: abs, key: key}, nil
}

// Within reports whether path is dir or below it.
func Within(dir, path string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// Key is the state directory's secret key: a print compared with this
// store's records must be taken with it (Source.Key).
func (s *Store) Key() []byte {
	if s == nil {
		return nil
	}
	return s.key
}

// Dir is the state directory.
func (s *Store) Dir() string { return s.dir }

// IndexPath is where the project's hash index lives.
func (s *Store) IndexPath() string { return filepath.Join(s.dir, statedir.Version, "index") }

func (s *Store) recordPath(service string) string {
	return filepath.Join(s.dir, statedir.Version, "service-"+service+".json")
}

func (s *Store) filesPath(service string) string {
	return filepath.Join(s.dir, statedir.Version, "files-"+service+".json")
}

// Load returns the record of service, nil when there is none.
func (s *Store) Load(service string) (*Record, error) {
	b, err := statedir.ReadFile(s.recordPath(service))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read state %q: %w", s.recordPath(service), err)
	}
	var r Record
	if err := json.Unmarshal(b, &r); err != nil {
		// A damaged record is no record: what the image holds is unknown
		// until a build records it again (docs/design.md, "One decision").
		return nil, nil
	}
	return &r, nil
}

// storedFile is FileSum on disk, with short keys: the map can hold 50,000 files.
type storedFile struct {
	S string            `json:"s"`
	I dockerfile.Impact `json:"i"`
	L bool              `json:"l,omitempty"`
}

// Files returns the per-file sums recorded with service's record, so a
// changed fingerprint can name the files that changed. Nil when none.
func (s *Store) Files(service string) (map[string]FileSum, error) {
	b, err := statedir.ReadFile(s.filesPath(service))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read state %q: %w", s.filesPath(service), err)
	}
	var stored map[string]storedFile
	if err := json.Unmarshal(b, &stored); err != nil {
		return nil, nil
	}
	out := make(map[string]FileSum, len(stored))
	for k, v := range stored {
		out[k] = FileSum{Sum: v.S, Impact: v.I, Live: v.L}
	}
	return out, nil
}

// Save writes the record and its files. The files go first: a record is
// never newer than the file list it vouches for.
func (s *Store) Save(r Record, files map[string]FileSum) error {
	stored := make(map[string]storedFile, len(files))
	for k, v := range files {
		stored[k] = storedFile{S: v.Sum, I: v.Impact, L: v.Live}
	}
	if err := writeJSON(s.filesPath(r.Service), stored); err != nil {
		return err
	}
	return writeJSON(s.recordPath(r.Service), r)
}

func writeJSON(path string, v any) error {
	err := statedir.WriteAtomic(path, func(w io.Writer) error {
		return json.NewEncoder(w).Encode(v)
	})
	if err != nil {
		return fmt.Errorf("write state %q: %w", path, err)
	}
	return nil
}
