package agent

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"ampsflume/channels/memory"
	"ampsflume/flume"
	"ampsflume/flume/config"
)

// touchChannel is a memory channel whose "sink" writes a header naming the
// channel into every event the moment a commit makes it available, as a real
// sink may: a processor that reads an event after handing it to one channel
// sees that.
type touchChannel struct {
	*memory.Channel
	name        string
	failCommits bool
}

func (c *touchChannel) Name() string { return c.name }

func (c *touchChannel) NewTransaction() flume.Transaction {
	return &touchTx{Transaction: c.Channel.NewTransaction(), c: c}
}

type touchTx struct {
	flume.Transaction
	c    *touchChannel
	puts []*flume.Event
}

func (t *touchTx) Put(e *flume.Event) error {
	t.puts = append(t.puts, e)
	return t.Transaction.Put(e)
}

func (t *touchTx) Commit() error {
	if t.c.failCommits {
		_ = t.Transaction.Rollback()
		return fmt.Errorf("%w: refused by the test", flume.ErrChannelFull)
	}
	if err := t.Transaction.Commit(); err != nil {
		return err
	}
	for _, e := range t.puts {
		e.Headers["touched by "+t.c.Name()] = "yes"
	}
	return nil
}

func newTouchChannel(t *testing.T, name string, fail bool) *touchChannel {
	t.Helper()
	cfg := memory.DefaultConfig()
	cfg.Capacity, cfg.TransactionCapacity, cfg.ByteCapacity, cfg.KeepAlive = 100, 100, 0, 0
	mc, err := memory.New(name, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := mc.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = mc.Stop() })
	return &touchChannel{Channel: mc, name: name, failCommits: fail}
}

// drainChannel takes everything c holds.
func drainChannel(t *testing.T, c flume.Channel) []*flume.Event {
	t.Helper()
	tx := c.NewTransaction()
	if err := tx.Begin(); err != nil {
		t.Fatal(err)
	}
	got, err := flume.TakeBatch(tx, nil, c.TransactionCapacity())
	if err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	_ = tx.Close()
	return got
}

// The replicating selector hands each channel the whole batch: the first
// channel the events themselves, the others copies made before any channel
// had the events, so that what one channel's sinks do to headers never shows
// in another channel.
func TestReplicatingBatches(t *testing.T) {
	tests := []struct {
		name     string
		channels []string
		optional []string
		failing  string // a channel whose commits fail
		wantErr  bool
		// the channels that get the events, the first one the originals
		delivered []string
	}{
		{name: "one channel", channels: []string{"c1"}, delivered: []string{"c1"}},
		{name: "two required", channels: []string{"c1", "c2"}, delivered: []string{"c1", "c2"}},
		{name: "three required", channels: []string{"c1", "c2", "c3"}, delivered: []string{"c1", "c2", "c3"}},
		{name: "required and optional", channels: []string{"c1", "c2"}, optional: []string{"c2"}, delivered: []string{"c1", "c2"}},
		{name: "optional only", channels: []string{"c1", "c2"}, optional: []string{"c1", "c2"}, delivered: []string{"c1", "c2"}},
		{name: "optional failure ignored", channels: []string{"c1", "c2", "c3"}, optional: []string{"c2"}, failing: "c2", delivered: []string{"c1", "c3"}},
		{name: "required failure reported", channels: []string{"c1", "c2", "c3"}, optional: []string{"c3"}, failing: "c2", wantErr: true, delivered: []string{"c1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			byName := map[string]*touchChannel{}
			var nodes []*channelNode
			for _, name := range tt.channels {
				c := newTouchChannel(t, name, name == tt.failing)
				byName[name] = c
				nodes = append(nodes, &channelNode{name: name, ch: c})
			}
			p := &channelProcessor{
				source:   "r1",
				sel:      newSelector(&config.Selector{Type: config.SelectorReplicating, Optional: tt.optional}, tt.channels),
				channels: nodes,
				log:      quiet,
			}
			events := []*flume.Event{
				flume.NewEvent([]byte("a"), map[string]string{"k": "1"}),
				flume.NewEvent([]byte("b"), nil),
			}
			err := p.ProcessEventBatch(events)
			if (err != nil) != tt.wantErr {
				t.Fatalf("ProcessEventBatch: %v, want error %v", err, tt.wantErr)
			}
			if tt.wantErr {
				var ce *flume.ChannelError
				if !errors.As(err, &ce) || ce.Channel != tt.failing || !errors.Is(err, flume.ErrChannelFull) {
					t.Fatalf("error %v does not name channel %q", err, tt.failing)
				}
			}
			delivered := map[string]bool{}
			for i, name := range tt.delivered {
				delivered[name] = true
				got := drainChannel(t, byName[name])
				if len(got) != len(events) {
					t.Fatalf("%s holds %d events, want %d", name, len(got), len(events))
				}
				for j, e := range got {
					if string(e.Body) != string(events[j].Body) {
						t.Fatalf("%s event %d body %q", name, j, e.Body)
					}
					if same := e == events[j]; same != (i == 0) {
						t.Fatalf("%s event %d is the original: %v, want %v", name, j, same, i == 0)
					}
					// Only this channel's own sink changed the headers.
					for k := range e.Headers {
						if k != "k" && k != "touched by "+name {
							t.Fatalf("%s event %d shares headers with another channel's: %v", name, j, e.Headers)
						}
					}
					if j == 0 && e.Headers["k"] != "1" {
						t.Fatalf("%s event %d lost its headers: %v", name, j, e.Headers)
					}
				}
			}
			for _, name := range tt.channels {
				if !delivered[name] && byName[name].Size() != 0 {
					t.Fatalf("%s holds %d events, want none", name, byName[name].Size())
				}
			}
		})
	}
}

// BenchmarkProcessorReplicating measures the processor alone: batches of
// 1000 to one memory channel (the common case) and to two.
func BenchmarkProcessorReplicating(b *testing.B) {
	for _, n := range []int{1, 2} {
		b.Run(fmt.Sprintf("channels=%d", n), func(b *testing.B) {
			const batch = 1000
			var names []string
			var nodes []*channelNode
			var chans []*memory.Channel
			for i := range n {
				name := fmt.Sprintf("c%d", i+1)
				cfg := memory.DefaultConfig()
				cfg.Capacity, cfg.TransactionCapacity, cfg.ByteCapacity, cfg.KeepAlive = batch, batch, 0, time.Duration(0)
				c, err := memory.New(name, cfg, nil)
				if err != nil {
					b.Fatal(err)
				}
				_ = c.Start(context.Background())
				names = append(names, name)
				nodes = append(nodes, &channelNode{name: name, ch: c})
				chans = append(chans, c)
			}
			p := &channelProcessor{source: "r1", sel: newSelector(nil, names), channels: nodes, log: quiet}
			events := make([]*flume.Event, batch)
			for i := range events {
				events[i] = flume.NewEvent([]byte("event"), nil)
			}
			taken := make([]*flume.Event, 0, batch)
			b.ReportAllocs()
			for b.Loop() {
				if err := p.ProcessEventBatch(events); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				for _, c := range chans {
					tx := c.NewTransaction()
					_ = tx.Begin()
					taken, _ = flume.TakeBatch(tx, taken[:0], batch)
					_ = tx.Commit()
					_ = tx.Close()
				}
				b.StartTimer()
			}
			b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "events/s")
		})
	}
}
