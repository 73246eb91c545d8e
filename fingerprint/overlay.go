package fingerprint

import "sync"

// Records is what deciding and recording need from a state directory.
// *Store is the real one; Overlay keeps a dry run's writes in memory.
type Records interface {
	Load(service string) (*Record, error)
	Files(service string) (map[string]FileSum, error)
	Save(r Record, files map[string]FileSum) error
	IndexPath() string
	BeginRecreate(services []string) error
	EndRecreate(services []string) error
	Recreating(service string) bool
	Key() []byte
	// SyncMarks and UpdateSyncMarks keep what live updates left in each
	// container (syncmark.go).
	SyncMarks() (map[string]SyncMark, error)
	UpdateSyncMarks(update func(map[string]SyncMark)) error
}

// Overlay reads through to a base store (nil: none) and keeps every write
// in memory, so a dry run decides exactly as a real one would, including
// after what it pretends to have built, and leaves the state dir as it was.
type Overlay struct {
	Base Records

	mu    sync.Mutex
	recs  map[string]Record
	files map[string]map[string]FileSum
	marks map[string]SyncMark // nil until the overlay changes them
}

// NewOverlay returns an overlay over base (which may be nil).
func NewOverlay(base Records) *Overlay {
	return &Overlay{Base: base, recs: map[string]Record{}, files: map[string]map[string]FileSum{}}
}

// Load implements Records.
func (o *Overlay) Load(service string) (*Record, error) {
	o.mu.Lock()
	r, ok := o.recs[service]
	o.mu.Unlock()
	if ok {
		return &r, nil
	}
	if o.Base == nil {
		return nil, nil
	}
	return o.Base.Load(service)
}

// Files implements Records.
func (o *Overlay) Files(service string) (map[string]FileSum, error) {
	o.mu.Lock()
	f, ok := o.files[service]
	o.mu.Unlock()
	if ok {
		return f, nil
	}
	if o.Base == nil {
		return nil, nil
	}
	return o.Base.Files(service)
}

// Save implements Records, in memory.
func (o *Overlay) Save(r Record, files map[string]FileSum) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.recs[r.Service], o.files[r.Service] = r, files
	return nil
}

// IndexPath implements Records: the base's (the stat index is a cache, not
// state a dry run could falsify), "" without a base.
func (o *Overlay) IndexPath() string {
	if o.Base == nil {
		return ""
	}
	return o.Base.IndexPath()
}

// Key implements Records: the base's, so prints compare with its records.
func (o *Overlay) Key() []byte {
	if o.Base == nil {
		return nil
	}
	return o.Base.Key()
}

// BeginRecreate implements Records: a dry run recreates nothing.
func (o *Overlay) BeginRecreate([]string) error { return nil }

// EndRecreate implements Records.
func (o *Overlay) EndRecreate([]string) error { return nil }

// Recreating implements Records: what the base knows.
func (o *Overlay) Recreating(service string) bool {
	return o.Base != nil && o.Base.Recreating(service)
}
