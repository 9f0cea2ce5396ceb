package hdfs

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"ampsflume/flume"
	"ampsflume/sinks/dedupe"
)

func bmEvents(pub, from, to int) []*flume.Event {
	var out []*flume.Event
	for i := from; i < to; i++ {
		out = append(out, ev(fmt.Sprintf("p%d-%d", pub, i), "ampsBookmark", fmt.Sprintf("%d|%d|", pub, i), "b", fmt.Sprint(i%2)))
	}
	return out
}

// allOutput is every output line, in-use or complete, sorted, without the
// record.
func (h *harness) allOutput() []string {
	h.t.Helper()
	var out []string
	for _, f := range h.files() {
		if filepath.Base(f) == StateFile {
			continue
		}
		for _, l := range strings.Split(strings.TrimSuffix(h.read(f), "\n"), "\n") {
			if l != "" {
				out = append(out, l)
			}
		}
	}
	sortStrings(out)
	return out
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

func wantLines(pub, from, to int) []string {
	var out []string
	for i := from; i < to; i++ {
		out = append(out, fmt.Sprintf("p%d-%d", pub, i))
	}
	sortStrings(out)
	return out
}

func (h *harness) metric(name string) float64 {
	for _, m := range h.sink.ExtraMetrics() {
		if m.Name == name {
			return m.Value
		}
	}
	return -1
}

func dedupeKV() map[string]string {
	return map[string]string{"hdfs.dedupe.header": "ampsBookmark", "hdfs.path": "$DIR/%{b}", "hdfs.rollCount": "3", "hdfs.batchSize": "10", "hdfs.rollInterval": "0"}
}

// TestDedupeBuckets: events of one publisher spread over two buckets;
// redeliveries are skipped whichever bucket they would go to, also after a
// restart.
func TestDedupeBuckets(t *testing.T) {
	h := newHarness(t, dedupeKV(), nil)
	putEvents(t, h.ch, bmEvents(7, 1, 9)...)
	h.mustProcess()
	putEvents(t, h.ch, bmEvents(7, 4, 12)...)
	h.mustProcess()
	equal(t, "output", h.allOutput(), wantLines(7, 1, 12))
	if n := h.metric("EventDuplicateSkippedCount"); n != 5 {
		t.Fatalf("EventDuplicateSkippedCount = %v", n)
	}
	if err := h.sink.Stop(); err != nil {
		t.Fatal(err)
	}
	h.clock.Advance(1e9)
	h.sink = h.build(nil)
	putEvents(t, h.ch, bmEvents(7, 10, 14)...)
	h.mustProcess()
	equal(t, "output after restart", h.allOutput(), wantLines(7, 1, 14))
}

// TestDedupeRecoveryCutsAndRemoves: a crash after a batch reached the files
// but before the record: the listed file is cut back, a file the record
// does not know is removed, and the redelivered batch is written once.
func TestDedupeRecoveryCutsAndRemoves(t *testing.T) {
	h := newHarness(t, dedupeKV(), nil)
	putEvents(t, h.ch, bmEvents(7, 1, 5)...)
	h.mustProcess()
	_, inUse := h.split()
	if len(inUse) != 2 {
		t.Fatalf("in-use files %v", inUse)
	}
	// The crash: the sink is abandoned without Stop; bytes of an
	// unrecorded batch are in a listed file and in a new one.
	listed := filepath.Join(h.dir, inUse[0])
	f, err := os.OpenFile(listed, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("p7-5\np7-")
	f.Close()
	stray := filepath.Join(h.dir, "1", "FlumeData.1709634030999.tmp")
	if err := os.WriteFile(stray, []byte("p7-7\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	h.sink.mu.Lock()
	h.sink.buckets = map[string]*bucket{} // forget the open files, as a crash would
	h.sink.mu.Unlock()
	h.clock.Advance(1e9)
	h.sink = h.build(nil)
	equal(t, "output after recovery", h.allOutput(), wantLines(7, 1, 5))
	putEvents(t, h.ch, bmEvents(7, 3, 9)...)
	h.mustProcess()
	equal(t, "output", h.allOutput(), wantLines(7, 1, 9))
	if _, err := os.Stat(stray); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("unrecorded in-use file not removed: %v", err)
	}
}

// TestDedupeCommitFailureAfterRecord: the batch stays and its retry is
// skipped.
func TestDedupeCommitFailureAfterRecord(t *testing.T) {
	h := newHarness(t, dedupeKV(), nil)
	fail := true
	h.sink.channel = failingCommitCh{h.ch, &fail}
	putEvents(t, h.ch, bmEvents(3, 1, 4)...)
	if _, err := h.process(); err == nil {
		t.Fatal("Process succeeded with a failing commit")
	}
	fail = false
	h.mustProcess()
	equal(t, "output", h.allOutput(), wantLines(3, 1, 4))
	if h.ch.Size() != 0 || h.metric("EventDuplicateSkippedCount") != 3 {
		t.Fatalf("channel %d, skipped %v", h.ch.Size(), h.metric("EventDuplicateSkippedCount"))
	}
	st, ok, err := dedupe.Load(filepath.Join(h.dir, StateFile))
	if err != nil || !ok || st.Highs[3] != 3 {
		t.Fatalf("record %+v %v %v", st, ok, err)
	}
}

type failingCommitCh struct {
	flume.Channel
	fail *bool
}

type failingCommitTx struct {
	flume.Transaction
	fail *bool
}

func (c failingCommitCh) NewTransaction() flume.Transaction {
	return failingCommitTx{c.Channel.NewTransaction(), c.fail}
}

func (t failingCommitTx) Commit() error {
	if *t.fail {
		_ = t.Transaction.Rollback()
		return errors.New("injected commit failure")
	}
	return t.Transaction.Commit()
}

func TestDedupeConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		kv   map[string]string
		want string
	}{
		{map[string]string{"hdfs.path": "hdfs://nn:8020/x"}, "needs a local hdfs.path"},
		{map[string]string{"hdfs.path": "s3://b/x"}, "needs a local hdfs.path"},
		{map[string]string{"hdfs.path": "%{h}/x"}, "literal directory"},
		{map[string]string{"hdfs.path": "/x", "hdfs.emptyInUseSuffix": "true"}, "in-use prefix or suffix"},
	} {
		kv := map[string]string{"hdfs.fileType": "DataStream", "hdfs.dedupe.header": "ampsBookmark"}
		for k, v := range tc.kv {
			kv[k] = v
		}
		_, err := ParseConfig("k", flume.MapContext(`sink "k"`, kv))
		var ce *flume.ConfigError
		if !errors.As(err, &ce) || ce.Key != "hdfs.dedupe.header" || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want %q on hdfs.dedupe.header", tc.kv, err, tc.want)
		}
	}
}

// TestNoDedupeByDefault: without the key, no record and no extra metrics.
func TestNoDedupeByDefault(t *testing.T) {
	h := newHarness(t, nil, nil)
	putEvents(t, h.ch, bmEvents(7, 1, 3)...)
	putEvents(t, h.ch, bmEvents(7, 1, 3)...)
	h.mustProcess()
	if len(h.allOutput()) != 4 {
		t.Fatalf("output %v", h.allOutput())
	}
	if _, err := os.Stat(filepath.Join(h.dir, StateFile)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("record: %v", err)
	}
	if len(h.sink.ExtraMetrics()) != 2 {
		t.Fatalf("metrics %v", h.sink.ExtraMetrics())
	}
}
