// Package ha tests high availability end to end with real processes: a
// replicated pair of ampserver instances, spark publishing with failover
// and a publish store, and a flume-ng agent whose AMPS source (bookmark
// subscription with a bookmark log, failing over between uri1 and uri2)
// feeds a file channel and a file_roll sink. Instances are killed with
// SIGKILL and restarted; at the end every message is in the output exactly
// once, also with two publishers that the two journals interleave
// differently and a source that resumes on the other instance with a
// bookmark list naming only one of them. Set AMPSFLUME_HA_BENCH=1 to also run the failover-time measurement
// (20 kills) reported in BENCHMARKS.md.
package ha

import (
	"os"
	"testing"

	"ampsflume/internal/buildbin"
)

// binDir holds ampserver, flume-ng and spark, built by TestMain.
var binDir string

func TestMain(m *testing.M) {
	// The commands are built without the race detector: these tests are about
	// processes dying, and race builds would make the 2-core runs several times
	// slower.
	os.Exit(buildbin.Main(m, func(s buildbin.Set) { binDir = s.Dir }, false, "cmd/ampserver", "cmd/flume-ng", "cmd/spark"))
}
