package avro

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"ampsflume/channels/memory"
	"ampsflume/flume"
	avrosrc "ampsflume/sources/avro"
)

func memChannel(t testing.TB, capacity int) *memory.Channel {
	t.Helper()
	cfg := memory.DefaultConfig()
	cfg.Capacity, cfg.TransactionCapacity, cfg.KeepAlive = capacity, min(capacity, 1000), 10*time.Millisecond
	ch, err := memory.New("mem", cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := ch.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ch.Stop() })
	return ch
}

// chanProcessor commits each batch to one channel, as the engine's processor
// does for a single required channel; fail, when set, refuses instead.
type chanProcessor struct {
	ch   flume.Channel
	fail atomic.Pointer[error]
}

func (p *chanProcessor) ProcessEvent(e *flume.Event) error {
	return p.ProcessEventBatch([]*flume.Event{e})
}

func (p *chanProcessor) ProcessEventBatch(events []*flume.Event) error {
	if err := p.fail.Load(); err != nil {
		return *err
	}
	tx := p.ch.NewTransaction()
	if err := tx.Begin(); err != nil {
		return err
	}
	defer tx.Close()
	for _, e := range events {
		if err := tx.Put(e); err != nil {
			tx.Rollback()
			return err
		}
	}
	return tx.Commit()
}

func put(t testing.TB, ch flume.Channel, from, to int) {
	t.Helper()
	for i := from; i < to; i += 500 {
		tx := ch.NewTransaction()
		tx.Begin()
		for j := i; j < min(i+500, to); j++ {
			if err := tx.Put(flume.NewEvent([]byte(strconv.Itoa(j)), map[string]string{"seq": strconv.Itoa(j), "host": "a"})); err != nil {
				t.Fatal(err)
			}
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		tx.Close()
	}
}

func startSource(t *testing.T, port int, kv map[string]string, p flume.ChannelProcessor) *avrosrc.Source {
	t.Helper()
	props := map[string]string{"bind": "127.0.0.1", "port": strconv.Itoa(port)}
	for k, v := range kv {
		props[k] = v
	}
	cfg, err := avrosrc.ParseConfig(flume.MapContext(`source "r"`, props))
	if err != nil {
		t.Fatal(err)
	}
	src := avrosrc.New("r", cfg, p, nil)
	if err := src.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Stop() })
	return src
}

func newSink(t *testing.T, port int, kv map[string]string, ch flume.Channel) *Sink {
	t.Helper()
	props := map[string]string{"hostname": "127.0.0.1", "port": strconv.Itoa(port), "request-timeout": "5000"}
	for k, v := range kv {
		props[k] = v
	}
	cfg, err := ParseConfig(flume.MapContext(`sink "k"`, props))
	if err != nil {
		t.Fatal(err)
	}
	s := New("k", cfg, ch, nil)
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Stop() })
	return s
}

func port(src *avrosrc.Source) int { return src.Addr().(*net.TCPAddr).Port }

// drain takes everything from ch and checks it is exactly 0..n-1 in order
// with headers intact.
func checkExactly(t *testing.T, ch flume.Channel, n int) {
	t.Helper()
	tx := ch.NewTransaction()
	tx.Begin()
	defer tx.Close()
	for i := range n {
		e, err := tx.Take()
		if err != nil || e == nil {
			t.Fatalf("event %d: %v, %v", i, e, err)
		}
		if string(e.Body) != strconv.Itoa(i) || e.Headers["seq"] != strconv.Itoa(i) || e.Headers["host"] != "a" || len(e.Headers) != 2 {
			t.Fatalf("event %d = %q %v", i, e.Body, e.Headers)
		}
	}
	if e, _ := tx.Take(); e != nil {
		t.Fatalf("extra event %q", e.Body)
	}
	tx.Commit()
}

func TestLoopback(t *testing.T) {
	for _, compression := range []string{"none", "deflate"} {
		t.Run(compression, func(t *testing.T) {
			const n = 1000
			up, down := memChannel(t, 2000), memChannel(t, 2000)
			src := startSource(t, 0, map[string]string{"compression-type": compression, "threads": "2"}, &chanProcessor{ch: down})
			s := newSink(t, port(src), map[string]string{"compression-type": compression, "batch-size": "100"}, up)
			put(t, up, 0, n)
			for up.Size() > 0 {
				if _, err := s.Process(context.Background()); err != nil {
					t.Fatal(err)
				}
			}
			checkExactly(t, down, n)
			if got := s.counter.EventDrainSuccess.Load(); got != n {
				t.Fatalf("EventDrainSuccess = %d", got)
			}
			if st, err := s.Process(context.Background()); st != flume.Backoff || err != nil {
				t.Fatalf("Process on empty channel = %v, %v", st, err)
			}
		})
	}
}

