package memory

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"ampsflume/flume"
	"ampsflume/flume/channeltest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func testConfig(capacity, txCapacity int) Config {
	cfg := DefaultConfig()
	cfg.Capacity, cfg.TransactionCapacity = capacity, txCapacity
	cfg.ByteCapacity = 0
	cfg.KeepAlive = 20 * time.Millisecond
	return cfg
}

func newTest(t *testing.T, cfg Config) *Channel {
	t.Helper()
	c, err := New("c1", cfg, nil)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Stop() })
	return c
}

func TestConformance(t *testing.T) {
	channeltest.Run(t, func(t *testing.T, capacity, txCapacity int) flume.Channel {
		c, err := New("conformance", testConfig(capacity, txCapacity), nil)
		if err != nil {
			t.Fatalf("New: %v", err)
		}
		return c
	})
}

func TestRegistered(t *testing.T) {
	for _, name := range []string{"memory", "MEMORY", "org.apache.flume.channel.MemoryChannel"} {
		r, ok := flume.Lookup(flume.KindChannel, name)
		if !ok || r.Channel == nil {
			t.Fatalf("Lookup(%q) = %v, %v", name, r, ok)
		}
	}
	r, _ := flume.Lookup(flume.KindChannel, "memory")
	ch, err := r.Channel(flume.ChannelEnv{Name: "c", Config: flume.MapContext(`channel "c"`, map[string]string{
		"capacity": "10", "transactionCapacity": "5",
	})})
	if err != nil {
		t.Fatal(err)
	}
	if ch.Capacity() != 10 || ch.TransactionCapacity() != 5 {
		t.Fatalf("capacities %d/%d, want 10/5", ch.Capacity(), ch.TransactionCapacity())
	}
	for _, k := range []string{"capacity", "transactionCapacity", "byteCapacity", "byteCapacityBufferPercentage", "keep-alive"} {
		if !Spec.Accepts(k) {
			t.Errorf("Spec does not declare %q", k)
		}
	}
}

func TestParseConfig(t *testing.T) {
	tests := []struct {
		name    string
		kv      map[string]string
		want    func(c Config) bool
		errKey  string // the key the error must name; "" = no error
		errText string
	}{
		{name: "defaults", kv: nil, want: func(c Config) bool {
			return c.Capacity == 100 && c.TransactionCapacity == 100 && c.KeepAlive == 3*time.Second && c.ByteCapacityBufferPercentage == 20
		}},
		{name: "all keys", kv: map[string]string{
			"capacity": " 1000 ", "transactionCapacity": "500", "byteCapacity": "800000",
			"byteCapacityBufferPercentage": "10", "keep-alive": "7",
		}, want: func(c Config) bool {
			return c.Capacity == 1000 && c.TransactionCapacity == 500 && c.ByteCapacity == 800000 &&
				c.ByteCapacityBufferPercentage == 10 && c.KeepAlive == 7*time.Second && c.byteSlots() == 7200
		}},
		{name: "byteCapacity 0 is unlimited", kv: map[string]string{"byteCapacity": "0"}, want: func(c Config) bool {
			return c.ByteCapacity == 0 && c.byteSlots() == 0
		}},
		{name: "keep-alive 0", kv: map[string]string{"keep-alive": "0"}, want: func(c Config) bool { return c.KeepAlive == 0 }},
		{name: "capacity not a number", kv: map[string]string{"capacity": "lots"}, errKey: "capacity", errText: "not an integer"},
		{name: "capacity zero", kv: map[string]string{"capacity": "0"}, errKey: "capacity", errText: "at least 1"},
		{name: "capacity negative", kv: map[string]string{"capacity": "-5"}, errKey: "capacity", errText: "at least 1"},
		{name: "transactionCapacity zero", kv: map[string]string{"transactionCapacity": "0"}, errKey: "transactionCapacity"},
		{name: "transactionCapacity above capacity", kv: map[string]string{"capacity": "10", "transactionCapacity": "11"},
			errKey: "transactionCapacity", errText: "larger than capacity 10"},
		{name: "default transactionCapacity above capacity", kv: map[string]string{"capacity": "50"},
			errKey: "transactionCapacity", errText: "larger than capacity 50"},
		{name: "byteCapacity negative", kv: map[string]string{"byteCapacity": "-1"}, errKey: "byteCapacity"},
		{name: "byteCapacity too small", kv: map[string]string{"byteCapacity": "100"}, errKey: "byteCapacity", errText: "no room"},
		{name: "percentage 100", kv: map[string]string{"byteCapacityBufferPercentage": "100"}, errKey: "byteCapacityBufferPercentage"},
		{name: "keep-alive negative", kv: map[string]string{"keep-alive": "-1"}, errKey: "keep-alive"},
		{name: "keep-alive bad", kv: map[string]string{"keep-alive": "3s"}, errKey: "keep-alive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			props := map[string]flume.Property{}
			line := 10
			for k, v := range tt.kv {
				props[k] = flume.Property{Value: v, Loc: flume.Location{File: "a.properties", Line: line}}
				line++
			}
			cfg, err := ParseConfig(flume.NewContext(`channel "c1"`, flume.Location{File: "a.properties", Line: 1}, props))
			if tt.errKey == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				if !tt.want(cfg) {
					t.Fatalf("config %+v not as expected", cfg)
				}
				return
			}
			var ce *flume.ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("err = %v, want a *flume.ConfigError", err)
			}
			if ce.Key != tt.errKey || !strings.Contains(err.Error(), tt.errText) || !strings.Contains(err.Error(), "a.properties:") {
				t.Fatalf("err = %q (key %q), want key %q mentioning %q and the file", err, ce.Key, tt.errKey, tt.errText)
			}
		})
	}
}

