package conflate

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type recorder struct {
	mu    sync.Mutex
	items []Item[string]
	clk   *fakeClock
	at    []time.Duration
	start time.Time
}

func (r *recorder) deliver(it Item[string]) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.items = append(r.items, it)
	if r.clk != nil {
		r.at = append(r.at, r.clk.Now().Sub(r.start))
	}
}

func (r *recorder) log() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var b []string
	for i, it := range r.items {
		s := fmt.Sprintf("%s=%s", it.Key, it.Value)
		if r.clk != nil {
			s += fmt.Sprintf("@%v", r.at[i])
		}
		b = append(b, s)
	}
	return strings.Join(b, " ")
}

func setup(t *testing.T, interval time.Duration, merge func(a, b string) string) (*Conflater[string], *fakeClock, *recorder) {
	clk := newFakeClock()
	r := &recorder{clk: clk, start: clk.Now()}
	c := New(Config[string]{Interval: interval, Clock: clk, Deliver: r.deliver, Merge: merge})
	t.Cleanup(c.Close)
	return c, clk, r
}

func TestScenarios(t *testing.T) {
	type op struct {
		at  time.Duration // clock reading for the offer (Set, without running timers)
		adv time.Duration // or advance by this (running timers) when key == ""
		key string
		val string
	}
	tests := []struct {
		name string
		ops  []op
		want string
	}{
		{"first update is held one interval", []op{
			{key: "a", val: "1"}, {adv: 999 * time.Millisecond},
		}, ""},
		{"delivered at first hold plus interval", []op{
			{key: "a", val: "1"}, {adv: time.Second},
		}, "a=1@1s"},
		{"later updates replace the held one", []op{
			{key: "a", val: "1"}, {adv: 300 * time.Millisecond}, {at: 300 * time.Millisecond, key: "a", val: "2"},
			{adv: 400 * time.Millisecond}, {at: 700 * time.Millisecond, key: "a", val: "3"}, {adv: 300 * time.Millisecond},
		}, "a=3@1s"},
		{"update at the due instant after the timer ran starts a new interval", []op{
			{key: "a", val: "1"}, {adv: time.Second}, {at: time.Second, key: "a", val: "2"}, {adv: time.Second},
		}, "a=1@1s a=2@2s"},
		{"update at the due instant before the timer ran starts a new interval", []op{
			{key: "a", val: "1"}, {at: time.Second, key: "a", val: "2"}, {adv: time.Second},
		}, "a=1@1s a=2@2s"},
		{"keys are independent and leave in due order", []op{
			{key: "a", val: "1"}, {adv: 500 * time.Millisecond}, {at: 500 * time.Millisecond, key: "b", val: "1"},
			{at: 600 * time.Millisecond, key: "a", val: "2"}, {adv: 2 * time.Second},
		}, "a=2@1s b=1@1.5s"},
		{"after delivery the next update is held again", []op{
			{key: "a", val: "1"}, {adv: 1500 * time.Millisecond}, {at: 1500 * time.Millisecond, key: "a", val: "2"},
			{adv: 999 * time.Millisecond}, {adv: time.Millisecond},
		}, "a=1@1s a=2@2.5s"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, clk, r := setup(t, time.Second, nil)
			start := clk.Now()
			for _, o := range tc.ops {
				if o.key == "" {
					clk.Advance(o.adv)
					continue
				}
				if now := clk.Now().Sub(start); o.at > now {
					clk.Set(start.Add(o.at))
				}
				c.Offer(o.key, o.val)
			}
			if got := r.log(); got != tc.want {
				t.Fatalf("got %q want %q", got, tc.want)
			}
		})
	}
}

func TestFirstAndCount(t *testing.T) {
	c, clk, r := setup(t, time.Second, nil)
	t0 := clk.Now()
	c.Offer("k", "1")
	clk.Advance(200 * time.Millisecond)
	c.Offer("k", "2")
	if v, ok := c.Held("k"); !ok || v != "2" {
		t.Fatalf("Held = %q %v", v, ok)
	}
	clk.Advance(time.Second)
	if len(r.items) != 1 || !r.items[0].First.Equal(t0) || r.items[0].Count != 2 {
		t.Fatalf("items %+v", r.items)
	}
	if c.Pending() != 0 || clk.pendingTimers() != 0 {
		t.Fatalf("pending %d timers %d", c.Pending(), clk.pendingTimers())
	}
}

