package amps

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	ampsclient "ampsflume/amps"
	"ampsflume/ampserver"
	"ampsflume/channels/memory"
	"ampsflume/flume"
)

var quietLog = slog.New(slog.NewTextHandler(io.Discard, nil))

// server starts an embedded AMPS server with the SOW topic Orders keyed by
// /order_key; stop shuts it down (also at cleanup).
func server(t *testing.T) (uri string, stop func()) {
	t.Helper()
	cfg := ampserver.DefaultConfig()
	cfg.SOW = []ampserver.SOWTopicConfig{{Name: "Orders", MessageType: "json", Keys: []string{"/order_key"}}}
	s, err := ampserver.New(cfg, ampserver.WithLogger(quietLog))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	stop = func() {
		once.Do(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := s.Shutdown(ctx); err != nil {
				t.Error(err)
			}
		})
	}
	t.Cleanup(stop)
	return "tcp://" + s.TCPAddr().String() + "/amps/json", stop
}

// publisher connects a plain client for feeding a server.
func publisher(t *testing.T, uri string) *ampsclient.Client {
	t.Helper()
	c := ampsclient.NewClient(fmt.Sprintf("pub-%s-%d", t.Name(), time.Now().UnixNano()))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Connect(ctx, uri); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Logon(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func order(i int, sym string) []byte {
	return []byte(fmt.Sprintf(`{"order_key":%d,"symbol":"%s","price":%d,"qty":1}`, i, sym, 100+i))
}

func publish(t *testing.T, c *ampsclient.Client, from, to int) {
	t.Helper()
	for i := from; i < to; i++ {
		if err := c.Publish("Orders", order(i, "IBM")); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Flush(ctx); err != nil {
		t.Fatal(err)
	}
}

func orders(from, to int) []string {
	var out []string
	for i := from; i < to; i++ {
		out = append(out, string(order(i, "IBM")))
	}
	return out
}

// liveSource starts a source with the default client factory.
func liveSource(t *testing.T, kv map[string]string, proc flume.ChannelProcessor) *Source {
	t.Helper()
	base := map[string]string{"clientName": "flume-" + t.Name(), "topic": "Orders"}
	for k, v := range kv {
		base[k] = v
	}
	s, err := New(flume.SourceEnv{Name: "amps", Config: flume.MapContext(`source "amps"`, base), Processor: proc},
		WithLogger(quietLog))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Stop() })
	return s
}

func waitConnected(t *testing.T, s *Source, uri string) {
	t.Helper()
	waitFor(t, "subscribed to "+uri, func() bool {
		info := s.StatusInfo()
		return info["connection"] == "connected" && info["uri"] == uri
	})
}

// pollUntil drives Process like the runner until the recorder holds n events.
func pollUntil(t *testing.T, s *Source, r *recorder, n int) {
	t.Helper()
	waitFor(t, fmt.Sprintf("%d events", n), func() bool {
		if _, err := s.Process(context.Background()); err != nil {
			t.Fatal(err)
		}
		return len(r.committed()) >= n
	})
}

func TestLiveSubscribe(t *testing.T) {
	uri, _ := server(t)
	rec := &recorder{}
	s := liveSource(t, map[string]string{"uri": uri, "maxBatch": "7"}, rec)
	waitConnected(t, s, uri)
	pub := publisher(t, uri)
	publish(t, pub, 0, 25)
	pollUntil(t, s, rec, 25)
	mustProcess(t, s, flume.Backoff)
	if got := rec.committed(); !slices.Equal(got, orders(0, 25)) {
		t.Fatalf("got %d events:\n%v", len(got), got)
	}
	for _, b := range rec.batches {
		if len(b) > 7 {
			t.Fatalf("batch of %d exceeds maxBatch", len(b))
		}
	}
}

func TestLiveSowAndSubscribe(t *testing.T) {
	uri, _ := server(t)
	pub := publisher(t, uri)
	publish(t, pub, 0, 3)
	rec := &recorder{}
	s := liveSource(t, map[string]string{"uri": uri, "command": "sow_and_subscribe", "filter": "/symbol = 'IBM'",
		"eventHeaders": "command,topic"}, rec)
	waitConnected(t, s, uri)
	pollUntil(t, s, rec, 3)
	if err := pub.Publish("Orders", order(50, "MSFT")); err != nil {
		t.Fatal(err)
	}
	publish(t, pub, 3, 5)
	pollUntil(t, s, rec, 5)
	got := rec.committed()
	if !slices.Equal(sortedCopy(got[:3]), sortedCopy(orders(0, 3))) || !slices.Equal(got[3:], orders(3, 5)) {
		t.Fatalf("got %v", got)
	}
}

func sortedCopy(s []string) []string {
	c := slices.Clone(s)
	slices.Sort(c)
	return c
}

// TestLiveFailover: two servers fed the same stream; when the first stops,
// the source carries on from the second.
func TestLiveFailover(t *testing.T) {
	uri1, stop1 := server(t)
	uri2, _ := server(t)
	rec := &recorder{}
	s := liveSource(t, map[string]string{"uri1": uri1, "uri2": uri2}, rec)
	waitConnected(t, s, uri1)
	p1, p2 := publisher(t, uri1), publisher(t, uri2)
	publish(t, p1, 0, 5)
	publish(t, p2, 0, 5)
	pollUntil(t, s, rec, 5)

	stop1()
	waitConnected(t, s, uri2)
	publish(t, p2, 5, 10)
	pollUntil(t, s, rec, 10)
	mustProcess(t, s, flume.Backoff)
	if got := rec.committed(); !slices.Equal(got, orders(0, 10)) {
		t.Fatalf("got %v", got)
	}
	if m := metric(s, "ReconnectCount"); m != 1 {
		t.Fatalf("ReconnectCount = %v", m)
	}
}

// chanProcessor is the simplest channel processor: one transaction per
// batch on one channel.
type chanProcessor struct{ ch flume.Channel }

func (p chanProcessor) ProcessEvent(e *flume.Event) error {
	return p.ProcessEventBatch([]*flume.Event{e})
}

func (p chanProcessor) ProcessEventBatch(evs []*flume.Event) error {
	tx := p.ch.NewTransaction()
	defer tx.Close()
	if err := tx.Begin(); err != nil {
		return err
	}
	for _, e := range evs {
		if err := tx.Put(e); err != nil {
			tx.Rollback()
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		tx.Rollback()
		return err
	}
	return nil
}

// TestLiveMemoryChannel runs the source into a small memory channel drained
// by a slow taker: commits fail with a full channel, batches are retried,
// and every message arrives exactly once, in order.
func TestLiveMemoryChannel(t *testing.T) {
	uri, _ := server(t)
	mcfg := memory.DefaultConfig()
	mcfg.Capacity, mcfg.TransactionCapacity, mcfg.KeepAlive = 12, 5, time.Millisecond
	ch, err := memory.New("mem", mcfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := ch.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ch.Stop() })
	base := map[string]string{"clientName": "flume-mem", "topic": "Orders", "uri": uri, "maxBatch": "5", "maxBuffers": "2"}
	s, err := New(flume.SourceEnv{Name: "amps", Config: flume.MapContext(`source "amps"`, base), Processor: chanProcessor{ch},
		Channels: []flume.ChannelInfo{{Name: "mem", TransactionCapacity: 5, Capacity: 12}}}, WithLogger(quietLog))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Stop() })
	waitConnected(t, s, uri)
	pub := publisher(t, uri)
	publish(t, pub, 0, 60)

	var got []string
	fails := 0
	waitFor(t, "60 events through the channel", func() bool {
		if _, err := s.Process(context.Background()); err != nil {
			fails++
		}
		// Drain at most 3 events per round: slower than the source.
		tx := ch.NewTransaction()
		if err := tx.Begin(); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 3; i++ {
			e, err := tx.Take()
			if err != nil {
				t.Fatal(err)
			}
			if e == nil {
				break
			}
			got = append(got, string(e.Body))
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		tx.Close()
		return len(got) >= 60
	})
	if !slices.Equal(got, orders(0, 60)) {
		t.Fatalf("got %d events, first mismatch in %v", len(got), got)
	}
	if fails == 0 {
		t.Fatal("the channel never filled: the test did not exercise retries")
	}
}

