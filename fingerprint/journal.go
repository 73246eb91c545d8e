package fingerprint

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/rebuildd/rebuildd/statedir"
)

// A record says what an image was built from; it never claims the
// containers were recreated from it. What a compose up was doing when
// rebuildd was killed is kept here instead: a marker per service written
// before the up and removed after it reported back. A marker found later
// means the recreate was cut short, whatever state the containers are in
// (docs/design.md, "One decision").

func (s *Store) recreatePath(service string) string {
	return filepath.Join(s.dir, statedir.Version, "recreating-"+service)
}

// BeginRecreate marks services as being recreated.
func (s *Store) BeginRecreate(services []string) error {
	for _, svc := range services {
		if err := statedir.WriteAtomic(s.recreatePath(svc), func(w io.Writer) error { return nil }); err != nil {
			return err
		}
	}
	return nil
}

// EndRecreate clears the marks: compose up reported back (success or not).
func (s *Store) EndRecreate(services []string) error {
	var errs []error
	for _, svc := range services {
		if err := os.Remove(s.recreatePath(svc)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Recreating reports whether a recreate of service began and never ended.
func (s *Store) Recreating(service string) bool {
	_, err := os.Lstat(s.recreatePath(service))
	return err == nil
}
