package amps

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"ampsflume/amps/bookmark"
	"ampsflume/flume"
)

func bodies(from, to int) []string {
	var out []string
	for i := from; i < to; i++ {
		out = append(out, fmt.Sprintf("m%d", i))
	}
	return out
}

func TestBatching(t *testing.T) {
	h := newHarness(t, map[string]string{"maxBatch": "4", "maxBuffers": "3"})
	mustProcess(t, h.src, flume.Backoff) // nothing yet
	for i := 0; i < 10; i++ {
		h.feed.push(t, pub(i))
	}
	waitFor(t, "10 messages buffered", func() bool { return h.queued() == 10 })
	for _, want := range []int{4, 4, 2} {
		before := len(h.proc.committed())
		mustProcess(t, h.src, flume.Ready)
		if got := len(h.proc.committed()) - before; got != want {
			t.Fatalf("batch of %d, want %d", got, want)
		}
	}
	mustProcess(t, h.src, flume.Backoff)
	if got := h.proc.committed(); !slices.Equal(got, bodies(0, 10)) {
		t.Fatalf("committed %v", got)
	}
	c := h.src.counter
	if c.EventReceived.Load() != 10 || c.EventAccepted.Load() != 10 || c.AppendBatchAccepted.Load() != 3 || c.AppendBatchReceived.Load() != 3 {
		t.Fatalf("counters: received %d accepted %d batches %d/%d", c.EventReceived.Load(), c.EventAccepted.Load(), c.AppendBatchAccepted.Load(), c.AppendBatchReceived.Load())
	}
}

// TestWake checks that the runner is woken each time the buffer goes from
// empty to non-empty, and not for every message.
func TestWake(t *testing.T) {
	h := newHarness(t, map[string]string{"maxBatch": "100"})
	if h.wakeCount() != 0 {
		t.Fatal("woken before any message")
	}
	h.feed.push(t, pub(0))
	waitFor(t, "a wake", func() bool { return h.wakeCount() == 1 })
	h.feed.push(t, pub(1))
	h.feed.push(t, pub(2))
	waitFor(t, "3 queued", func() bool { return h.queued() == 3 })
	if h.wakeCount() != 1 {
		t.Fatalf("woken %d times for one empty→non-empty transition", h.wakeCount())
	}
	mustProcess(t, h.src, flume.Ready)
	h.feed.push(t, pub(3))
	waitFor(t, "a second wake", func() bool { return h.wakeCount() == 2 })
}

// TestBackPressure fills the buffer: the reader stops taking messages at
// maxBuffers × maxBatch, logs the pause once per pause, and resumes when a
// batch commits.
func TestBackPressure(t *testing.T) {
	h := newHarness(t, map[string]string{"maxBatch": "3", "maxBuffers": "2"})
	for i := 0; i < 6; i++ {
		h.feed.push(t, pub(i))
	}
	waitFor(t, "6 held", func() bool { return h.held() == 6 })
	// The 7th message is taken off the feed by the reader, which then
	// waits for room and pulls nothing more: the 8th cannot be pushed.
	h.feed.push(t, pub(6))
	waitFor(t, "the pause", func() bool { return h.logs.count(pauseMessage) == 1 })
	if h.feed.tryPush(pub(7), 50*time.Millisecond) {
		t.Fatal("reader kept pulling while the buffer was full")
	}
	if h.held() != 6 {
		t.Fatalf("held %d, want the bound 6", h.held())
	}
	info := h.src.StatusInfo()
	if info["paused"] != "true" || info["pauses"] != "1" || info["messagesBuffered"] != "6" {
		t.Fatalf("status %v", info)
	}
	// A failing commit keeps its room: still paused.
	h.proc.failures = 1
	if _, err := h.src.Process(context.Background()); err == nil {
		t.Fatal("failing commit reported success")
	}
	if h.held() != 6 {
		t.Fatalf("held %d after a failed commit, want 6", h.held())
	}
	mustProcess(t, h.src, flume.Ready) // commits m0..m2
	waitFor(t, "m6 buffered", func() bool { return h.held() == 4 && h.queued() == 4 })
	h.feed.push(t, pub(7))
	h.feed.push(t, pub(8))
	h.feed.push(t, pub(9))
	waitFor(t, "full again", func() bool { return h.held() == 6 && h.logs.count(pauseMessage) == 2 })
	if got := h.logs.count(pauseMessage); got != 2 {
		t.Fatalf("pause logged %d times for 2 pauses", got)
	}
	waitFor(t, "everything committed", func() bool {
		if _, err := h.src.Process(context.Background()); err != nil {
			t.Fatal(err)
		}
		return len(h.proc.committed()) == 10
	})
	if got := h.proc.committed(); !slices.Equal(got, bodies(0, 10)) {
		t.Fatalf("committed %v", got)
	}
	if m := metric(h.src, "BufferPauseCount"); m != 2 {
		t.Fatalf("BufferPauseCount = %v", m)
	}
}

