package amps

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	ampsclient "ampsflume/amps"
	"ampsflume/ampserver"
	"ampsflume/flume"
)

// queueServer starts an embedded server with the queue WorkQ over the
// journaled topic Work (a queue whose name is not its messages' topic, so an
// acknowledgement sent to the wrong topic would show).
func queueServer(t *testing.T) (uri string, pub *ampsclient.Client) {
	t.Helper()
	dir := t.TempDir()
	cfg := ampserver.DefaultConfig()
	cfg.TransactionLog = &ampserver.TransactionLogConfig{
		JournalDirectory: filepath.Join(dir, "journal"),
		FlushInterval:    5 * time.Millisecond,
		Topics:           []ampserver.TopicRef{{Name: "Work", MessageType: "json"}},
	}
	cfg.Queues = []ampserver.QueueConfig{{Name: "WorkQ", MessageType: "json", UnderlyingTopic: "Work", LeasePeriod: time.Hour}}
	s, err := ampserver.New(cfg, ampserver.WithLogger(quietLog))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Error(err)
		}
	})
	uri = "tcp://" + s.TCPAddr().String() + "/amps/json"
	return uri, publisher(t, uri)
}

func work(i int) []byte { return fmt.Appendf(nil, `{"job":%d}`, i) }

func works(from, to int) []string {
	var out []string
	for i := from; i < to; i++ {
		out = append(out, string(work(i)))
	}
	return out
}

func publishWork(t *testing.T, c *ampsclient.Client, from, to int) {
	t.Helper()
	for i := from; i < to; i++ {
		if err := c.Publish("Work", work(i)); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Flush(ctx); err != nil {
		t.Fatal(err)
	}
}

// inQueue counts the messages still in WorkQ, leased or not (a sow on a
// queue returns both): those not acknowledged yet.
func inQueue(t *testing.T, c *ampsclient.Client) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := c.Sow(ctx, "WorkQ", "")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for m := range st.All() {
		if m.Command == "sow" {
			n++
		}
	}
	if err := st.Err(); err != nil {
		t.Fatal(err)
	}
	return n
}

func queueSource(t *testing.T, uri string, proc flume.ChannelProcessor, kv map[string]string) *Source {
	t.Helper()
	base := map[string]string{"uri": uri, "topic": "WorkQ", "command": "subscribe", "maxBatch": "10", "maxBuffers": "3"}
	for k, v := range kv {
		base[k] = v
	}
	s := liveSource(t, base, proc)
	waitConnected(t, s, uri)
	return s
}

// requireOnce fails unless got holds every one of want exactly once.
func requireOnce(t *testing.T, got, want []string) {
	t.Helper()
	if g := sortedCopy(got); !slices.Equal(g, sortedCopy(want)) {
		t.Fatalf("got %d events, want each of %d exactly once; got %v", len(got), len(want), g)
	}
}

func TestQueueEveryMessageOnce(t *testing.T) {
	uri, pub := queueServer(t)
	r := &recorder{}
	s := queueSource(t, uri, r, nil)
	publishWork(t, pub, 0, 250)
	pollUntil(t, s, r, 250)
	requireOnce(t, r.committed(), works(0, 250))
	// Delivered in queue order: one subscription, each batch acknowledged
	// before the next messages are leased.
	if got := r.committed(); !slices.Equal(got, works(0, 250)) {
		t.Fatalf("out of order: %v", got)
	}
	waitFor(t, "the queue to be empty", func() bool { return inQueue(t, pub) == 0 })
	if a, f := metric(s, "QueueAckCount"), metric(s, "QueueAckFailCount"); a != 250 || f != 0 {
		t.Fatalf("QueueAckCount %v QueueAckFailCount %v, want 250 and 0", a, f)
	}
	for _, b := range r.batches {
		if len(b) > 10 {
			t.Fatalf("batch of %d, more than maxBatch", len(b))
		}
	}
}