func put(t *testing.T, c *Channel, bodies ...string) error {
	t.Helper()
	tx := c.NewTransaction()
	if err := tx.Begin(); err != nil {
		t.Fatal(err)
	}
	defer tx.Close()
	for _, b := range bodies {
		if err := tx.Put(flume.NewEvent([]byte(b), nil)); err != nil {
			t.Fatal(err)
		}
	}
	return tx.Commit()
}

func takeAll(t *testing.T, c *Channel) []string {
	t.Helper()
	var out []string
	for {
		tx := c.NewTransaction()
		if err := tx.Begin(); err != nil {
			t.Fatal(err)
		}
		e, err := tx.Take()
		if err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		_ = tx.Close()
		if e == nil {
			return out
		}
		out = append(out, string(e.Body))
	}
}

func TestChannelFullMessage(t *testing.T) {
	c := newTest(t, testConfig(2, 2))
	if err := put(t, c, "a", "b"); err != nil {
		t.Fatal(err)
	}
	err := put(t, c, "c")
	var ce *flume.ChannelError
	if !errors.As(err, &ce) || ce.Channel != "c1" || ce.Op != "commit" || !errors.Is(err, flume.ErrChannelFull) {
		t.Fatalf("err = %#v", err)
	}
	if !strings.Contains(err.Error(), "Space for commit to queue couldn't be acquired. Sinks are likely not keeping up with sources, or the buffer size is too tight") {
		t.Fatalf("message %q lacks Flume's text", err)
	}
}

