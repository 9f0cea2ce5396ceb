package seq

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"testing"

	"ampsflume/flume"
)

// recorder is a ChannelProcessor that records what it accepts and fails the
// calls listed in fail (numbered from 0) with the given error.
type recorder struct {
	calls  int
	fail   map[int]error
	got    []string
	single int
}

func (r *recorder) ProcessEvent(e *flume.Event) error {
	r.single++
	return r.ProcessEventBatch([]*flume.Event{e})
}

func (r *recorder) ProcessEventBatch(events []*flume.Event) error {
	call := r.calls
	r.calls++
	if err := r.fail[call]; err != nil {
		// Interceptors may change events even when delivery fails.
		for _, e := range events {
			e.Headers["touched"] = "yes"
		}
		return err
	}
	for _, e := range events {
		if len(e.Headers) != 0 {
			return fmt.Errorf("event %q arrived with headers %v", e.Body, e.Headers)
		}
		r.got = append(r.got, string(e.Body))
	}
	return nil
}

func full() error {
	return &flume.ChannelError{Channel: "c", Op: "commit", Err: fmt.Errorf("%w: no room", flume.ErrChannelFull)}
}

func TestSequence(t *testing.T) {
	tests := []struct {
		name      string
		cfg       Config
		fail      map[int]error
		wantCalls int
		wantErrs  int // Process calls that return an error
	}{
		{"single events", Config{BatchSize: 1, TotalEvents: 5}, nil, 5, 0},
		{"batches with a short last one", Config{BatchSize: 3, TotalEvents: 10}, nil, 4, 0},
		{"channel full is retried", Config{BatchSize: 3, TotalEvents: 10}, map[int]error{1: full(), 2: full()}, 6, 0},
		{"single event retried", Config{BatchSize: 1, TotalEvents: 4}, map[int]error{0: full(), 3: full()}, 6, 0},
		{"other errors are reported and retried", Config{BatchSize: 4, TotalEvents: 8}, map[int]error{0: errors.New("boom")}, 3, 1},
		{"zero events", Config{BatchSize: 4, TotalEvents: 0}, nil, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recorder{fail: tt.fail}
			s, err := New("r1", tt.cfg, rec, nil)
			if err != nil {
				t.Fatal(err)
			}
			errs := 0
			for i := 0; i < 100; i++ {
				st, err := s.Process(context.Background())
				if err != nil {
					errs++
				}
				if st == flume.Backoff && err == nil && rec.calls >= tt.wantCalls {
					if int64(len(rec.got)) == tt.cfg.TotalEvents {
						break
					}
				}
			}
			if errs != tt.wantErrs {
				t.Fatalf("%d Process errors, want %d", errs, tt.wantErrs)
			}
			if rec.calls != tt.wantCalls {
				t.Fatalf("%d deliveries, want %d", rec.calls, tt.wantCalls)
			}
			if int64(len(rec.got)) != tt.cfg.TotalEvents {
				t.Fatalf("got %d events, want %d", len(rec.got), tt.cfg.TotalEvents)
			}
			for i, b := range rec.got {
				if b != strconv.Itoa(i) {
					t.Fatalf("event %d has body %q", i, b)
				}
			}
			// Done: more polls deliver nothing.
			if st, err := s.Process(context.Background()); st != flume.Backoff || err != nil || rec.calls != tt.wantCalls {
				t.Fatalf("after the last event: %v, %v, %d calls", st, err, rec.calls)
			}
			c := s.Counter()
			if c.EventAccepted.Load() != tt.cfg.TotalEvents || c.EventReceived.Load() != tt.cfg.TotalEvents ||
				c.ChannelWriteFail.Load() != int64(len(tt.fail)) {
				t.Fatalf("counters: accepted %d received %d writeFail %d", c.EventAccepted.Load(), c.EventReceived.Load(), c.ChannelWriteFail.Load())
			}
			if tt.cfg.BatchSize == 1 && rec.single != rec.calls {
				t.Fatalf("batchSize 1 should use ProcessEvent")
			}
		})
	}
}

