package amps

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	ampsclient "ampsflume/amps"
	"ampsflume/ampserver"
	"ampsflume/channels/memory"
	"ampsflume/flume"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func server(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	cfg := ampserver.DefaultConfig()
	cfg.TransactionLog = &ampserver.TransactionLogConfig{
		JournalDirectory: filepath.Join(dir, "journal"), FlushInterval: 2 * time.Millisecond,
		Topics: []ampserver.TopicRef{{Name: "Sink.*"}},
	}
	s, err := ampserver.New(cfg, ampserver.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Shutdown(context.Background()) })
	return "tcp://" + s.TCPAddr().String() + "/amps/json"
}

func channel(t *testing.T, bodies []string, topics map[int]string) *memory.Channel {
	t.Helper()
	cfg := memory.DefaultConfig()
	cfg.Capacity, cfg.TransactionCapacity, cfg.KeepAlive, cfg.ByteCapacity = 1000, 100, 0, 0
	ch, err := memory.New("c1", cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	_ = ch.Start(context.Background())
	t.Cleanup(func() { _ = ch.Stop() })
	tx := ch.NewTransaction()
	_ = tx.Begin()
	for i, b := range bodies {
		if i > 0 && i%50 == 0 { // stay within the transaction capacity
			if err := tx.Commit(); err != nil {
				t.Fatal(err)
			}
			tx.Close()
			tx = ch.NewTransaction()
			_ = tx.Begin()
		}
		h := map[string]string{}
		if tp, ok := topics[i]; ok {
			h["topic"] = tp
		}
		if err := tx.Put(flume.NewEvent([]byte(b), h)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	tx.Close()
	return ch
}

func newSink(t *testing.T, kv map[string]string, ch flume.Channel) *Sink {
	t.Helper()
	if kv["maxBatch"] == "" {
		kv["maxBatch"] = "100"
	}
	snk, err := New(flume.SinkEnv{Name: "k1", Config: flume.MapContext(`sink "k1"`, kv), Channel: ch})
	if err != nil {
		t.Fatal(err)
	}
	s := snk.(*Sink)
	s.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Stop() })
	return s
}

// drain runs Process until the channel is empty.
func drain(t *testing.T, s *Sink) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		st, err := s.Process(context.Background())
		if err == nil && st == flume.Backoff && s.counter.BatchEmpty.Load() > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("channel not drained: %v", err)
		}
		if err != nil {
			time.Sleep(5 * time.Millisecond) // not yet connected
		}
	}
}

// replayed reads the journaled topic from EPOCH.
func replayed(t *testing.T, uri, topic string, n int) []string {
	t.Helper()
	c := ampsclient.NewClient("reader-" + t.Name())
	t.Cleanup(func() { c.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Connect(ctx, uri); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Logon(ctx); err != nil {
		t.Fatal(err)
	}
	st, err := c.Execute(ctx, ampsclient.Command{Name: ampsclient.CmdSubscribe, Topic: topic, Bookmark: "0"})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for len(out) < n {
		m, err := st.Next(ctx)
		if err != nil {
			t.Fatalf("after %d: %v", len(out), err)
		}
		out = append(out, string(m.Data))
	}
	return out
}

func bodies(n int) []string {
	var b []string
	for i := 0; i < n; i++ {
		b = append(b, fmt.Sprintf(`{"n":%d}`, i))
	}
	return b
}

func TestPublishes(t *testing.T) {
	for _, store := range []string{"none", "memory", "file"} {
		t.Run(store, func(t *testing.T) {
			uri := server(t)
			ch := channel(t, bodies(250), nil)
			s := newSink(t, map[string]string{"uri": uri, "topic": "SinkTest", "maxBatch": "100",
				"pubStoreType": store, "pubStorePath": filepath.Join(t.TempDir(), "pub.seq")}, ch)
			drain(t, s)
			got := replayed(t, uri, "SinkTest", 250)
			if fmt.Sprint(got) != fmt.Sprint(bodies(250)) {
				t.Fatalf("published %v", got)
			}
			if s.counter.EventDrainSuccess.Load() != 250 {
				t.Fatalf("drain success %d", s.counter.EventDrainSuccess.Load())
			}
		})
	}
}

func TestTopicHeader(t *testing.T) {
	uri := server(t)
	ch := channel(t, bodies(4), map[int]string{1: "SinkOther", 3: "SinkOther"})
	s := newSink(t, map[string]string{"uri": uri, "topic": "SinkMain"}, ch)
	drain(t, s)
	main, other := replayed(t, uri, "SinkMain", 2), replayed(t, uri, "SinkOther", 2)
	sort.Strings(main)
	if fmt.Sprint(main) != `[{"n":0} {"n":2}]` || fmt.Sprint(other) != `[{"n":1} {"n":3}]` {
		t.Fatalf("main %v other %v", main, other)
	}
}

// TestNoServerRollsBack: without an acknowledgement nothing is committed.
func TestNoServerRollsBack(t *testing.T) {
	ch := channel(t, bodies(3), nil)
	s := newSink(t, map[string]string{"uri": "tcp://127.0.0.1:1/amps/json", "topic": "SinkTest", "pubStoreType": "memory"}, ch)
	if _, err := s.Process(context.Background()); err == nil {
		t.Fatal("a batch was committed without a server")
	}
	tx := ch.NewTransaction()
	_ = tx.Begin()
	n := 0
	for {
		e, _ := tx.Take()
		if e == nil {
			break
		}
		n++
	}
	tx.Rollback()
	tx.Close()
	if n != 3 {
		t.Fatalf("%d events left in the channel, want 3", n)
	}
}

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		kv   map[string]string
	}{
		{"no topic", map[string]string{"uri": "tcp://h:1/amps/json"}},
		{"no uri", map[string]string{"topic": "t"}},
		{"file store without path", map[string]string{"uri": "tcp://h:1/amps/json", "topic": "t", "pubStoreType": "file"}},
		{"unknown store", map[string]string{"uri": "tcp://h:1/amps/json", "topic": "t", "pubStoreType": "disk"}},
		{"bad maxBatch", map[string]string{"uri": "tcp://h:1/amps/json", "topic": "t", "maxBatch": "0"}},
		{"bad timeout", map[string]string{"uri": "tcp://h:1/amps/json", "topic": "t", "publishFlushTimeout": "-5"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := New(flume.SinkEnv{Name: "k1", Config: flume.MapContext(`sink "k1"`, tt.kv)}); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}

// TestMaxBatchAboveTransactionCapacity: the channel's transactionCapacity
// bounds maxBatch, set or defaulted, with the shared wording.
func TestMaxBatchAboveTransactionCapacity(t *testing.T) {
	ch := channel(t, nil, nil) // transactionCapacity 100
	for _, tt := range []struct {
		name string
		kv   map[string]string
		want string
	}{
		{"set", map[string]string{"uri": "tcp://h:1/amps/json", "topic": "t", "maxBatch": "500", "channel": "c1"},
			`key "maxBatch": is 500, more than the transactionCapacity 100 of channel "c1"`},
		{"default", map[string]string{"uri": "tcp://h:1/amps/json", "topic": "t", "channel": "c1"},
			`key "maxBatch": defaults to 1000, more than the transactionCapacity 100 of channel "c1"`},
		{"within", map[string]string{"uri": "tcp://h:1/amps/json", "topic": "t", "maxBatch": "100", "channel": "c1"}, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s, err := New(flume.SinkEnv{Name: "k1", Config: flume.MapContext(`sink "k1"`, tt.kv), Channel: ch})
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				_ = s
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want %q", err, tt.want)
			}
		})
	}
}
