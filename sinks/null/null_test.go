package null

import (
	"context"
	"errors"
	"testing"

	"ampsflume/channels/memory"
	"ampsflume/flume"
)

func newChannel(t *testing.T, n int) *memory.Channel {
	t.Helper()
	cfg := memory.DefaultConfig()
	cfg.Capacity, cfg.TransactionCapacity, cfg.KeepAlive, cfg.ByteCapacity = 100, 10, 0, 0
	ch, err := memory.New("c1", cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	_ = ch.Start(context.Background())
	t.Cleanup(func() { _ = ch.Stop() })
	tx := ch.NewTransaction()
	_ = tx.Begin()
	for range n {
		if err := tx.Put(flume.NewEvent([]byte("x"), nil)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	_ = tx.Close()
	return ch
}

func TestProcess(t *testing.T) {
	ch := newChannel(t, 10)
	r, ok := flume.Lookup(flume.KindSink, "null")
	if !ok {
		t.Fatal("not registered")
	}
	s, err := r.Sink(flume.SinkEnv{Name: "k1", Channel: ch, Config: flume.MapContext(`sink "k1"`, map[string]string{"batchSize": "4"})})
	if err != nil {
		t.Fatal(err)
	}
	var want = []flume.Status{flume.Ready, flume.Ready, flume.Backoff, flume.Backoff}
	for i, w := range want {
		st, err := s.Process(context.Background())
		if err != nil || st != w {
			t.Fatalf("Process #%d = %v, %v; want %v", i, st, err, w)
		}
	}
	if ch.Size() != 0 {
		t.Fatalf("channel still holds %d", ch.Size())
	}
	c := s.(*Sink).Counter()
	if c.EventDrainSuccess.Load() != 10 || c.BatchComplete.Load() != 2 || c.BatchUnderflow.Load() != 1 || c.BatchEmpty.Load() != 1 {
		t.Fatalf("counters %+v", c.Metrics())
	}
}

func TestConfig(t *testing.T) {
	r, _ := flume.Lookup(flume.KindSink, "org.apache.flume.sink.NullSink")
	ch := newChannel(t, 0)
	for _, bs := range []string{"0", "abc", "11"} {
		_, err := r.Sink(flume.SinkEnv{Name: "k1", Channel: ch, Config: flume.MapContext(`sink "k1"`, map[string]string{"batchSize": bs})})
		var ce *flume.ConfigError
		if !errors.As(err, &ce) || ce.Key != "batchSize" {
			t.Errorf("batchSize %s: err = %v", bs, err)
		}
	}
}

// A take that fails rolls the batch back: the events stay in the channel,
// the failure is counted, and the sink keeps no event.
func TestTakeFailureRollsBack(t *testing.T) {
	ch := newChannel(t, 10)
	// batchSize above the channel's transactionCapacity (the factory
	// refuses this; New does not), so the 11th take fails.
	s, err := New("k1", 20, ch, nil)
	if err != nil {
		t.Fatal(err)
	}
	st, err := s.Process(context.Background())
	if err == nil || !errors.Is(err, flume.ErrTransactionFull) || st != flume.Backoff {
		t.Fatalf("Process = %v, %v; want Backoff and a transaction-full error", st, err)
	}
	if ch.Size() != 10 {
		t.Fatalf("channel holds %d after the rollback, want 10", ch.Size())
	}
	c := s.Counter()
	if c.ChannelReadFail.Load() != 1 || c.EventDrainSuccess.Load() != 0 {
		t.Fatalf("counters %+v", c.Metrics())
	}
	for i, e := range s.taken[:cap(s.taken)] {
		if e != nil {
			t.Fatalf("the sink still holds event %d", i)
		}
	}
}