func TestReadyUntilDone(t *testing.T) {
	s, err := New("r1", Config{BatchSize: 2, TotalEvents: 4}, &recorder{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []flume.Status{flume.Ready, flume.Backoff, flume.Backoff} {
		if st, _ := s.Process(context.Background()); st != want {
			t.Fatalf("poll %d = %v, want %v", i, st, want)
		}
	}
	if s.Delivered() != 4 {
		t.Fatalf("Delivered = %d", s.Delivered())
	}
}

func TestConfig(t *testing.T) {
	cfg, err := ParseConfig(flume.MapContext(`source "r1"`, nil))
	if err != nil || cfg.BatchSize != 1 || cfg.TotalEvents != 1<<63-1 {
		t.Fatalf("defaults: %+v, %v", cfg, err)
	}
	for _, kv := range []map[string]string{
		{"batchSize": "0"}, {"batchSize": "x"}, {"totalEvents": "-1"}, {"totalEvents": "1e3"},
	} {
		_, err := ParseConfig(flume.MapContext(`source "r1"`, kv))
		var ce *flume.ConfigError
		if !errors.As(err, &ce) {
			t.Errorf("%v: err = %v, want a ConfigError", kv, err)
			continue
		}
		for k := range kv {
			if ce.Key != k {
				t.Errorf("%v: error names %q", kv, ce.Key)
			}
		}
	}
	r, ok := flume.Lookup(flume.KindSource, "org.apache.flume.source.SequenceGeneratorSource")
	if !ok {
		t.Fatal("not registered")
	}
	_, err = r.Source(flume.SourceEnv{
		Name: "r1", Processor: &recorder{},
		Config:   flume.MapContext(`source "r1"`, map[string]string{"batchSize": "50"}),
		Channels: []flume.ChannelInfo{{Name: "c1", TransactionCapacity: 100}, {Name: "c2", TransactionCapacity: 10}},
	})
	var ce *flume.ConfigError
	if !errors.As(err, &ce) || ce.Key != "batchSize" {
		t.Fatalf("batchSize above a channel's transactionCapacity: %v", err)
	}
}

// keeper is a ChannelProcessor that keeps the events it is handed.
type keeper struct{ events []*flume.Event }

func (k *keeper) ProcessEvent(e *flume.Event) error { return k.ProcessEventBatch([]*flume.Event{e}) }

func (k *keeper) ProcessEventBatch(events []*flume.Event) error {
	k.events = append(k.events, events...)
	return nil
}

// Events of one batch share their allocations, but none can reach another:
// each has its own header map, and growing a body never writes into the
// next one.
func TestBatchEventsIndependent(t *testing.T) {
	tests := []struct {
		name  string
		total int64
		batch int
	}{
		{"digits grow within a batch", 12, 12},
		{"one digit", 5, 5},
		{"several batches", 1005, 100},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := &keeper{}
			s, err := New("r1", Config{BatchSize: tt.batch, TotalEvents: tt.total}, k, nil)
			if err != nil {
				t.Fatal(err)
			}
			for s.Delivered() < tt.total {
				if _, err := s.Process(context.Background()); err != nil {
					t.Fatal(err)
				}
			}
			for i, e := range k.events {
				if e.Headers == nil {
					t.Fatalf("event %d has nil headers", i)
				}
				e.Headers["n"] = strconv.Itoa(i)
				e.Body = append(e.Body, 'x')
			}
			for i, e := range k.events {
				if got, want := string(e.Body), strconv.Itoa(i)+"x"; got != want {
					t.Fatalf("event %d body %q, want %q", i, got, want)
				}
				if len(e.Headers) != 1 || e.Headers["n"] != strconv.Itoa(i) {
					t.Fatalf("event %d headers %v", i, e.Headers)
				}
			}
		})
	}
}

// discard is a ChannelProcessor that accepts and forgets.
type discard struct{}

func (discard) ProcessEvent(*flume.Event) error        { return nil }
func (discard) ProcessEventBatch([]*flume.Event) error { return nil }

// A batch costs one allocation per event (its header map, which the API
// promises) plus a few for the whole batch, not three per event.
func TestBatchAllocations(t *testing.T) {
	const batch = 100
	s, err := New("r1", Config{BatchSize: batch, TotalEvents: 1 << 40}, discard{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(20, func() {
		if _, err := s.Process(context.Background()); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > batch+4 {
		t.Fatalf("%v allocations per batch of %d, want at most %d", allocs, batch, batch+4)
	}
}

func TestIncrement(t *testing.T) {
	for _, n := range []int64{0, 1, 8, 9, 10, 19, 99, 100, 109, 199, 999, 1999, 9999999, 1<<62 - 1, 922337203685477580} {
		var buf [20]byte
		got := string(increment(strconv.AppendInt(buf[:0], n, 10)))
		if want := strconv.FormatInt(n+1, 10); got != want {
			t.Errorf("increment(%d) = %q, want %q", n, got, want)
		}
	}
}

// BenchmarkProcess measures the source alone: batches of 1000 handed to a
// processor that discards them.
func BenchmarkProcess(b *testing.B) {
	const batch = 1000
	s, err := New("r1", Config{BatchSize: batch, TotalEvents: 1 << 62}, discard{}, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Process(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "events/s")
}
