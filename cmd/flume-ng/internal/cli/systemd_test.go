package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSystemdUnit: the example unit's command lines are ones flume-ng
// accepts.
func TestSystemdUnit(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "..", "examples", "systemd", "flume-ng.service"))
	if err != nil {
		t.Fatal(err)
	}
	text := strings.ReplaceAll(string(b), "\\\n", " ")
	found := map[string]bool{}
	for _, line := range strings.Split(text, "\n") {
		k, v, ok := strings.Cut(line, "=")
		if !ok || (k != "ExecStart" && k != "ExecStartPre") {
			continue
		}
		f := strings.Fields(v)
		if len(f) < 2 || filepath.Base(f[0]) != "flume-ng" {
			t.Fatalf("%s runs %q", k, v)
		}
		o, err := parseArgs(f[2:])
		if err != nil || o.name == "" || len(o.files) == 0 {
			t.Fatalf("%s: %v %+v", k, err, o)
		}
		found[k+" "+f[1]] = true
	}
	if !found["ExecStartPre validate"] || !found["ExecStart agent"] {
		t.Fatalf("commands found: %v", found)
	}
}
