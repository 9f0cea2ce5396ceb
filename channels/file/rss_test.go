package file

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
)

// peakRSS reads the process's peak resident set size (VmHWM) in bytes.
func peakRSS() (int64, error) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("VmHWM %q: %w", v, err)
			}
			return kb << 10, nil
		}
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, fmt.Errorf("no VmHWM in /proc/self/status")
}

// resetPeakRSS makes VmHWM start again from the current RSS, so that what
// ran before in the same process does not count.
func resetPeakRSS() error { return os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

// queueEvents puts n 100-byte events in batches of 1000 into a fresh
// channel, checkpointing every ckptEvery events as the periodic checkpoint
// would, and returns the peak RSS the process reached meanwhile; then it
// stops the channel and starts it again from its checkpoint, and returns
// the peak RSS of that start too.
func queueEvents(tb testing.TB, n, ckptEvery int) (queued, restart int64) {
	cfg := DefaultConfig()
	dir := tb.TempDir()
	cfg.CheckpointDir, cfg.DataDirs = dir+"/checkpoint", []string{dir + "/data"}
	cfg.Capacity, cfg.TransactionCapacity = n, 1000
	cfg.CheckpointInterval = 0
	cfg.FreeSpace = func(string) (uint64, error) { return 1 << 50, nil }
	c, err := New("rss", cfg, nil)
	if err != nil {
		tb.Fatal(err)
	}
	if err := c.Start(context.Background()); err != nil {
		tb.Fatal(err)
	}
	evs := benchEvents(1000, 100)
	if err := resetPeakRSS(); err != nil {
		tb.Skipf("cannot reset the peak RSS: %v", err)
	}
	for i := 0; i < n; i += len(evs) {
		tx := c.NewTransaction()
		if err := tx.Begin(); err != nil {
			tb.Fatal(err)
		}
		for _, e := range evs {
			if err := tx.Put(e); err != nil {
				tb.Fatal(err)
			}
		}
		if err := tx.Commit(); err != nil {
			tb.Fatal(err)
		}
		tx.Close()
		if (i+len(evs))%ckptEvery == 0 {
			if err := c.checkpoint(); err != nil {
				tb.Fatal(err)
			}
		}
	}
	if c.Size() != n {
		tb.Fatalf("queued %d events, want %d", c.Size(), n)
	}
	if queued, err = peakRSS(); err != nil {
		tb.Skipf("no peak RSS: %v", err)
	}
	if err := c.Stop(); err != nil {
		tb.Fatal(err)
	}
	c = nil
	runtime.GC()
	debug.FreeOSMemory()
	if err := resetPeakRSS(); err != nil {
		tb.Fatal(err)
	}
	c, err = New("rss", cfg, nil)
	if err != nil {
		tb.Fatal(err)
	}
	if err := c.Start(context.Background()); err != nil {
		tb.Fatal(err)
	}
	if restart, err = peakRSS(); err != nil {
		tb.Fatal(err)
	}
	if c.Size() != n {
		tb.Errorf("restarted with %d events, want %d", c.Size(), n)
	}
	if err := c.Stop(); err != nil {
		tb.Fatal(err)
	}
	return queued, restart
}

// TestPeakRSS10M: with ten million events queued (and checkpoints taken
// meanwhile) the process stays under 200 MB resident, and so does a
// restart from the checkpoint. It writes 1.3 GB of log, so it runs only
// with AMPSFLUME_BIG=1.
func TestPeakRSS10M(t *testing.T) {
	if os.Getenv("AMPSFLUME_BIG") != "1" {
		t.Skip("set AMPSFLUME_BIG=1 to queue 10 million events (1.3 GB of log)")
	}
	const limit = 200 << 20
	queued, restart := queueEvents(t, 10_000_000, 1_000_000)
	t.Logf("peak RSS with 10M events queued: %.1f MB; restart from the checkpoint: %.1f MB",
		float64(queued)/(1<<20), float64(restart)/(1<<20))
	if queued >= limit {
		t.Errorf("peak RSS while queueing %.1f MB, want under %d MB", float64(queued)/(1<<20), limit>>20)
	}
	if restart >= limit {
		t.Errorf("peak RSS of the restart %.1f MB, want under %d MB", float64(restart)/(1<<20), limit>>20)
	}
}

// BenchmarkPeakRSS1M reports the peak RSS while one million events are
// queued and while they are loaded again at a restart (run with
// -benchtime 1x).
func BenchmarkPeakRSS1M(b *testing.B) {
	for range b.N {
		queued, restart := queueEvents(b, 1_000_000, 250_000)
		b.ReportMetric(float64(queued)/(1<<20), "peak-RSS-MB")
		b.ReportMetric(float64(restart)/(1<<20), "restart-peak-RSS-MB")
	}
}
