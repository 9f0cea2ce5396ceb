package buildbin

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

func TestBuild(t *testing.T) {
	s, err := Build(false, "cmd/flume-ng")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Remove)
	out, err := exec.Command(s.Path("flume-ng"), "version").CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "Flume ") {
		t.Fatalf("flume-ng version: %v\n%s", err, out)
	}
	s.Remove()
	if _, err := os.Stat(s.Dir); !os.IsNotExist(err) {
		t.Fatalf("Remove left %s: %v", s.Dir, err)
	}
	if _, err := Build(false, "cmd/no-such-command"); err == nil {
		t.Fatal("building a missing command succeeded")
	}
}
