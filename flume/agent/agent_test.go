package agent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"ampsflume/flume"
	"ampsflume/flume/config"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func mustConfig(t *testing.T, text string) *config.Agent {
	t.Helper()
	p, err := config.Parse("test.properties", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	a, probs := p.Agent("a", config.Options{})
	if probs.HasErrors() {
		t.Fatalf("config errors: %v", probs.Err())
	}
	return a
}

func startAgent(t *testing.T, text string) *Agent {
	t.Helper()
	ag := New(Options{Logger: quiet})
	if err := ag.Start(context.Background(), mustConfig(t, text)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ag.Stop)
	return ag
}

// checkFor polls fn until it returns nil or the deadline passes.
func checkFor(t *testing.T, total time.Duration, fn func() error) {
	t.Helper()
	deadline := time.Now().Add(total)
	for {
		err := fn()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func sinkNamed(name string) *collectSink {
	v, _ := sinks.Load(name)
	s, _ := v.(*collectSink)
	return s
}

func seqBodies(from, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = strconv.Itoa(from + i)
	}
	return out
}

func wantBodies(t *testing.T, sink string, want []string) {
	t.Helper()
	checkFor(t, 10*time.Second, func() error {
		got := sinkNamed(sink).bodies()
		if !reflect.DeepEqual(got, want) {
			return fmt.Errorf("sink %s got %d events %.60v, want %d", sink, len(got), got, len(want))
		}
		return nil
	})
}

const pipeline = `a.sources = r1
a.channels = c1
a.sinks = k1
a.sources.r1.type = counter
a.sources.r1.totalEvents = 1000
a.sources.r1.batchSize = 100
a.sources.r1.channels = c1
a.channels.c1.type = testchan
a.sinks.k1.type = collect
a.sinks.k1.batchSize = 50
a.sinks.k1.channel = c1
`

func TestPipelineDeliversInOrder(t *testing.T) {
	ag := startAgent(t, pipeline)
	wantBodies(t, "k1", seqBodies(0, 1000))
	got := map[string]map[string]float64{}
	for _, c := range ag.Gather() {
		m := map[string]float64{}
		for _, x := range c.Metrics {
			m[x.Name] = x.Value
		}
		got[c.Type+"."+c.Name] = m
	}
	if got["SOURCE.r1"]["EventAcceptedCount"] != 1000 || got["CHANNEL.c1"]["EventPutSuccessCount"] != 1000 ||
		got["SINK.k1"]["EventDrainSuccessCount"] != 1000 || got["CHANNEL.c1"]["ChannelCapacity"] != 1000 {
		t.Fatalf("metrics: %v", got)
	}
}

func TestStartAndStopOrder(t *testing.T) {
	resetLife()
	ag := New(Options{Logger: quiet})
	if err := ag.Start(context.Background(), mustConfig(t, pipeline)); err != nil {
		t.Fatal(err)
	}
	ag.Stop()
	want := []string{"start channel c1", "start sink k1", "start source r1", "stop source r1", "stop sink k1", "stop channel c1"}
	if got := lifeEntries(); !reflect.DeepEqual(got, want) {
		t.Fatalf("lifecycle %v, want %v", got, want)
	}
}

// TestSinkWokenByCommit: with a one-hour back-off, events still arrive at
// once, because a commit wakes the sink runner, and the source's Wake ends
// its own back-off.
func TestSinkWokenByCommit(t *testing.T) {
	text := `a.sources = r1
a.channels = c1
a.sinks = k1
a.sources.r1.type = push
a.sources.r1.channels = c1
a.channels.c1.type = testchan
a.sinks.k1.type = collect
a.sinks.k1.channel = c1
`
	old := sinkBackoff
	sinkBackoff = config.Backoff{Increment: time.Hour, Max: time.Hour}
	t.Cleanup(func() { sinkBackoff = old })
	startAgent(t, text)
	v, _ := pushSources.Load("r1")
	src := v.(*pushSource)
	k := sinkNamed("k1")
	// Let the sink find the channel empty and go to sleep.
	checkFor(t, 5*time.Second, func() error {
		if k.calls.Load() == 0 {
			return errors.New("sink not polled yet")
		}
		return nil
	})
	for round := 0; round < 3; round++ {
		if err := src.env.Processor.ProcessEvent(flume.NewEvent([]byte(strconv.Itoa(round)), nil)); err != nil {
			t.Fatal(err)
		}
		wantBodies(t, "k1", seqBodies(0, round+1))
	}
}

func TestPollableSourceWake(t *testing.T) {
	var slept []time.Duration
	var mu sync.Mutex
	r := newRunner("test", nil, time.Second, 5*time.Second, quiet)
	ctx, cancel := context.WithCancel(context.Background())
	results := []flume.Status{flume.Backoff, flume.Backoff, flume.Backoff, flume.Ready, flume.Backoff, flume.Backoff, flume.Backoff, flume.Backoff, flume.Backoff, flume.Backoff, flume.Backoff}
	i := 0
	r.process = func(context.Context) (flume.Status, error) {
		if i == len(results) {
			cancel()
			return flume.Backoff, nil
		}
		st := results[i]
		i++
		if i == 2 {
			return flume.Backoff, errors.New("boom")
		}
		return st, nil
	}
	r.sleep = func(_ context.Context, d time.Duration, wake <-chan struct{}) {
		mu.Lock()
		slept = append(slept, d)
		mu.Unlock()
	}
	r.run(ctx)
	// Backoff (1s), error (max 5s, resets), Backoff (1s), Ready, then
	// growing 1..5s and capped.
	want := []time.Duration{1, 5, 1, 1, 2, 3, 4, 5, 5, 5}
	for i := range want {
		want[i] *= time.Second
	}
	if !reflect.DeepEqual(slept, want) {
		t.Fatalf("sleeps %v, want %v", slept, want)
	}

	// Wake ends a real back-off sleep of an hour at once.
	r2 := newRunner("test", nil, time.Hour, time.Hour, quiet)
	done := make(chan struct{})
	go func() {
		realSleep(context.Background(), time.Hour, r2.wake)
		close(done)
	}()
	r2.Wake()
	r2.Wake() // never blocks
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Wake did not end the sleep")
	}
}

func TestInterceptorsAndReplicatingOptional(t *testing.T) {
	text := `a.sources = r1
a.channels = c1 c2 c3
a.sinks = k1 k2
a.sources.r1.type = push
a.sources.r1.channels = c1 c2 c3
a.sources.r1.selector.optional = c3
a.sources.r1.interceptors = i1
a.sources.r1.interceptors.i1.type = tag
a.sources.r1.interceptors.i1.value = x
a.channels.c1.type = testchan
a.channels.c2.type = testchan
a.channels.c3.type = testchan
a.channels.c3.failPuts = true
a.sinks.k1.type = collect
a.sinks.k1.channel = c1
a.sinks.k2.type = collect
a.sinks.k2.channel = c2
`
	ag := startAgent(t, text)
	v, _ := pushSources.Load("r1")
	p := v.(*pushSource).env.Processor
	batch := []*flume.Event{flume.NewEvent([]byte("a"), nil), flume.NewEvent([]byte("drop"), nil), flume.NewEvent([]byte("b"), nil)}
	if err := p.ProcessEventBatch(batch); err != nil {
		t.Fatalf("optional channel failure must be ignored: %v", err)
	}
	wantBodies(t, "k1", []string{"a", "b"})
	wantBodies(t, "k2", []string{"a", "b"})
	if batch[0].Headers["tag"] != "x" {
		t.Fatalf("interceptor did not run: %v", batch[0].Headers)
	}
	for _, c := range ag.Gather() {
		for _, m := range c.Metrics {
			if c.Name == "r1" && m.Name == "InterceptorDroppedCount" && m.Value != 1 {
				t.Fatalf("InterceptorDroppedCount = %v", m.Value)
			}
		}
	}
}

func TestRequiredChannelFailure(t *testing.T) {
	text := `a.sources = r1
a.channels = c1 c2
a.sources.r1.type = push
a.sources.r1.channels = c1 c2
a.channels.c1.type = testchan
a.channels.c2.type = testchan
a.channels.c2.failPuts = true
`
	startAgent(t, text)
	v, _ := pushSources.Load("r1")
	err := v.(*pushSource).env.Processor.ProcessEvent(flume.NewEvent([]byte("x"), nil))
	var ce *flume.ChannelError
	if !errors.As(err, &ce) || ce.Channel != "c2" || !errors.Is(err, flume.ErrChannelFull) {
		t.Fatalf("err = %v", err)
	}
	// Commits are not atomic across channels: c1 kept its copy.
	c1, _ := channels.Load("c1")
	if n := c1.(*testChannel).Size(); n != 1 {
		t.Fatalf("c1 size %d", n)
	}
}

func TestMultiplexingSelector(t *testing.T) {
	text := `a.sources = r1
a.channels = us ca other
a.sinks = kus kca kother
a.sources.r1.type = push
a.sources.r1.channels = us ca other
a.sources.r1.selector.type = multiplexing
a.sources.r1.selector.header = state
a.sources.r1.selector.mapping.US = us
a.sources.r1.selector.mapping.CA = ca
a.sources.r1.selector.optional.CA = us ca
a.sources.r1.selector.optional.XX = other
a.channels.us.type = testchan
a.channels.ca.type = testchan
a.channels.other.type = testchan
a.sinks.kus.type = collect
a.sinks.kus.channel = us
a.sinks.kca.type = collect
a.sinks.kca.channel = ca
a.sinks.kother.type = collect
a.sinks.kother.channel = other
`
	ag := startAgent(t, text)
	v, _ := pushSources.Load("r1")
	p := v.(*pushSource).env.Processor
	ev := func(body, state string) *flume.Event {
		h := map[string]string{}
		if state != "" {
			h["state"] = state
		}
		return flume.NewEvent([]byte(body), h)
	}
	if err := p.ProcessEventBatch([]*flume.Event{ev("1", "US"), ev("2", "CA"), ev("3", "ZZ"), ev("4", ""), ev("5", "XX"), ev("6", "US")}); err != nil {
		t.Fatal(err)
	}
	wantBodies(t, "kus", []string{"1", "6", "2"}) // required first, then optional
	wantBodies(t, "kca", []string{"2"})
	wantBodies(t, "kother", []string{"5"})
	for _, c := range ag.Gather() {
		for _, m := range c.Metrics {
			if c.Name == "r1" && m.Name == "SelectorDroppedCount" && m.Value != 2 {
				t.Fatalf("SelectorDroppedCount = %v, want 2", m.Value)
			}
		}
	}

	// With a default, nothing is dropped.
	sel := newSelector(&config.Selector{Type: config.SelectorMultiplexing, Header: "h", Mapping: map[string][]string{"a": {"x"}}, Default: []string{"y"}}, []string{"x", "y"})
	for _, h := range []string{"", " ", "b"} {
		if req, _ := sel.Select(flume.NewEvent(nil, map[string]string{"h": h})); !reflect.DeepEqual(req, []int{1}) {
			t.Fatalf("header %q → %v, want default", h, req)
		}
	}
}

func TestLoadBalancingSelector(t *testing.T) {
	sel := newSelector(&config.Selector{Type: config.SelectorLoadBalancing, Policy: "round_robin"}, []string{"a", "b", "c"})
	var got []int
	for i := 0; i < 6; i++ {
		req, opt := sel.Select(flume.NewEvent(nil, nil))
		if len(req) != 1 || len(opt) != 0 {
			t.Fatalf("req %v opt %v", req, opt)
		}
		got = append(got, req[0])
	}
	if !reflect.DeepEqual(got, []int{0, 1, 2, 0, 1, 2}) {
		t.Fatalf("order %v", got)
	}
	rnd := newSelector(&config.Selector{Type: config.SelectorLoadBalancing, Policy: "random"}, []string{"a", "b"})
	for i := 0; i < 20; i++ {
		if req, _ := rnd.Select(nil); len(req) != 1 || req[0] > 1 {
			t.Fatalf("random %v", req)
		}
	}
}

func TestFactoryErrorsAreProblems(t *testing.T) {
	cfg := mustConfig(t, pipeline+"a.channels.c1.capacity = lots\na.sinks.k1.batchSize = 1x\n")
	probs := Check(cfg, Options{Logger: quiet})
	if len(probs) != 2 {
		t.Fatalf("problems: %v", probs)
	}
	for i, want := range []string{`test.properties:12: channel "c1": key "capacity"`, `test.properties:13: sink "k1": key "batchSize"`} {
		if !strings.Contains(probs[i].String(), want) {
			t.Errorf("problem %q lacks %q", probs[i], want)
		}
	}
	ag := New(Options{Logger: quiet})
	err := ag.Start(context.Background(), cfg)
	var ie *config.InvalidError
	if !errors.As(err, &ie) || len(ie.Problems) != 2 {
		t.Fatalf("Start: %v", err)
	}
	ag.Stop()
}

func TestReloadKeepsReconfigurableChannel(t *testing.T) {
	// First only a source: events pile up in c1.
	first := `a.sources = r1
a.channels = c1
a.sources.r1.type = counter
a.sources.r1.totalEvents = 30
a.sources.r1.batchSize = 10
a.sources.r1.channels = c1
a.channels.c1.type = testchan
`
	ag := startAgent(t, first)
	v, _ := channels.Load("c1")
	c1 := v.(*testChannel)
	checkFor(t, 5*time.Second, func() error {
		if c1.Size() != 30 {
			return fmt.Errorf("c1 holds %d", c1.Size())
		}
		return nil
	})
	// A broken new configuration is refused and the old one keeps running.
	bad := mustConfig(t, first+"a.channels.c1.capacity = many\n")
	if err := ag.Reload(context.Background(), bad); err == nil {
		t.Fatal("bad reload accepted")
	}
	if ag.top == nil || ag.top.channels[0].ch != c1 {
		t.Fatal("old topology lost")
	}
	second := `a.sinks = k1
a.channels = c1
a.channels.c1.type = testchan
a.channels.c1.capacity = 50
a.sinks.k1.type = collect
a.sinks.k1.channel = c1
`
	if err := ag.Reload(context.Background(), mustConfig(t, second)); err != nil {
		t.Fatal(err)
	}
	wantBodies(t, "k1", seqBodies(0, 30))
	if ag.top.channels[0].ch != c1 || c1.Capacity() != 50 {
		t.Fatal("channel not kept and reconfigured")
	}
}

type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

type scriptedSink struct {
	name  string
	fail  bool
	calls int
	log   *[]string
}

func (s *scriptedSink) Start(context.Context) error { return nil }
func (s *scriptedSink) Stop() error                 { return nil }
func (s *scriptedSink) Process(context.Context) (flume.Status, error) {
	s.calls++
	*s.log = append(*s.log, s.name)
	if s.fail {
		return flume.Backoff, errors.New(s.name + " down")
	}
	return flume.Ready, nil
}

func TestFailoverProcessor(t *testing.T) {
	var calls []string
	k1 := &scriptedSink{name: "k1", log: &calls}
	k2 := &scriptedSink{name: "k2", log: &calls}
	k3 := &scriptedSink{name: "k3", log: &calls}
	clock := &fakeClock{now: time.Unix(1000, 0)}
	f := newFailover([]namedSink{{"k1", k1}, {"k2", k2}, {"k3", k3}}, map[string]int{"k1": 10, "k2": 5}, 30*time.Second, clock, quiet)
	ctx := context.Background()
	step := func() error { _, err := f.Process(ctx); return err }

	if err := step(); err != nil || f.Active() != "k1" {
		t.Fatalf("active %s err %v", f.Active(), err)
	}
	k1.fail = true
	if err := step(); err != nil || f.Active() != "k2" {
		t.Fatalf("after k1 failure: active %s err %v", f.Active(), err)
	}
	// k1 is parked for 2^1 s: not retried before that.
	clock.Add(1900 * time.Millisecond)
	calls = nil
	step()
	if !reflect.DeepEqual(calls, []string{"k2"}) {
		t.Fatalf("calls %v", calls)
	}
	// Time is up but k1 still fails: parked again for 2^2 s.
	clock.Add(200 * time.Millisecond)
	calls = nil
	step()
	if !reflect.DeepEqual(calls, []string{"k1", "k2"}) {
		t.Fatalf("calls %v", calls)
	}
	clock.Add(3 * time.Second)
	calls = nil
	step()
	if !reflect.DeepEqual(calls, []string{"k2"}) {
		t.Fatalf("k1 retried too early: %v", calls)
	}
	// k1 recovers after its penalty and becomes active again.
	k1.fail = false
	clock.Add(2 * time.Second)
	calls = nil
	step()
	step()
	if !reflect.DeepEqual(calls, []string{"k1", "k1"}) || f.Active() != "k1" {
		t.Fatalf("calls %v active %s", calls, f.Active())
	}
	// Everything down: an error once no sink is left.
	k1.fail, k2.fail, k3.fail = true, true, true
	if err := step(); !errors.Is(err, ErrAllSinksFailed) {
		t.Fatalf("err %v", err)
	}
	// The penalty is capped by maxpenalty.
	for _, s := range f.failed {
		if s.refresh.Sub(clock.Now()) > 30*time.Second {
			t.Fatalf("penalty above maxpenalty: %v", s.refresh.Sub(clock.Now()))
		}
	}
}

func TestLoadBalanceProcessor(t *testing.T) {
	var calls []string
	k1 := &scriptedSink{name: "k1", log: &calls}
	k2 := &scriptedSink{name: "k2", log: &calls}
	k3 := &scriptedSink{name: "k3", log: &calls}
	clock := &fakeClock{now: time.Unix(1000, 0)}
	lb := newLoadBalance([]namedSink{{"k1", k1}, {"k2", k2}, {"k3", k3}}, false, true, 30*time.Second, clock, quiet)
	ctx := context.Background()
	for i := 0; i < 6; i++ {
		lb.Process(ctx)
	}
	if want := []string{"k1", "k2", "k3", "k1", "k2", "k3"}; !reflect.DeepEqual(calls, want) {
		t.Fatalf("round robin %v", calls)
	}
	// k2 fails: the next sink takes over, and k2 is left out for 2 s.
	k2.fail = true
	calls = nil
	lb.Process(ctx) // k1
	lb.Process(ctx) // k2 fails → k3
	lb.Process(ctx)
	lb.Process(ctx)
	for _, c := range calls[3:] {
		if c == "k2" {
			t.Fatalf("backed-off sink called: %v", calls)
		}
	}
	if !reflect.DeepEqual(calls[:3], []string{"k1", "k2", "k3"}) {
		t.Fatalf("calls %v", calls)
	}
	k2.fail = false
	clock.Add(2 * time.Second)
	calls = nil
	for i := 0; i < 3; i++ {
		lb.Process(ctx)
	}
	found := false
	for _, c := range calls {
		found = found || c == "k2"
	}
	if !found {
		t.Fatalf("k2 not restored after its back-off: %v", calls)
	}
	k1.fail, k2.fail, k3.fail = true, true, true
	clock.Add(time.Hour)
	if _, err := lb.Process(ctx); !errors.Is(err, ErrAllSinksFailed) {
		t.Fatalf("err %v", err)
	}
}

func TestFailoverGroupEndToEnd(t *testing.T) {
	text := pipeline + `a.sinks = k1 k2
a.sinks.k2.type = collect
a.sinks.k2.channel = c1
a.sinkgroups = g
a.sinkgroups.g.sinks = k1 k2
a.sinkgroups.g.processor.type = failover
a.sinkgroups.g.processor.priority.k1 = 1
a.sinkgroups.g.processor.priority.k2 = 2
`
	text = strings.Replace(text, "a.sinks = k1\n", "", 1)
	startAgent(t, text)
	wantBodies(t, "k2", seqBodies(0, 1000))
	if n := len(sinkNamed("k1").bodies()); n != 0 {
		t.Fatalf("standby sink got %d events", n)
	}
}

func TestWatcher(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f.properties")
	if err := os.WriteFile(path, []byte("a=1"), 0o644); err != nil {
		t.Fatal(err)
	}
	w := NewWatcher(path)
	if w.Changed() {
		t.Fatal("change without a write")
	}
	future := time.Now().Add(time.Hour)
	if err := os.Chtimes(path, future, future); err != nil {
		t.Fatal(err)
	}
	if !w.Changed() || w.Changed() {
		t.Fatal("mtime change not seen exactly once")
	}
	os.Remove(path)
	if w.Changed() {
		t.Fatal("removal counted as a change")
	}
	os.WriteFile(path, []byte("a=22"), 0o644)

	ctx, cancel := context.WithCancel(context.Background())
	changes := make(chan struct{}, 10)
	done := make(chan struct{})
	go func() {
		w.Run(ctx, 5*time.Millisecond, func() { changes <- struct{}{} })
		close(done)
	}()
	t.Cleanup(func() { cancel(); <-done })
	select {
	case <-changes:
	case <-time.After(10 * time.Second):
		t.Fatal("reappearance not seen by Run")
	}
}

// TestStopInterruptsWaitingTake: stopping does not wait out the keep-alive of
// the take a sink is blocked in (Flume interrupts the sink's thread).
func TestStopInterruptsWaitingTake(t *testing.T) {
	text := `a.sources = r1
a.channels = c1
a.sinks = kstop
a.sources.r1.type = push
a.sources.r1.channels = c1
a.channels.c1.type = memory
a.channels.c1.keep-alive = 30
a.sinks.kstop.type = collect
a.sinks.kstop.channel = c1
`
	ag := New(Options{Logger: quiet})
	if err := ag.Start(context.Background(), mustConfig(t, text)); err != nil {
		t.Fatal(err)
	}
	checkFor(t, 10*time.Second, func() error {
		if s := sinkNamed("kstop"); s == nil || s.calls.Load() == 0 {
			return errors.New("the sink has not polled its channel yet")
		}
		return nil
	})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		ag.Stop()
	}()
	select {
	case <-stopped:
	case <-time.After(10 * time.Second):
		t.Fatal("Stop waited for the channel's 30 s keep-alive")
		<-stopped
	}
}

// TestComponentLoggers: components get the engine's logger tagged with
// their kind and name.
func TestComponentLoggers(t *testing.T) {
	var buf syncBuffer
	ag := New(Options{Logger: slog.New(slog.NewTextHandler(&buf, nil))})
	if err := ag.Start(context.Background(), mustConfig(t, `a.sources = rlog
a.channels = c1
a.sinks = k1
a.sources.rlog.type = push
a.sources.rlog.channels = c1
a.channels.c1.type = testchan
a.sinks.k1.type = collect
a.sinks.k1.channel = c1
`)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ag.Stop)
	v, _ := pushSources.Load("rlog")
	v.(*pushSource).env.Log().Info("hello from the source")
	if out := buf.String(); !strings.Contains(out, `msg="hello from the source" source=rlog`) {
		t.Fatalf("log output %q lacks the source's line tagged source=rlog", out)
	}
	if l := (flume.SinkEnv{Name: "k9"}).Log(); l == nil {
		t.Fatal("SinkEnv.Log without a Logger returned nil")
	}
}

// syncBuffer is a bytes.Buffer safe for the agent's goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
