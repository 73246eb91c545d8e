package fingerprint

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rebuildd/rebuildd/statedir"
)

// TestBuildArgPartsAreKeyed: the parts of a print that hold build-arg
// values are keyed with the state dir's secret, so a record on disk holds
// no digest a guessed secret could be checked against offline; the rest
// of the print does not depend on the key.
func TestBuildArgPartsAreKeyed(t *testing.T) {
	f := newFixture(t)
	f.src.Args = map[string]string{"NPM_TOKEN": "hunter2"}
	f.src.Compose = "0123456789abcdef" // config's hash of the build: section, args included
	plain := f.print(t)
	if plain.Parts.Args != hashString("NPM_TOKEN=hunter2\x00") {
		t.Fatalf("without a key Args = %s, want the plain hash", plain.Parts.Args)
	}

	store, err := OpenStore(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(store.Key()) == 0 {
		t.Fatal("the store has no key")
	}
	f.src.Key = store.Key()
	keyed := f.print(t)
	again := f.print(t)
	if keyed.Parts.Args == plain.Parts.Args || keyed.Parts.Compose == plain.Parts.Compose {
		t.Errorf("keyed parts equal the plain ones: %+v", keyed.Parts)
	}
	if keyed.Parts.Args != again.Parts.Args || keyed.Sum != again.Sum {
		t.Error("a keyed print is not stable")
	}
	if keyed.Parts.Deps != plain.Parts.Deps || keyed.Parts.Dockerfile != plain.Parts.Dockerfile {
		t.Error("the key changed parts that hold no build args")
	}
	other, err := OpenStore(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	f.src.Key = other.Key()
	if f.print(t).Parts.Args == keyed.Parts.Args {
		t.Error("two state dirs keyed the args alike")
	}

	// On disk: the record holds the keyed digest only.
	if err := store.Save(Record{Service: "api", Fingerprint: keyed.Sum, Parts: keyed.Parts}, keyed.Files); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(store.Dir(), statedir.Version, "service-api.json"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), plain.Parts.Args) || strings.Contains(string(b), plain.Parts.Compose) {
		t.Errorf("the record holds a plain digest of the args: %s", b)
	}
}
