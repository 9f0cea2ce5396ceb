package agent

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"

	"ampsflume/flume"
)

// Tiny components registered for the engine's tests only.

// lifecycleLog records starts and stops across components, in order.
var lifecycleLog struct {
	sync.Mutex
	entries []string
}

func logLife(s string) {
	lifecycleLog.Lock()
	lifecycleLog.entries = append(lifecycleLog.entries, s)
	lifecycleLog.Unlock()
}

func resetLife() {
	lifecycleLog.Lock()
	lifecycleLog.entries = nil
	lifecycleLog.Unlock()
}

func lifeEntries() []string {
	lifecycleLog.Lock()
	defer lifecycleLog.Unlock()
	return append([]string(nil), lifecycleLog.entries...)
}

// testChannel is a FIFO with Flume's transaction rules, small enough to
// trust. With failPuts set every commit fails.
type testChannel struct {
	name     string
	mu       sync.Mutex
	cond     *sync.Cond
	q        []*flume.Event
	capacity int
	txCap    int
	failPuts bool
	counter  *flume.ChannelCounter
}

var channels sync.Map // name → *testChannel, the latest built

func newTestChannel(env flume.ChannelEnv) (flume.Channel, error) {
	c := &testChannel{name: env.Name, counter: env.Counter}
	c.cond = sync.NewCond(&c.mu)
	if err := c.Reconfigure(env.Config); err != nil {
		return nil, err
	}
	channels.Store(env.Name, c)
	return c, nil
}

func (c *testChannel) Reconfigure(cfg *flume.Context) error {
	capacity, err := cfg.Int("capacity", 1000)
	if err != nil {
		return err
	}
	txCap, err := cfg.Int("transactionCapacity", 100)
	if err != nil {
		return err
	}
	fail, err := cfg.Bool("failPuts", false)
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.capacity, c.txCap, c.failPuts = capacity, txCap, fail
	c.mu.Unlock()
	return nil
}

func (c *testChannel) Start(context.Context) error { logLife("start channel " + c.name); return nil }
func (c *testChannel) Stop() error                 { logLife("stop channel " + c.name); return nil }
func (c *testChannel) Capacity() int               { c.mu.Lock(); defer c.mu.Unlock(); return c.capacity }
func (c *testChannel) TransactionCapacity() int    { c.mu.Lock(); defer c.mu.Unlock(); return c.txCap }
func (c *testChannel) Size() int                   { c.mu.Lock(); defer c.mu.Unlock(); return len(c.q) }
func (c *testChannel) NewTransaction() flume.Transaction {
	return &testTx{c: c}
}

type testTx struct {
	c     *testChannel
	puts  []*flume.Event
	takes []*flume.Event
	open  bool
}

func (t *testTx) Begin() error { t.open = true; return nil }
func (t *testTx) Put(e *flume.Event) error {
	if len(t.puts) >= t.c.txCap {
		return flume.ErrTransactionFull
	}
	t.puts = append(t.puts, e)
	return nil
}
func (t *testTx) Take() (*flume.Event, error) {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	if len(t.c.q) == 0 {
		return nil, nil
	}
	e := t.c.q[0]
	t.c.q = t.c.q[1:]
	t.takes = append(t.takes, e)
	return e, nil
}
func (t *testTx) Commit() error {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	t.open = false
	if len(t.puts) > 0 && (t.c.failPuts || len(t.c.q)+len(t.puts) > t.c.capacity) {
		t.c.q = append(append([]*flume.Event(nil), t.takes...), t.c.q...)
		return flume.ErrChannelFull
	}
	t.c.q = append(t.c.q, t.puts...)
	t.c.counter.EventPutSuccess.Add(int64(len(t.puts)))
	t.c.counter.EventTakeSuccess.Add(int64(len(t.takes)))
	return nil
}
func (t *testTx) Rollback() error {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	t.open = false
	t.c.q = append(append([]*flume.Event(nil), t.takes...), t.c.q...)
	return nil
}
func (t *testTx) Close() error {
	if t.open {
		t.Rollback()
		return errors.New("closed while open")
	}
	return nil
}

// counterSource is pollable: it delivers totalEvents events numbered from
// 0, batchSize per Process, then reports Backoff forever.
type counterSource struct {
	name      string
	env       flume.SourceEnv
	total     int
	batch     int
	next      int
	processes atomic.Int64
}

func newCounterSource(env flume.SourceEnv) (flume.Source, error) {
	total, err := env.Config.Int("totalEvents", 10)
	if err != nil {
		return nil, err
	}
	batch, err := env.Config.Int("batchSize", 1)
	if err != nil {
		return nil, err
	}
	return &counterSource{name: env.Name, env: env, total: total, batch: batch}, nil
}