func TestFailedStatusRollsBack(t *testing.T) {
	up, down := memChannel(t, 100), memChannel(t, 100)
	proc := &chanProcessor{ch: down}
	full := fmt.Errorf("channel %q: %w", "down", flume.ErrChannelFull)
	proc.fail.Store(&full)
	src := startSource(t, 0, nil, proc)
	s := newSink(t, port(src), map[string]string{"batch-size": "10"}, up)
	put(t, up, 0, 25)
	_, err := s.Process(context.Background())
	if !errors.Is(err, ErrNotOK) {
		t.Fatalf("Process against a failing source: err = %v, want ErrNotOK", err)
	}
	if up.Size() != 25 {
		t.Fatalf("upstream size %d, want 25 (rolled back)", up.Size())
	}
	if down.Size() != 0 {
		t.Fatalf("downstream size %d, want 0", down.Size())
	}
	proc.fail.Store(nil)
	for up.Size() > 0 {
		if _, err := s.Process(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	checkExactly(t, down, 25)
}

func TestSourceDownRollsBackThenRecovers(t *testing.T) {
	up, down := memChannel(t, 100), memChannel(t, 100)
	src := startSource(t, 0, nil, &chanProcessor{ch: down})
	p := port(src)
	s := newSink(t, p, map[string]string{"batch-size": "10", "connect-timeout": "1000"}, up)
	put(t, up, 0, 10)
	if _, err := s.Process(context.Background()); err != nil {
		t.Fatal(err)
	}
	src.Stop()
	put(t, up, 10, 30)
	if _, err := s.Process(context.Background()); err == nil {
		t.Fatal("Process with the source stopped succeeded")
	}
	if up.Size() != 20 {
		t.Fatalf("upstream size %d, want 20", up.Size())
	}
	startSource(t, p, nil, &chanProcessor{ch: down})
	for up.Size() > 0 {
		if _, err := s.Process(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	checkExactly(t, down, 30)
	if s.counter.ConnectionCreated.Load() < 2 {
		t.Fatalf("ConnectionCreated = %d, want a reconnect", s.counter.ConnectionCreated.Load())
	}
}

func TestResetConnectionInterval(t *testing.T) {
	up, down := memChannel(t, 100), memChannel(t, 100)
	src := startSource(t, 0, nil, &chanProcessor{ch: down})
	s := newSink(t, port(src), map[string]string{"reset-connection-interval": "60"}, up)
	now := time.Unix(1000, 0)
	s.now = func() time.Time { return now }
	for i := range 3 {
		put(t, up, i, i+1)
		if _, err := s.Process(context.Background()); err != nil {
			t.Fatal(err)
		}
		now = now.Add(61 * time.Second)
	}
	if got := s.counter.ConnectionCreated.Load(); got != 3 {
		t.Fatalf("ConnectionCreated = %d, want 3 (one per interval)", got)
	}
	checkExactly(t, down, 3)
}

func TestConfigErrors(t *testing.T) {
	cases := []struct {
		kv  map[string]string
		key string
	}{
		{map[string]string{"port": "1"}, "hostname"},
		{map[string]string{"hostname": "h"}, "port"},
		{map[string]string{"hostname": "h", "port": "70000"}, "port"},
		{map[string]string{"hostname": "h", "port": "1", "compression-type": "gzip"}, "compression-type"},
		{map[string]string{"hostname": "h", "port": "1", "compression-level": "10"}, "compression-level"},
		{map[string]string{"hostname": "h", "port": "1", "batch-size": "0"}, "batch-size"},
	}
	for _, tc := range cases {
		_, err := ParseConfig(flume.MapContext(`sink "k"`, tc.kv))
		var ce *flume.ConfigError
		if !errors.As(err, &ce) || ce.Key != tc.key {
			t.Errorf("%v: err = %v, want a ConfigError about %q", tc.kv, err, tc.key)
		}
	}
	cfg, err := ParseConfig(flume.MapContext(`sink "k"`, map[string]string{"hostname": "h", "port": "41414"}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Addr != "h:41414" || cfg.BatchSize != 100 || cfg.ConnectTimeout != 20*time.Second || cfg.RequestTimeout != 20*time.Second || cfg.DeflateLevel != 6 {
		t.Fatalf("defaults = %+v", cfg)
	}
}
