package statedir

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// keySize: a 256-bit key, HMAC-SHA-256's own block of strength.
const keySize = 32

// Key returns the state directory's secret key, creating it on first use.
// Records hash the build args (and the compose build: section that holds
// them) with it, so a guessable secret passed as a build arg cannot be
// confirmed offline from a copy of the records (a CI cache, a bug report)
// by hashing guesses. It lives beside the records, so it does not protect
// them from whoever can read the whole directory: Open keeps that to the
// user. A key that is damaged is replaced; the records made with the old
// one then match nothing, and each service is built once more.
func Key(dir string) ([]byte, error) {
	path := filepath.Join(dir, Version, "key")
	b, err := ReadFile(path)
	if err == nil && len(b) == keySize {
		return b, nil
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("read state key %q: %w", path, err)
	}
	key := make([]byte, keySize)
	rand.Read(key)
	if err == nil { // damaged: replace it
		if err := WriteAtomic(path, func(w io.Writer) error { _, err := w.Write(key); return err }); err != nil {
			return nil, fmt.Errorf("write state key %q: %w", path, err)
		}
		return key, nil
	}
	if err := createOnce(path, key); err != nil {
		return nil, err
	}
	// Another rebuildd (a --check beside the daemon) may have made it
	// first: the file is the key.
	if b, err = ReadFile(path); err != nil || len(b) != keySize {
		return nil, fmt.Errorf("read state key %q: %v", path, err)
	}
	return b, nil
}

// createOnce writes path only when it does not exist yet: the content goes
// to a temp file, which is then hard-linked into place. The link fails
// when another process got there first, so no reader sees a partial file
// and no writer overwrites another's.
func createOnce(path string, data []byte) error {
	var rnd [6]byte
	rand.Read(rnd[:])
	staged := path + ".new" + hex.EncodeToString(rnd[:])
	err := WriteAtomic(staged, func(w io.Writer) error { _, err := w.Write(data); return err })
	if err == nil {
		err = os.Link(staged, path) // link(2) neither follows staged nor replaces path
		os.Remove(staged)
	}
	if err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("create state key %q: %w", path, err)
	}
	return nil
}
