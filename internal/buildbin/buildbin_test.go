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

// runner is a testing.M whose Run is a function.
type runner func() int

func (r runner) Run() int { return r() }

// TestMainExitCodes checks the exit codes of Main once the commands are
// built: the tests' own, and 1 for tests that pass but leave a goroutine
// running; the set is removed either way.
func TestMainExitCodes(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	for _, tc := range []struct {
		name string
		run  func() int
		want int
	}{
		{"pass", func() int { return 0 }, 0},
		{"fail", func() int { return 3 }, 3},
		{"leak", func() int {
			go func() { <-release }()
			return 0
		}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir, err := os.MkdirTemp("", "buildbin-test-")
			if err != nil {
				t.Fatal(err)
			}
			var used Set
			code := run(runner(tc.run), Set{Dir: dir}, func(s Set) { used = s })
			if code != tc.want {
				t.Errorf("exit code %d, want %d", code, tc.want)
			}
			if used.Dir != dir {
				t.Errorf("use got %q, want %q", used.Dir, dir)
			}
			if _, err := os.Stat(dir); !os.IsNotExist(err) {
				t.Errorf("set %q not removed: %v", dir, err)
			}
		})
	}
}
