// Package ha tests high availability end to end with real processes: a
// replicated pair of ampserver instances, spark publishing with failover
// and a publish store, and a flume-ng agent whose AMPS source (bookmark
// subscription with a bookmark log, failing over between uri1 and uri2)
// feeds a file channel and a file_roll sink. Instances are killed with
// SIGKILL and restarted; at the end every message is in the output exactly
// once. Set AMPSFLUME_HA_BENCH=1 to also run the failover-time measurement
// (20 kills) reported in BENCHMARKS.md.
package ha

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	"go.uber.org/goleak"
)

// binDir holds ampserver, flume-ng and spark, built by TestMain.
var binDir string

func TestMain(m *testing.M) { os.Exit(testMain(m)) }

func testMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "ha-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	gobin := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(gobin); err != nil {
		gobin = "go"
	}
	// The commands are built without the race detector: these tests are
	// about processes dying, and race builds would make the 2-core runs
	// several times slower.
	build := exec.Command(gobin, "build", "-o", dir+string(filepath.Separator), "./cmd/ampserver", "./cmd/flume-ng", "./cmd/spark")
	build.Dir = filepath.Join("..", "..")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building the commands: %v\n%s", err, out)
		return 1
	}
	binDir = dir
	code := m.Run()
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintf(os.Stderr, "goleak: %v\n", err)
			return 1
		}
	}
	return code
}

// syncBuffer is a bytes.Buffer safe for a process writing and a test reading.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