func metric(s *Source, name string) float64 {
	for _, m := range s.ExtraMetrics() {
		if m.Name == name {
			return m.Value
		}
	}
	return -1
}

// TestRetrySameBatch: a batch that fails N times in a row is offered again,
// whole and in order, until it commits; nothing is dropped or duplicated.
// (The original source dropped a batch that failed twice.)
func TestRetrySameBatch(t *testing.T) {
	for _, n := range []int{1, 2, 3, 7} {
		t.Run(strconv.Itoa(n), func(t *testing.T) {
			dir := t.TempDir()
			h := newHarness(t, map[string]string{"maxBatch": "5", "bookmarkLog": filepath.Join(dir, "bm.log"), "subscriptionId": "s1"})
			for i := 1; i <= 8; i++ {
				h.feed.push(t, pubBM(i))
			}
			waitFor(t, "8 queued", func() bool { return h.queued() == 8 })
			h.proc.failures = n
			for i := 0; i < n; i++ {
				st, err := h.src.Process(context.Background())
				if err == nil || st != flume.Backoff || !errors.Is(err, flume.ErrChannelFull) {
					t.Fatalf("attempt %d: %v, %v; want Backoff and the channel error", i+1, st, err)
				}
				// Nothing is discarded while the batch is not committed.
				if mr := h.src.store.MostRecent("s1"); mr != bookmark.Epoch {
					t.Fatalf("after failed attempt %d MostRecent = %s", i+1, mr)
				}
			}
			mustProcess(t, h.src, flume.Ready)
			mustProcess(t, h.src, flume.Ready)
			mustProcess(t, h.src, flume.Backoff)
			if h.proc.calls != n+2 {
				t.Fatalf("%d calls, want %d", h.proc.calls, n+2)
			}
			for i := 0; i <= n; i++ {
				if !slices.Equal(h.proc.attempts[i], bodies(1, 6)) {
					t.Fatalf("attempt %d offered %v, want the same first batch", i+1, h.proc.attempts[i])
				}
			}
			if got := h.proc.committed(); !slices.Equal(got, bodies(1, 9)) {
				t.Fatalf("committed %v", got)
			}
			if mr := h.src.store.MostRecent("s1"); mr != "77|8|" {
				t.Fatalf("MostRecent = %s after all committed", mr)
			}
			c := h.src.counter
			if c.ChannelWriteFail.Load() != int64(n) || c.EventAccepted.Load() != 8 || c.EventReceived.Load() != 8 {
				t.Fatalf("counters: fail %d accepted %d received %d", c.ChannelWriteFail.Load(), c.EventAccepted.Load(), c.EventReceived.Load())
			}
			if got := h.logs.count("Channel may be full"); got != n {
				t.Fatalf("channel-full warning logged %d times, want %d", got, n)
			}
		})
	}
}

// TestRetryNonChannelError: any error, not only a full channel, keeps the
// batch.
func TestRetryNonChannelError(t *testing.T) {
	h := newHarness(t, nil)
	h.feed.push(t, pub(1))
	waitFor(t, "queued", func() bool { return h.queued() == 1 })
	h.proc.failures, h.proc.failErr = 2, errors.New("interceptor exploded")
	for i := 0; i < 2; i++ {
		if _, err := h.src.Process(context.Background()); err == nil {
			t.Fatal("error not reported")
		}
	}
	mustProcess(t, h.src, flume.Ready)
	if got := h.proc.committed(); !slices.Equal(got, []string{"m1"}) {
		t.Fatalf("committed %v", got)
	}
}