func TestByteCapacity(t *testing.T) {
	cfg := testConfig(100, 100)
	// 1000 bytes minus a 20% buffer: 8 slots of 100 bytes.
	cfg.ByteCapacity = 1000
	c := newTest(t, cfg)
	big := strings.Repeat("x", 301) // 4 slots
	if err := put(t, c, big); err != nil {
		t.Fatal(err)
	}
	if err := put(t, c, "a", "b", "c"); err != nil { // 3 slots: 7 used
		t.Fatal(err)
	}
	err := put(t, c, big)
	if !errors.Is(err, flume.ErrChannelFull) || !strings.Contains(err.Error(), "Byte capacity") {
		t.Fatalf("err = %v, want a byte-capacity channel-full error", err)
	}
	if err := put(t, c, ""); err != nil { // an empty body uses one slot
		t.Fatal(err)
	}
	if err := put(t, c, "d"); !errors.Is(err, flume.ErrChannelFull) {
		t.Fatalf("err = %v, want full", err)
	}
	// Rolled-back takes keep their slots; committed takes free them.
	tx := c.NewTransaction()
	_ = tx.Begin()
	if e, _ := tx.Take(); e == nil || len(e.Body) != 301 {
		t.Fatalf("took %v", e)
	}
	_ = tx.Rollback()
	_ = tx.Close()
	if err := put(t, c, "d"); !errors.Is(err, flume.ErrChannelFull) {
		t.Fatalf("err = %v, want full after rollback", err)
	}
	got := takeAll(t, c)
	if len(got) != 5 || got[0] != big {
		t.Fatalf("drained %d events", len(got))
	}
	if err := put(t, c, big, big); err != nil {
		t.Fatalf("after draining: %v", err)
	}
}

