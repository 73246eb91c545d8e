package statedir

import (
	"strings"
	"testing"
)

func TestDefaultKeysProjectDir(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", "/cache")
	a, _ := Default("shop", "/src/a/shop")
	b, _ := Default("shop", "/src/b/shop")
	if a == b || !strings.HasPrefix(a, "/cache/rebuildd/shop-") {
		t.Errorf("state dirs %q and %q", a, b)
	}
}