func TestDuplicatesAndCmdTypeFilter(t *testing.T) {
	h := newHarness(t, map[string]string{"bookmarkLog": filepath.Join(t.TempDir(), "bm.log"), "subscriptionId": "s1"})
	if h.cfg.Store == nil || h.cfg.SubID != "s1" {
		t.Fatal("factory did not get the bookmark store and sub id")
	}
	h.feed.push(t, &Message{Command: "group_begin"})
	h.feed.push(t, pubBM(1))
	h.feed.push(t, pubBM(2))
	h.feed.push(t, &Message{Command: "ack", AckType: "persisted", Bookmark: "77|1|"})
	h.feed.push(t, pubBM(1)) // redelivered after a reconnect
	h.feed.push(t, &Message{Command: "sow", Data: []byte("s"), Bookmark: "77|3|"})
	h.feed.push(t, &Message{Command: "group_end"})
	h.feed.push(t, pubBM(2))
	h.feed.push(t, pubBM(4))
	waitFor(t, "all read", func() bool { return metric(h.src, "DuplicateCount") == 2 && h.queued() == 4 })
	mustProcess(t, h.src, flume.Ready)
	if got := h.proc.committed(); !slices.Equal(got, []string{"m1", "m2", "s", "m4"}) {
		t.Fatalf("committed %v", got)
	}
	if metric(h.src, "FilteredCount") != 3 {
		t.Fatalf("FilteredCount = %v", metric(h.src, "FilteredCount"))
	}
	// The persisted ack caps the resume point.
	if mr := h.src.store.MostRecent("s1"); mr != "77|1|" {
		t.Fatalf("MostRecent = %s, want the persisted 77|1|", mr)
	}
}

func TestEventHeaders(t *testing.T) {
	h := newHarness(t, map[string]string{"eventHeaders": "command, topic,sowKey,ampsTimestamp,bookmark,correlationId,subId,length,timestamp"})
	h.feed.push(t, &Message{Command: "sow", Topic: "Orders", SowKey: "k1", Timestamp: "20240102T030405.000006Z",
		Bookmark: "1|2|", CorrelationID: "x", SubID: "s", Data: []byte("hello")})
	h.feed.push(t, &Message{Command: "publish", Topic: "Orders", Data: nil})
	waitFor(t, "queued", func() bool { return h.queued() == 2 })
	var got []*flume.Event
	h.src.env.Processor = processorFunc(func(evs []*flume.Event) error { got = evs; return nil })
	mustProcess(t, h.src, flume.Ready)
	want := map[string]string{"command": "sow", "topic": "Orders", "sowKey": "k1", "ampsTimestamp": "20240102T030405.000006Z",
		"bookmark": "1|2|", "correlationId": "x", "subId": "s", "length": "5", "timestamp": strconv.FormatInt(h.clock.now().UnixMilli(), 10)}
	if fmt.Sprint(got[0].Headers) != fmt.Sprint(want) || string(got[0].Body) != "hello" {
		t.Fatalf("headers %v body %q", got[0].Headers, got[0].Body)
	}
	want2 := map[string]string{"command": "publish", "topic": "Orders", "length": "0", "timestamp": want["timestamp"]}
	if fmt.Sprint(got[1].Headers) != fmt.Sprint(want2) || got[1].Body == nil {
		t.Fatalf("headers %v body %v", got[1].Headers, got[1].Body)
	}
}

// TestExactlyOnceHeader: in exactly-once mode every event carries its
// bookmark, whatever eventHeaders says; a message without a bookmark gets no
// header (the sink writes it unconditionally).
func TestExactlyOnceHeader(t *testing.T) {
	h := newHarness(t, map[string]string{"bookmarkLog": filepath.Join(t.TempDir(), "bm.log"), "subscriptionId": "s1",
		"exactlyOnce": "true", "eventHeaders": "topic"})
	h.feed.push(t, pubBM(1))
	h.feed.push(t, pub(2))
	h.feed.push(t, pubBM(3))
	waitFor(t, "queued", func() bool { return h.queued() == 3 })
	var got []*flume.Event
	h.src.env.Processor = processorFunc(func(evs []*flume.Event) error { got = evs; return nil })
	mustProcess(t, h.src, flume.Ready)
	want := []map[string]string{
		{"topic": "Orders", DefaultExactlyOnceHeader: "77|1|"},
		{"topic": "Orders"},
		{"topic": "Orders", DefaultExactlyOnceHeader: "77|3|"},
	}
	if len(got) != len(want) {
		t.Fatalf("%d events", len(got))
	}
	for i := range want {
		if fmt.Sprint(got[i].Headers) != fmt.Sprint(want[i]) {
			t.Fatalf("event %d headers %v, want %v", i, got[i].Headers, want[i])
		}
	}
}