func TestMerge(t *testing.T) {
	c, clk, r := setup(t, 100*time.Millisecond, func(a, b string) string { return a + "+" + b })
	c.Offer("k", "x")
	c.Offer("k", "y")
	c.Offer("k", "z")
	clk.Advance(100 * time.Millisecond)
	if got := r.log(); got != "k=x+y+z@100ms" {
		t.Fatalf("got %q", got)
	}
}

func TestDropAndClose(t *testing.T) {
	c, clk, r := setup(t, time.Second, nil)
	c.Offer("a", "1")
	c.Offer("b", "1")
	c.Offer("c", "1")
	if !c.Drop("b") || c.Drop("b") || c.Pending() != 2 {
		t.Fatal("Drop")
	}
	if !c.Drop("c") || !c.Drop("a") {
		t.Fatal("Drop tail/head")
	}
	c.Offer("d", "1")
	clk.Advance(time.Second)
	if got := r.log(); got != "d=1@1s" {
		t.Fatalf("got %q", got)
	}
	c.Offer("e", "1")
	c.Close()
	c.Offer("f", "1")
	clk.Advance(5 * time.Second)
	if got := r.log(); got != "d=1@1s" || clk.pendingTimers() != 0 {
		t.Fatalf("after close: %q, %d timers", got, clk.pendingTimers())
	}
}

type realClock struct{}

func (realClock) Now() time.Time                            { return time.Now() }
func (realClock) AfterFunc(d time.Duration, f func()) Timer { return time.AfterFunc(d, f) }

// TestRealClockConcurrent offers from several goroutines with a real timer
// and checks that every key's last value comes out, without asserting on
// timing.
func TestRealClockConcurrent(t *testing.T) {
	var mu sync.Mutex
	last := map[string]string{}
	c := New(Config[string]{Interval: 5 * time.Millisecond, Clock: realClock{}, Deliver: func(it Item[string]) {
		mu.Lock()
		last[it.Key] = it.Value
		mu.Unlock()
	}})
	t.Cleanup(c.Close)
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				c.Offer(fmt.Sprintf("k%d", g), fmt.Sprint(i))
			}
		}()
	}
	wg.Wait()
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		ok := len(last) == 4
		for _, v := range last {
			ok = ok && v == "199"
		}
		mu.Unlock()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("final values not delivered: %v", last)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestSlack checks the tolerance around the due instant: an update arriving
// within Slack before its key falls due starts a new interval.
func TestSlack(t *testing.T) {
	tests := []struct {
		name string
		at   time.Duration // clock reading of the second update of "a"
		want string
	}{
		{"just inside the slack", 950 * time.Millisecond, "a=1@950ms a=2@1.95s"},
		{"at the due instant", time.Second, "a=1@1s a=2@2s"},
		{"just outside the slack", 949 * time.Millisecond, "a=2@1s"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clk := newFakeClock()
			r := &recorder{clk: clk, start: clk.Now()}
			c := New(Config[string]{Interval: time.Second, Slack: 50 * time.Millisecond, Clock: clk, Deliver: r.deliver})
			t.Cleanup(c.Close)
			start := clk.Now()
			c.Offer("a", "1")
			clk.Set(start.Add(tc.at))
			c.Offer("a", "2")
			clk.Advance(3 * time.Second)
			if got := r.log(); got != tc.want {
				t.Fatalf("got %q want %q", got, tc.want)
			}
		})
	}
}

func TestSlackMustBeShorterThanInterval(t *testing.T) {
	for _, slack := range []time.Duration{-1, time.Second, 2 * time.Second} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Slack %v accepted with a 1s interval", slack)
				}
			}()
			New(Config[string]{Interval: time.Second, Slack: slack, Clock: newFakeClock(), Deliver: func(Item[string]) {}})
		}()
	}
}