func TestCommitWaitsForRoom(t *testing.T) {
	cfg := testConfig(2, 2)
	cfg.KeepAlive = time.Minute // the sink below makes room long before
	c := newTest(t, cfg)
	if err := put(t, c, "a", "b"); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- put(t, c, "c") }()
	// Drain one event; the waiting commit then goes through.
	tx := c.NewTransaction()
	_ = tx.Begin()
	if e, err := tx.Take(); err != nil || string(e.Body) != "a" {
		t.Fatalf("Take = %v, %v", e, err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	_ = tx.Close()
	if err := <-done; err != nil {
		t.Fatalf("waiting commit: %v", err)
	}
	cfg.KeepAlive = 0
	if err := c.Apply(cfg); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(takeAll(t, c), ""); got != "bc" {
		t.Fatalf("drained %q", got)
	}
}

func TestReconfigureKeepsEvents(t *testing.T) {
	c := newTest(t, testConfig(10, 10))
	if err := put(t, c, "a", "b", "c", "d", "e", "f"); err != nil {
		t.Fatal(err)
	}
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	// Shrinking below the content: the events stay, new commits fail until
	// the excess is drained.
	err := c.Reconfigure(flume.MapContext(`channel "c1"`, map[string]string{
		"capacity": "4", "transactionCapacity": "2", "keep-alive": "0",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if c.Capacity() != 4 || c.TransactionCapacity() != 2 || c.Size() != 6 {
		t.Fatalf("capacity %d tx %d size %d", c.Capacity(), c.TransactionCapacity(), c.Size())
	}
	if err := put(t, c, "g"); !errors.Is(err, flume.ErrChannelFull) {
		t.Fatalf("put over the shrunk capacity: %v", err)
	}
	// A rollback of takes still fits back.
	tx := c.NewTransaction()
	_ = tx.Begin()
	_, _ = tx.Take()
	_, _ = tx.Take()
	if _, err := tx.Take(); !errors.Is(err, flume.ErrTransactionFull) {
		t.Fatalf("3rd take with the new transactionCapacity 2: %v", err)
	}
	_ = tx.Rollback()
	_ = tx.Close()
	if got := strings.Join(takeAll(t, c), ""); got != "abcdef" {
		t.Fatalf("drained %q", got)
	}
	if err := put(t, c, "w", "x"); err != nil {
		t.Fatal(err)
	}
	if err := put(t, c, "y", "z"); err != nil {
		t.Fatal(err)
	}
	if err := put(t, c, "!"); !errors.Is(err, flume.ErrChannelFull) {
		t.Fatalf("5th event in capacity 4: %v", err)
	}
	// Growing keeps the order across the ring's wrap-around.
	if err := c.Reconfigure(flume.MapContext(`channel "c1"`, map[string]string{"capacity": "8", "transactionCapacity": "8", "keep-alive": "0"})); err != nil {
		t.Fatal(err)
	}
	if err := put(t, c, "1", "2", "3", "4"); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(takeAll(t, c), ""); got != "wxyz1234" {
		t.Fatalf("drained %q", got)
	}
	// An invalid reconfiguration changes nothing.
	err = c.Reconfigure(flume.MapContext(`channel "c1"`, map[string]string{"capacity": "8", "transactionCapacity": "9"}))
	if err == nil || c.TransactionCapacity() != 8 {
		t.Fatalf("invalid reconfigure: err %v, tx %d", err, c.TransactionCapacity())
	}
}

func TestCounters(t *testing.T) {
	c := newTest(t, testConfig(10, 10))
	if err := put(t, c, "a", "b", "c"); err != nil {
		t.Fatal(err)
	}
	tx := c.NewTransaction()
	_ = tx.Begin()
	_ = tx.Put(flume.NewEvent([]byte("z"), nil))
	_ = tx.Rollback()
	_ = tx.Close()
	tx = c.NewTransaction()
	_ = tx.Begin()
	_, _ = tx.Take()
	_ = tx.Commit()
	_ = tx.Close()
	want := map[string]float64{
		"ChannelSize": 2, "ChannelCapacity": 10, "ChannelFillPercentage": 20,
		"EventPutAttemptCount": 4, "EventPutSuccessCount": 3,
		"EventTakeAttemptCount": 1, "EventTakeSuccessCount": 1, "RollbackCount": 1,
	}
	for _, m := range c.Metrics() {
		if w, ok := want[m.Name]; ok && m.Value != w {
			t.Errorf("%s = %v, want %v", m.Name, m.Value, w)
		}
		delete(want, m.Name)
	}
	if len(want) != 0 {
		t.Errorf("metrics missing: %v", want)
	}
}

func TestRing(t *testing.T) {
	r := newRing(4)
	ev := func(s string) *flume.Event { return flume.NewEvent([]byte(s), nil) }
	body := func(e *flume.Event) string { return string(e.Body) }
	// Move the head to the middle so that pushes wrap.
	r.pushBack([]*flume.Event{ev("0"), ev("1"), ev("2")})
	r.popFront()
	r.popFront()
	r.pushBack([]*flume.Event{ev("3"), ev("4"), ev("5")})
	if r.len() != 4 || r.free() != 0 {
		t.Fatalf("len %d free %d", r.len(), r.free())
	}
	a, b := r.popFront(), r.popFront()
	r.pushFront([]*flume.Event{a, b})
	nr := r.resize(6)
	var got []string
	for nr.len() > 0 {
		got = append(got, body(nr.popFront()))
	}
	if strings.Join(got, "") != "2345" {
		t.Fatalf("got %v", got)
	}
}

func benchmarkPut(b *testing.B, batch int) {
	c, err := New("bench", testConfig(batch*4, batch), nil)
	if err != nil {
		b.Fatal(err)
	}
	events := make([]*flume.Event, batch)
	for i := range events {
		events[i] = flume.NewEvent([]byte("event body "+strconv.Itoa(i)), nil)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		tx := c.NewTransaction()
		_ = tx.Begin()
		for _, e := range events {
			_ = tx.Put(e)
		}
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
		_ = tx.Close()
		// Drain outside the measurement so that the channel never fills.
		b.StopTimer()
		c.mu.Lock()
		for c.queue.len() > 0 {
			c.queue.popFront()
		}
		c.used, c.usedSlots = 0, 0
		c.mu.Unlock()
		b.StartTimer()
	}
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "events/s")
}

func benchmarkTake(b *testing.B, batch int) {
	c, err := New("bench", testConfig(batch*4, batch), nil)
	if err != nil {
		b.Fatal(err)
	}
	events := make([]*flume.Event, batch)
	for i := range events {
		events[i] = flume.NewEvent([]byte("event body "+strconv.Itoa(i)), nil)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		c.mu.Lock()
		c.queue.pushBack(events)
		c.used += batch
		c.usedSlots += int64(batch)
		c.mu.Unlock()
		b.StartTimer()
		tx := c.NewTransaction()
		_ = tx.Begin()
		for range batch {
			if e, err := tx.Take(); e == nil || err != nil {
				b.Fatal(e, err)
			}
		}
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
		_ = tx.Close()
	}
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "events/s")
}

func BenchmarkPutCommit(b *testing.B) {
	for _, n := range []int{100, 1000} {
		b.Run(fmt.Sprintf("batch=%d", n), func(b *testing.B) { benchmarkPut(b, n) })
	}
}

func BenchmarkTakeCommit(b *testing.B) {
	for _, n := range []int{100, 1000} {
		b.Run(fmt.Sprintf("batch=%d", n), func(b *testing.B) { benchmarkTake(b, n) })
	}
}

// BenchmarkPipeline runs a producer and a consumer concurrently, as an agent
// does.
func BenchmarkPipeline(b *testing.B) {
	for _, n := range []int{100, 1000} {
		b.Run(fmt.Sprintf("batch=%d", n), func(b *testing.B) {
			c, err := New("bench", testConfig(n*10, n), nil)
			if err != nil {
				b.Fatal(err)
			}
			e := flume.NewEvent([]byte("event body"), nil)
			total := b.N * n
			done := make(chan struct{})
			b.ReportAllocs()
			b.ResetTimer()
			go func() {
				defer close(done)
				for got := 0; got < total; {
					tx := c.NewTransaction()
					_ = tx.Begin()
					for range n {
						ev, _ := tx.Take()
						if ev == nil {
							break
						}
						got++
					}
					_ = tx.Commit()
					_ = tx.Close()
				}
			}()
			for i := 0; i < b.N; {
				tx := c.NewTransaction()
				_ = tx.Begin()
				for range n {
					_ = tx.Put(e)
				}
				if tx.Commit() == nil {
					i++
				}
				_ = tx.Close()
			}
			<-done
			b.ReportMetric(float64(total)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

// A sink taking a batch must not be held up waiting for the batch to fill:
// once a transaction holds an event, Take on an empty channel returns at once
// even with a keep-alive far longer than the test's own deadline.
func TestPartialBatchDoesNotWait(t *testing.T) {
	cfg := testConfig(10, 10)
	cfg.KeepAlive = time.Hour
	c := newTest(t, cfg)
	put := c.NewTransaction()
	if err := put.Begin(); err != nil {
		t.Fatal(err)
	}
	if err := put.Put(flume.NewEvent([]byte("only"), nil)); err != nil {
		t.Fatal(err)
	}
	if err := put.Commit(); err != nil {
		t.Fatal(err)
	}
	_ = put.Close()

	tx := c.NewTransaction()
	if err := tx.Begin(); err != nil {
		t.Fatal(err)
	}
	if e, err := tx.Take(); err != nil || e == nil {
		t.Fatalf("first Take = (%v, %v), want the event", e, err)
	}
	done := make(chan struct{})
	var e *flume.Event
	var err error
	go func() { defer close(done); e, err = tx.Take() }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("second Take waited for the keep-alive instead of returning the partial batch")
	}
	if e != nil || err != nil {
		t.Fatalf("second Take = (%v, %v), want (nil, nil)", e, err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	_ = tx.Close()
}

// Stopping a sink must not wait out the keep-alive of its take: an
// interrupted take returns at once, and only transactions begun before the
// interrupt are affected.
func TestInterruptTakes(t *testing.T) {
	cfg := testConfig(10, 10)
	cfg.KeepAlive = time.Hour
	channeltest.Interrupt(t, newTest(t, cfg))
}