type processorFunc func([]*flume.Event) error

func (f processorFunc) ProcessEvent(e *flume.Event) error          { return f([]*flume.Event{e}) }
func (f processorFunc) ProcessEventBatch(evs []*flume.Event) error { return f(evs) }

func TestNoEventHeadersStillHasMap(t *testing.T) {
	h := newHarness(t, nil)
	msg := pub(1)
	h.feed.push(t, msg)
	waitFor(t, "queued", func() bool { return h.queued() == 1 })
	// The Message is the feed's to reuse once Next is called again; only
	// its Data is handed over.
	*msg = Message{Command: "publish", Data: []byte("other")}
	var got []*flume.Event
	h.src.env.Processor = processorFunc(func(evs []*flume.Event) error { got = evs; return nil })
	mustProcess(t, h.src, flume.Ready)
	if got[0].Headers == nil || len(got[0].Headers) != 0 || string(got[0].Body) != "m1" {
		t.Fatalf("event %+v", got[0])
	}
}

// TestPrune checks the prune schedule with an injected clock: not before
// pruneTimeThreshold, then on the next poll, and on Stop.
func TestPrune(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bm.log")
	h := newHarness(t, map[string]string{"maxBatch": "1000", "bookmarkLog": path, "subscriptionId": "s1", "pruneTimeThreshold": "60000"})
	size := func() int64 {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size()
	}
	for i := 1; i <= 200; i++ {
		h.feed.push(t, pubBM(i))
	}
	waitFor(t, "queued", func() bool { return h.queued() == 200 })
	mustProcess(t, h.src, flume.Ready)
	full := size()
	h.clock.advance(59 * time.Second)
	mustProcess(t, h.src, flume.Backoff)
	if size() != full {
		t.Fatal("pruned before the threshold")
	}
	h.clock.advance(time.Second)
	mustProcess(t, h.src, flume.Backoff)
	pruned := size()
	if pruned*10 > full {
		t.Fatalf("prune left %d of %d bytes", pruned, full)
	}
	// More traffic, then Stop prunes again.
	for i := 201; i <= 300; i++ {
		h.feed.push(t, pubBM(i))
	}
	waitFor(t, "queued", func() bool { return h.queued() == 100 })
	if err := h.src.Stop(); err != nil {
		t.Fatal(err)
	}
	if size() != pruned {
		t.Fatalf("stop did not prune: %d bytes, want %d", size(), pruned)
	}
	st, err := bookmark.OpenLogged(path, bookmark.LoggedOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if mr := st.MostRecent("s1"); mr != "77|300|" {
		t.Fatalf("MostRecent after stop = %s (stop commits what is buffered)", mr)
	}
}

func TestPruneDisabled(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bm.log")
	h := newHarness(t, map[string]string{"bookmarkLog": path, "subscriptionId": "s1", "pruneTimeThreshold": "0"})
	for i := 1; i <= 50; i++ {
		h.feed.push(t, pubBM(i))
	}
	waitFor(t, "queued", func() bool { return h.queued() == 50 })
	mustProcess(t, h.src, flume.Ready)
	h.clock.advance(24 * time.Hour)
	mustProcess(t, h.src, flume.Backoff)
	if err := h.src.Stop(); err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(path)
	if fi.Size() < 50*2*20 {
		t.Fatalf("log of %d bytes was pruned with pruneTimeThreshold=0", fi.Size())
	}
}

// TestStopLeavesUncommittedForRedelivery: when the channels refuse the
// buffered messages at stop, they stay undiscarded and a restarted source
// resumes before them.
func TestStopLeavesUncommittedForRedelivery(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bm.log")
	h := newHarness(t, map[string]string{"maxBatch": "2", "bookmarkLog": path, "subscriptionId": "s1"})
	for i := 1; i <= 5; i++ {
		h.feed.push(t, pubBM(i))
	}
	waitFor(t, "queued", func() bool { return h.queued() == 5 })
	mustProcess(t, h.src, flume.Ready) // 1, 2 committed
	h.proc.failures = 1000
	if err := h.src.Stop(); err == nil {
		t.Fatal("stop with uncommitted messages reported no error")
	}
	if _, err := h.src.Process(context.Background()); err == nil {
		t.Fatal("Process after Stop succeeded")
	}
	st, err := bookmark.OpenLogged(path, bookmark.LoggedOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if mr := st.MostRecent("s1"); mr != "77|2|" {
		t.Fatalf("resume point %s, want 77|2|", mr)
	}
	for i := 3; i <= 5; i++ {
		if st.IsDiscarded("s1", fmt.Sprintf("77|%d|", i)) {
			t.Fatalf("uncommitted 77|%d| would be dropped as a duplicate after restart", i)
		}
	}
}

// TestStopUnblocksReader: a reader waiting for room does not hang Stop.
func TestStopUnblocksReader(t *testing.T) {
	h := newHarness(t, map[string]string{"maxBatch": "1", "maxBuffers": "1"})
	h.feed.push(t, pub(1))
	h.feed.push(t, pub(2)) // taken, waiting for room
	waitFor(t, "pause", func() bool { return h.logs.count(pauseMessage) == 1 })
	if err := h.src.Stop(); err != nil {
		t.Fatal(err)
	}
	// m1 was committed by the drain; m2 never entered the buffer.
	if got := h.proc.committed(); !slices.Equal(got, []string{"m1"}) {
		t.Fatalf("committed %v", got)
	}
}

func TestFeedEnd(t *testing.T) {
	h := newHarness(t, map[string]string{"command": "sow"})
	h.feed.push(t, &Message{Command: "sow", Data: []byte("r1")})
	h.feed.end = nil
	close(h.feed.ch)
	waitFor(t, "queued", func() bool { return h.queued() == 1 })
	mustProcess(t, h.src, flume.Ready)
	waitFor(t, "finish logged", func() bool { return h.logs.count("AMPS command finished") == 1 })
}

func TestFactoryError(t *testing.T) {
	env := flume.SourceEnv{Name: "amps", Config: ctxAt(base(nil)), Processor: &recorder{}}
	s, err := New(env, WithClientFactory(func(context.Context, ClientConfig) (Feed, error) {
		return nil, errors.New("connection refused")
	}))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err == nil || !errors.Is(err, err) {
		t.Fatal("start succeeded without a client")
	}
	if err := s.Stop(); err != nil {
		t.Fatalf("stop after a failed start: %v", err)
	}
}

// TestLentMessages runs the source's tests again over a feed that lends its
// messages (PushFeed, as the default feed does): the same batches, retries,
// back-pressure, de-duplication, headers and stop behaviour, and bodies
// that survive the feed reusing its buffer.
func TestLentMessages(t *testing.T) {
	for _, tc := range []struct {
		name string
		fn   func(*testing.T)
	}{
		{"Batching", TestBatching},
		{"Wake", TestWake},
		{"BackPressure", TestBackPressure},
		{"RetrySameBatch", TestRetrySameBatch},
		{"RetryNonChannelError", TestRetryNonChannelError},
		{"DuplicatesAndCmdTypeFilter", TestDuplicatesAndCmdTypeFilter},
		{"EventHeaders", TestEventHeaders},
		{"ExactlyOnceHeader", TestExactlyOnceHeader},
		{"NoEventHeadersStillHasMap", TestNoEventHeadersStillHasMap},
		{"StopLeavesUncommittedForRedelivery", TestStopLeavesUncommittedForRedelivery},
		{"StopUnblocksReader", TestStopUnblocksReader},
		{"FeedEnd", TestFeedEnd},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lendFeeds = true
			t.Cleanup(func() { lendFeeds = false })
			tc.fn(t)
		})
	}
}
