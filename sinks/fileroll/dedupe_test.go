package fileroll

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"ampsflume/flume"
	"ampsflume/sinks/dedupe"
)

// bm returns events with bodies "e<i>" and bookmarks pub|i| for i in
// [from, to).
func bm(pub, from, to int) []*flume.Event {
	var out []*flume.Event
	for i := from; i < to; i++ {
		out = append(out, flume.NewEvent(fmt.Appendf(nil, "p%d-e%d", pub, i), map[string]string{"ampsBookmark": fmt.Sprintf("%d|%d|", pub, i)}))
	}
	return out
}

func lines(from, to int, pub int) string {
	var b strings.Builder
	for i := from; i < to; i++ {
		fmt.Fprintf(&b, "p%d-e%d\n", pub, i)
	}
	return b.String()
}

func extra(s *Sink, name string) float64 {
	for _, m := range s.ExtraMetrics() {
		if m.Name == name {
			return m.Value
		}
	}
	return -1
}

// output is the concatenation of the output files in name order, without
// the state file.
func output(t *testing.T, dir string) string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		b.Write(data)
	}
	return b.String()
}

func dedupeKV(kv map[string]string) map[string]string {
	out := map[string]string{"sink.dedupe.header": "ampsBookmark", "sink.batchSize": "4", "sink.rollInterval": "0"}
	for k, v := range kv {
		out[k] = v
	}
	return out
}

// restart stops h's sink and starts a new one on the same directory and
// channel, as a new process would.
func (h *harness) restart(tweak func(*Config)) {
	h.t.Helper()
	if err := h.sink.Stop(); err != nil {
		h.t.Fatal(err)
	}
	cfg := h.sink.cfg
	cfg.OpenFile = nil
	h.clock.Advance(1e6) // a new series of names
	if tweak != nil {
		tweak(&cfg)
	}
	s, err := New("k1", cfg, h.ch, nil)
	if err != nil {
		h.t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() { _ = s.Stop() })
	h.sink = s
}

func TestDedupeSkipsRedeliveries(t *testing.T) {
	h := newHarness(t, dedupeKV(nil), nil)
	putEvents(t, h.ch, bm(7, 1, 5)...)
	h.mustProcess(flume.Ready)
	// Redelivered by the source after a crash: 3 and 4 again, then new
	// ones, interleaved with another publisher.
	putEvents(t, h.ch, bm(7, 3, 7)...)
	putEvents(t, h.ch, bm(9, 1, 3)...)
	putEvents(t, h.ch, bm(7, 6, 8)...)
	for h.ch.Size() > 0 {
		if _, err := h.process(); err != nil {
			t.Fatal(err)
		}
	}
	want := lines(1, 5, 7) + lines(5, 7, 7) + lines(1, 3, 9) + lines(7, 8, 7)
	if got := output(t, h.dir); got != want {
		t.Fatalf("output %q\nwant %q", got, want)
	}
	if n := extra(h.sink, "EventDuplicateSkippedCount"); n != 3 {
		t.Fatalf("EventDuplicateSkippedCount = %v, want 3", n)
	}
	// A new sink on the same directory remembers.
	h.restart(nil)
	putEvents(t, h.ch, bm(7, 5, 10)...)
	putEvents(t, h.ch, bm(9, 1, 4)...)
	for h.ch.Size() > 0 {
		if _, err := h.process(); err != nil {
			t.Fatal(err)
		}
	}
	want += lines(8, 10, 7) + lines(3, 4, 9)
	if got := output(t, h.dir); got != want {
		t.Fatalf("after restart output %q\nwant %q", got, want)
	}
	if n := extra(h.sink, "EventDuplicateSkippedCount"); n != 5 {
		t.Fatalf("EventDuplicateSkippedCount = %v, want 5", n)
	}
	st, ok, err := dedupe.Load(filepath.Join(h.dir, StateFile))
	if err != nil || !ok || st.Highs[7] != 9 || st.Highs[9] != 3 || st.File != filepath.Base(h.sink.CurrentFile()) {
		t.Fatalf("state %+v %v %v (current file %s)", st, ok, err, h.sink.CurrentFile())
	}
}

