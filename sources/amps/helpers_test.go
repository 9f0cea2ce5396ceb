package amps

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"ampsflume/flume"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// fakeFeed is an injected message feed: the test pushes messages, the
// source pulls them. push blocks like a socket when the source stops
// reading.
type fakeFeed struct {
	ch     chan *Message
	closed chan struct{}
	once   sync.Once
	end    error // returned by Next once ch is drained and closed
}

func newFakeFeed() *fakeFeed {
	return &fakeFeed{ch: make(chan *Message), closed: make(chan struct{})}
}

func (f *fakeFeed) Next(ctx context.Context) (*Message, error) {
	select {
	case m, ok := <-f.ch:
		if !ok {
			if f.end != nil {
				return nil, f.end
			}
			return nil, io.EOF
		}
		return m, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-f.closed:
		return nil, errors.New("feed closed")
	}
}

func (f *fakeFeed) Close() error {
	f.once.Do(func() { close(f.closed) })
	return nil
}

// push hands m to the source, failing the test if it is not taken in time.
func (f *fakeFeed) push(t *testing.T, m *Message) {
	t.Helper()
	select {
	case f.ch <- m:
	case <-time.After(10 * time.Second):
		t.Fatalf("source did not take message %q", m.Data)
	}
}

// tryPush reports whether the source took m at once (within a short grace).
func (f *fakeFeed) tryPush(m *Message, wait time.Duration) bool {
	select {
	case f.ch <- m:
		return true
	case <-time.After(wait):
		return false
	}
}

// lendingFeed is fakeFeed as a PushFeed: each message is lent to the source
// with its body in a buffer that is overwritten as soon as handle returns,
// as the AMPS client's read buffer is, so a body kept without a copy shows.
type lendingFeed struct{ *fakeFeed }

func (f lendingFeed) Run(ctx context.Context, handle func(*Message)) error {
	var buf []byte
	for {
		m, err := f.Next(ctx)
		if err != nil {
			return err
		}
		lent := *m
		if m.Data != nil {
			buf = append(buf[:0], m.Data...)
			lent.Data = buf
		}
		handle(&lent)
		for i := range buf {
			buf[i] = '#'
		}
		lent = Message{}
	}
}

// lendFeeds makes newHarness give the source a lendingFeed.
var lendFeeds bool

func pub(i int) *Message {
	return &Message{Command: "publish", Topic: "Orders", Data: []byte(fmt.Sprintf("m%d", i)), SubID: "s1"}
}

func pubBM(i int) *Message {
	m := pub(i)
	m.Bookmark = fmt.Sprintf("77|%d|", i)
	return m
}

// recorder is a ChannelProcessor that records committed batches and fails a
// given number of times first.
type recorder struct {
	mu       sync.Mutex
	failures int // remaining failures
	failErr  error
	calls    int
	batches  [][]string // committed bodies
	attempts [][]string // every batch offered, committed or not
}

func (r *recorder) ProcessEvent(e *flume.Event) error { return r.ProcessEventBatch([]*flume.Event{e}) }

func (r *recorder) ProcessEventBatch(evs []*flume.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls++
	bodies := make([]string, len(evs))
	for i, e := range evs {
		bodies[i] = string(e.Body)
		if e.Headers == nil {
			return errors.New("event with nil headers")
		}
		e.Headers["touched"] = "yes" // like an interceptor
	}
	r.attempts = append(r.attempts, bodies)
	if r.failures > 0 {
		r.failures--
		if r.failErr != nil {
			return r.failErr
		}
		return fmt.Errorf("channel %q: commit: %w", "c1", flume.ErrChannelFull)
	}
	r.batches = append(r.batches, bodies)
	return nil
}

func (r *recorder) committed() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, b := range r.batches {
		out = append(out, b...)
	}
	return out
}

// logBuffer collects log output for assertions.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) count(s string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Count(l.buf.String(), s)
}

// fakeClock is an injectable clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// harness builds a started source over a fake feed.
type harness struct {
	src   *Source
	feed  *fakeFeed
	proc  *recorder
	logs  *logBuffer
	clock *fakeClock
	wakes *int64
	mu    *sync.Mutex
	cfg   ClientConfig
}

func (h *harness) wakeCount() int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return *h.wakes
}

func newHarness(t *testing.T, kv map[string]string, channels ...flume.ChannelInfo) *harness {
	t.Helper()
	base := map[string]string{"clientName": "flume", "uri": "tcp://127.0.0.1:9007/amps/json", "topic": "Orders"}
	for k, v := range kv {
		base[k] = v
	}
	h := &harness{feed: newFakeFeed(), proc: &recorder{}, logs: &logBuffer{},
		clock: &fakeClock{t: time.Unix(1_700_000_000, 0)}, wakes: new(int64), mu: &sync.Mutex{}}
	env := flume.SourceEnv{
		Name:      "amps",
		Config:    flume.MapContext(`source "amps"`, base),
		Processor: h.proc,
		Channels:  channels,
		Counter:   &flume.SourceCounter{},
		Wake: func() {
			h.mu.Lock()
			*h.wakes++
			h.mu.Unlock()
		},
	}
	src, err := New(env,
		WithClock(h.clock.now),
		WithLogger(slog.New(slog.NewTextHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))),
		WithClientFactory(func(ctx context.Context, cfg ClientConfig) (Feed, error) {
			h.cfg = cfg
			if lendFeeds {
				return lendingFeed{h.feed}, nil
			}
			return h.feed, nil
		}))
	if err != nil {
		t.Fatal(err)
	}
	h.src = src
	if err := src.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Stop() })
	return h
}

func (h *harness) held() int {
	held, _, _, _ := h.src.buf.stats()
	return held
}

func (h *harness) queued() int {
	_, q, _, _ := h.src.buf.stats()
	return q
}

func mustProcess(t *testing.T, s *Source, want flume.Status) {
	t.Helper()
	st, err := s.Process(context.Background())
	if err != nil || st != want {
		t.Fatalf("Process = %v, %v; want %v, nil", st, err, want)
	}
}