func TestQueueFailedCommitAcksNothing(t *testing.T) {
	uri, pub := queueServer(t)
	r := &recorder{failures: 3}
	s := queueSource(t, uri, r, map[string]string{"options": "max_backlog=5"})
	publishWork(t, pub, 0, 20)
	waitFor(t, "three failed attempts", func() bool {
		_, _ = s.Process(context.Background())
		r.mu.Lock()
		defer r.mu.Unlock()
		return len(r.attempts) == 3
	})
	if a := metric(s, "QueueAckCount"); a != 0 {
		t.Fatalf("QueueAckCount %v after failed commits only", a)
	}
	if n := inQueue(t, pub); n != 20 {
		t.Fatalf("%d messages in the queue, want all 20 unacknowledged", n)
	}
	pollUntil(t, s, r, 20)
	requireOnce(t, r.committed(), works(0, 20))
	r.mu.Lock()
	first := r.attempts[0]
	retried := r.batches[0]
	r.mu.Unlock()
	if !slices.Equal(first, retried) || len(first) > 5 {
		t.Fatalf("retry %v differs from the failed batch %v (or exceeds max_backlog)", retried, first)
	}
	waitFor(t, "the queue to be empty", func() bool { return inQueue(t, pub) == 0 })
}

// TestQueueStopRestart: a source commits some batches, then its channel
// fails and it stops with messages uncommitted. Those were never
// acknowledged, so a new source gets them; what was committed was
// acknowledged and does not come again.
func TestQueueStopRestart(t *testing.T) {
	uri, pub := queueServer(t)
	r1 := &recorder{}
	s1 := queueSource(t, uri, r1, map[string]string{"options": "max_backlog=20"})
	publishWork(t, pub, 0, 60)
	pollUntil(t, s1, r1, 10)
	r1.mu.Lock()
	r1.failures = 1 << 30
	r1.mu.Unlock()
	waitFor(t, "a failed attempt with messages held", func() bool {
		_, _ = s1.Process(context.Background())
		r1.mu.Lock()
		defer r1.mu.Unlock()
		return len(r1.attempts) > len(r1.batches)
	})
	if err := s1.Stop(); err == nil {
		t.Fatal("Stop reported no error with a batch it could not commit")
	}
	first := r1.committed()
	if a := metric(s1, "QueueAckCount"); int(a) != len(first) {
		t.Fatalf("QueueAckCount %v, want the %d committed", a, len(first))
	}
	r2 := &recorder{}
	s2 := queueSource(t, uri, r2, nil)
	pollUntil(t, s2, r2, 60-len(first))
	requireOnce(t, append(first, r2.committed()...), works(0, 60))
	waitFor(t, "the queue to be empty", func() bool { return inQueue(t, pub) == 0 })
}

// TestQueueStopCommitsAndAcks: a graceful stop commits what is buffered and
// acknowledges it before disconnecting, so nothing comes again.
func TestQueueStopCommitsAndAcks(t *testing.T) {
	uri, pub := queueServer(t)
	r1 := &recorder{}
	s1 := queueSource(t, uri, r1, map[string]string{"options": "max_backlog=30"})
	publishWork(t, pub, 0, 50)
	waitFor(t, "30 messages buffered", func() bool { return metric(s1, "MessagesBuffered") == 30 })
	if err := s1.Stop(); err != nil {
		t.Fatal(err)
	}
	first := r1.committed()
	if len(first) != 30 {
		t.Fatalf("stop committed %d, want the 30 buffered", len(first))
	}
	r2 := &recorder{}
	s2 := queueSource(t, uri, r2, nil)
	pollUntil(t, s2, r2, 20)
	requireOnce(t, append(first, r2.committed()...), works(0, 50))
}

func TestQueueTwoSourcesShare(t *testing.T) {
	uri, pub := queueServer(t)
	ra, rb := &recorder{}, &recorder{}
	sa := queueSource(t, uri, ra, map[string]string{"clientName": "flume-a", "options": "max_backlog=5"})
	sb := queueSource(t, uri, rb, map[string]string{"clientName": "flume-b", "options": "max_backlog=5"})
	publishWork(t, pub, 0, 200)
	waitFor(t, "200 events between the two", func() bool {
		for _, s := range []*Source{sa, sb} {
			if _, err := s.Process(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
		return len(ra.committed())+len(rb.committed()) >= 200
	})
	a, b := ra.committed(), rb.committed()
	requireOnce(t, append(a, b...), works(0, 200))
	if len(a) == 0 || len(b) == 0 {
		t.Fatalf("one source got everything: %d and %d", len(a), len(b))
	}
	waitFor(t, "the queue to be empty", func() bool { return inQueue(t, pub) == 0 })
}
