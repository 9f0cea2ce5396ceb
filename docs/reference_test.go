package docs

import (
	"bytes"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"ampsflume/internal/docgen"
	_ "ampsflume/plugins"
)

// TestReferenceUpToDate: the committed reference is exactly what the specs
// render today.
func TestReferenceUpToDate(t *testing.T) {
	pages := docgen.Pages()
	names := make([]string, 0, len(pages))
	for name := range pages {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		got, err := os.ReadFile(filepath.Join("reference", name))
		if err != nil {
			t.Errorf("reference/%s: %v; run `%s`", name, err, docgen.Command)
			continue
		}
		if !bytes.Equal(got, pages[name]) {
			t.Errorf("reference/%s is stale: the component specs changed; run `%s` and commit the result", name, docgen.Command)
		}
	}
	committed, err := filepath.Glob(filepath.Join("reference", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range committed {
		if _, ok := pages[filepath.Base(f)]; !ok {
			t.Errorf("%s is no longer generated; run `%s` (it removes it) and commit the result", f, docgen.Command)
		}
	}
}