func (s *counterSource) Start(context.Context) error { logLife("start source " + s.name); return nil }
func (s *counterSource) Stop() error                 { logLife("stop source " + s.name); return nil }
func (s *counterSource) Process(context.Context) (flume.Status, error) {
	s.processes.Add(1)
	if s.next >= s.total {
		return flume.Backoff, nil
	}
	n := min(s.batch, s.total-s.next)
	events := make([]*flume.Event, n)
	for i := range events {
		events[i] = flume.NewEvent([]byte(strconv.Itoa(s.next+i)), map[string]string{"seq": strconv.Itoa(s.next + i)})
	}
	if err := s.env.Processor.ProcessEventBatch(events); err != nil {
		return flume.Backoff, err
	}
	s.next += n
	s.env.Counter.EventAccepted.Add(int64(n))
	return flume.Ready, nil
}

// pushSource is event-driven: tests call push to deliver events.
type pushSource struct {
	name string
	env  flume.SourceEnv
}

var pushSources sync.Map

func (s *pushSource) Start(context.Context) error { logLife("start source " + s.name); return nil }
func (s *pushSource) Stop() error                 { logLife("stop source " + s.name); return nil }

// collectSink takes up to batchSize events per Process and records their
// bodies; with failing set, Process fails without taking anything.
type collectSink struct {
	name    string
	ch      flume.Channel
	batch   int
	counter *flume.SinkCounter
	mu      sync.Mutex
	got     []string
	failing atomic.Bool
	calls   atomic.Int64
}

var sinks sync.Map

func newCollectSink(env flume.SinkEnv) (flume.Sink, error) {
	b, err := env.Config.Int("batchSize", 10)
	if err != nil {
		return nil, err
	}
	s := &collectSink{name: env.Name, ch: env.Channel, batch: b, counter: env.Counter}
	sinks.Store(env.Name, s)
	return s, nil
}

func (s *collectSink) Start(context.Context) error { logLife("start sink " + s.name); return nil }
func (s *collectSink) Stop() error                 { logLife("stop sink " + s.name); return nil }
func (s *collectSink) Process(context.Context) (flume.Status, error) {
	s.calls.Add(1)
	if s.failing.Load() {
		return flume.Backoff, fmt.Errorf("sink %s: injected failure", s.name)
	}
	tx := s.ch.NewTransaction()
	tx.Begin()
	var bodies []string
	for len(bodies) < s.batch {
		e, err := tx.Take()
		if err != nil {
			tx.Rollback()
			tx.Close()
			return flume.Backoff, err
		}
		if e == nil {
			break
		}
		bodies = append(bodies, string(e.Body))
	}
	if err := tx.Commit(); err != nil {
		tx.Close()
		return flume.Backoff, err
	}
	tx.Close()
	s.mu.Lock()
	s.got = append(s.got, bodies...)
	s.mu.Unlock()
	s.counter.EventDrainSuccess.Add(int64(len(bodies)))
	if len(bodies) < s.batch {
		return flume.Backoff, nil
	}
	return flume.Ready, nil
}

func (s *collectSink) bodies() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.got...)
}

// tagInterceptor sets header tag=<value> and drops events whose body is
// "drop".
type tagInterceptor struct{ value string }

func (t tagInterceptor) Intercept(e *flume.Event) *flume.Event {
	if string(e.Body) == "drop" {
		return nil
	}
	e.Headers["tag"] = t.value
	return e
}

func init() {
	flume.RegisterChannel(flume.Spec{Alias: "testchan", Keys: []flume.Key{
		{Name: "capacity", Default: "1000"}, {Name: "transactionCapacity", Default: "100"}, {Name: "failPuts", Default: "false"},
	}}, newTestChannel)
	flume.RegisterSource(flume.Spec{Alias: "counter", Keys: []flume.Key{
		{Name: "totalEvents", Default: "10"}, {Name: "batchSize", Default: "1"},
	}}, newCounterSource)
	flume.RegisterSource(flume.Spec{Alias: "push", Keys: []flume.Key{}}, func(env flume.SourceEnv) (flume.Source, error) {
		s := &pushSource{name: env.Name, env: env}
		pushSources.Store(env.Name, s)
		return s, nil
	})
	flume.RegisterSink(flume.Spec{Alias: "collect", Keys: []flume.Key{{Name: "batchSize", Default: "10"}}}, newCollectSink)
	flume.RegisterInterceptor(flume.Spec{Alias: "tag", Keys: []flume.Key{{Name: "value"}}}, func(env flume.InterceptorEnv) (flume.Interceptor, error) {
		v, err := env.Config.RequiredString("value")
		return tagInterceptor{value: v}, err
	})
}