// TestLiveRefusedSubscription: a subscription the server refuses is
// reported, not retried forever.
func TestLiveRefusedSubscription(t *testing.T) {
	uri, _ := server(t)
	s := liveSource(t, map[string]string{"uri": uri, "filter": "/symbol = = 'IBM'"}, &recorder{})
	waitFor(t, "the refusal", func() bool { return s.StatusInfo()["lastError"] != "" })
	if info := s.StatusInfo(); !strings.Contains(info["lastError"], "filter") {
		t.Fatalf("lastError %q does not explain the refusal", info["lastError"])
	}
}

// TestLiveFeedKeepsBodies reads the default feed directly: it reuses its
// Message from one Next to the next, but every Data it handed out stays
// the payload it was delivered with (the source keeps them as event bodies
// without copying), and each message names its subscription.
func TestLiveFeedKeepsBodies(t *testing.T) {
	uri, _ := server(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	feed, err := BasicClientFactory(ctx, ClientConfig{ClientName: "feed-" + t.Name(), URIs: []string{uri},
		Command: "subscribe", Topic: "Orders", SubID: "sub-1", Logger: quietLog})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { feed.Close() })
	sf := feed.(StatusFeed)
	waitFor(t, "connected", func() bool { return sf.ConnectionState().Connected })
	pub := publisher(t, uri)
	// The subscription may still be on its way after the logon: publish
	// until one message comes through, then the rest in one go.
	var bodies [][]byte
	next := func(d time.Duration) bool {
		nctx, ncancel := context.WithTimeout(ctx, d)
		defer ncancel()
		m, err := feed.Next(nctx)
		if err != nil {
			if nctx.Err() != nil {
				return false
			}
			t.Fatal(err)
		}
		if m.SubID != "sub-1" {
			t.Fatalf("message %q: SubID %q", m.Data, m.SubID)
		}
		bodies = append(bodies, m.Data)
		return true
	}
	i := 0
	for ; len(bodies) == 0; i++ {
		if i == 200 {
			t.Fatal("no message came through")
		}
		publish(t, pub, i, i+1)
		next(50 * time.Millisecond)
	}
	first := slices.Index(orders(0, i), string(bodies[0]))
	if first < 0 {
		t.Fatalf("unexpected first message %q", bodies[0])
	}
	publish(t, pub, i, i+19)
	for len(bodies) < 20 {
		if !next(10 * time.Second) {
			t.Fatalf("%d messages of 20", len(bodies))
		}
	}
	for k, b := range bodies {
		if want := string(order(first+k, "IBM")); string(b) != want {
			t.Fatalf("body %d is %q, want %q", k, b, want)
		}
	}
}