// TestDedupeRestartCutsUnrecordedTail: a crash after a batch reached the
// file but before its record was saved leaves bytes past the recorded
// length; the next start cuts them off, and the redelivered batch is
// written once.
func TestDedupeRestartCutsUnrecordedTail(t *testing.T) {
	h := newHarness(t, dedupeKV(nil), nil)
	putEvents(t, h.ch, bm(7, 1, 5)...)
	h.mustProcess(flume.Ready)
	file := h.sink.CurrentFile()
	f, err := os.OpenFile(file, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(lines(5, 7, 7) + "p7-e7 torn"); err != nil {
		t.Fatal(err)
	}
	f.Close()
	h.restart(nil)
	if b, _ := os.ReadFile(file); string(b) != lines(1, 5, 7) {
		t.Fatalf("after restart %s = %q", file, b)
	}
	putEvents(t, h.ch, bm(7, 5, 9)...)
	h.mustProcess(flume.Ready)
	if got := output(t, h.dir); got != lines(1, 9, 7) {
		t.Fatalf("output %q", got)
	}
}

// TestDedupeCommitFailureAfterRecord: the record covers the batch, so the
// batch stays in the file and its retry is skipped.
func TestDedupeCommitFailureAfterRecord(t *testing.T) {
	dir := t.TempDir()
	ch := newChannel(t)
	fail := true
	cfg := Config{Directory: dir, BatchSize: 10, AppendNewline: true, DedupeHeader: "ampsBookmark"}
	s, err := New("k1", cfg, failingCommit{ch, &fail}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Stop() })
	putEvents(t, ch, bm(3, 1, 4)...)
	if _, err := s.Process(context.Background()); err == nil {
		t.Fatal("Process succeeded with a failing commit")
	}
	fail = false
	if _, err := s.Process(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := output(t, dir); got != lines(1, 4, 3) {
		t.Fatalf("output %q, want each event once", got)
	}
	if ch.Size() != 0 || extra(s, "EventDuplicateSkippedCount") != 3 {
		t.Fatalf("channel %d, skipped %v", ch.Size(), extra(s, "EventDuplicateSkippedCount"))
	}
}

// TestDedupeFailedWriteIsRetried: a torn write is cut out and its events
// are not taken for duplicates when they come again.
func TestDedupeFailedWriteIsRetried(t *testing.T) {
	var mu sync.Mutex
	budget := int64(-1)
	syncs := 0
	h := newHarness(t, dedupeKV(nil), func(c *Config) {
		c.OpenFile = func(path string) (File, error) {
			f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
			if err != nil {
				return nil, err
			}
			return faultFile{File: f, mu: &mu, budget: &budget, syncs: &syncs}, nil
		}
	})
	putEvents(t, h.ch, bm(7, 1, 5)...)
	h.mustProcess(flume.Ready)
	if syncs != 1 {
		t.Fatalf("fsyncs = %d: sink.dedupe.header implies sink.fsync", syncs)
	}
	putEvents(t, h.ch, bm(7, 5, 9)...)
	mu.Lock()
	budget = 9
	mu.Unlock()
	if _, err := h.process(); !errors.Is(err, errDiskFull) {
		t.Fatalf("Process = %v, want the injected error", err)
	}
	if got := output(t, h.dir); got != lines(1, 5, 7) {
		t.Fatalf("after the failure %q", got)
	}
	mu.Lock()
	budget = -1
	mu.Unlock()
	h.mustProcess(flume.Ready)
	if got := output(t, h.dir); got != lines(1, 9, 7) {
		t.Fatalf("after the retry %q", got)
	}
	if n := extra(h.sink, "EventDuplicateSkippedCount"); n != 0 {
		t.Fatalf("EventDuplicateSkippedCount = %v", n)
	}
}

func TestDedupeWithoutBookmarkWrites(t *testing.T) {
	h := newHarness(t, dedupeKV(nil), nil)
	putEvents(t, h.ch, flume.NewEvent([]byte("a"), nil), flume.NewEvent([]byte("a"), map[string]string{"ampsBookmark": "0|1|"}))
	putEvents(t, h.ch, bm(7, 1, 2)...)
	putEvents(t, h.ch, bm(7, 1, 2)...)
	h.mustProcess(flume.Ready)
	if got := output(t, h.dir); got != "a\na\n"+lines(1, 2, 7) {
		t.Fatalf("output %q", got)
	}
	if extra(h.sink, "EventNoBookmarkCount") != 2 || extra(h.sink, "EventDuplicateSkippedCount") != 1 {
		t.Fatalf("metrics %v", h.sink.ExtraMetrics())
	}
}

// TestDedupeRollRecordsNewFile: the record names a new file before anything
// is written to it.
func TestDedupeRollRecordsNewFile(t *testing.T) {
	h := newHarness(t, dedupeKV(map[string]string{"sink.rollInterval": "30"}), nil)
	putEvents(t, h.ch, bm(7, 1, 3)...)
	h.mustProcess(flume.Backoff)
	first := h.sink.CurrentFile()
	h.clock.Advance(30e9)
	h.mustProcess(flume.Backoff) // rolls, nothing to write
	second := h.sink.CurrentFile()
	if second == first || second == "" {
		t.Fatalf("did not roll: %s then %s", first, second)
	}
	st, _, err := dedupe.Load(filepath.Join(h.dir, StateFile))
	if err != nil || st.File != filepath.Base(second) || st.Length != 0 || st.Highs[7] != 2 {
		t.Fatalf("state after the roll %+v, %v", st, err)
	}
}

func TestDedupeCorruptStateRefusesStart(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, StateFile), []byte("not a state\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := New("k1", Config{Directory: dir, BatchSize: 1, DedupeHeader: "ampsBookmark"}, newChannel(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); !errors.Is(err, dedupe.ErrCorrupt) || !strings.Contains(err.Error(), "sink.dedupe.header") {
		t.Fatalf("Start = %v", err)
	}
}

// TestNoDedupeByDefault: without the key nothing changes: no state file, no
// extra metrics, duplicates written.
func TestNoDedupeByDefault(t *testing.T) {
	h := newHarness(t, map[string]string{"sink.batchSize": "10"}, nil)
	putEvents(t, h.ch, bm(7, 1, 3)...)
	putEvents(t, h.ch, bm(7, 1, 3)...)
	h.mustProcess(flume.Backoff)
	if got := output(t, h.dir); got != lines(1, 3, 7)+lines(1, 3, 7) {
		t.Fatalf("output %q", got)
	}
	if _, err := os.Stat(filepath.Join(h.dir, StateFile)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("state file: %v", err)
	}
	if h.sink.ExtraMetrics() != nil {
		t.Fatal("extra metrics without the key")
	}
}
