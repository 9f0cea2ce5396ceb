package scenario

import (
	"context"
	"fmt"
	"sort"
	"syscall"
	"time"
)

// Sides of a scenario.
const (
	Ours = "ours"
	Peer = "peer"
)

// Params sizes one run of one side.
type Params struct {
	N      int           // messages (or events) to move
	Window int           // credit window of publishers, in messages
	Dir    string        // scratch directory owned by the run
	Shared string        // directory kept across runs of one side (prepared data)
	Rate   int           // paced publishers: messages per second
	Length time.Duration // paced publishers: how long to publish
}

// Result is what one run of one side reports.
type Result struct {
	Count   int64              `json:"count"`   // messages received and verified
	Bytes   int64              `json:"bytes"`   // payload bytes received
	Elapsed time.Duration      `json:"elapsed"` // the timed section
	CPU     time.Duration      `json:"cpu"`     // user+system CPU of the process during the timed section
	Extra   map[string]float64 `json:"extra,omitempty"`
}

// Rate is messages per second over the timed section.
func (r Result) Rate() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Count) / r.Elapsed.Seconds()
}

// Side runs one side of a scenario.
type Side func(ctx context.Context, p Params) (Result, error)

// Scenario is one row of the comparison.
type Scenario struct {
	Name     string // short identifier used on command lines
	Title    string // the row's label
	Ours     string // what our side runs
	PeerDesc string // what the peer side runs
	Target   float64
	Unit     string // what the rate counts
	// Full and Short size the runs.
	Full, Short Params
	Run         map[string]Side
	// Prepare, when set, builds the data a side's runs share (not timed).
	Prepare map[string]Side
}

// All returns the scenarios in report order.
func All() []*Scenario {
	return []*Scenario{
		fanout1(), fanout4(), replayScenario(), durablePublish(), pipeline(), channelCommit(), latency(),
	}
}

// Find returns the scenario with the given name.
func Find(name string) (*Scenario, error) {
	for _, s := range All() {
		if s.Name == name {
			return s, nil
		}
	}
	return nil, fmt.Errorf("unknown scenario %q", name)
}

// cpuNow is the process's user+system CPU time so far.
func cpuNow() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// timer measures the wall and CPU time of a timed section.
type timer struct {
	start time.Time
	cpu   time.Duration
}

func startTimer() timer { return timer{start: time.Now(), cpu: cpuNow()} }

func (t timer) result(count, bytes int64) Result {
	return Result{Count: count, Bytes: bytes, Elapsed: time.Since(t.start), CPU: cpuNow() - t.cpu}
}

// expect checks the receiving side's totals.
func expect(got, want int64, what string) error {
	if got != want {
		return fmt.Errorf("%s: received %d, want %d", what, got, want)
	}
	return nil
}

// percentiles returns the given quantiles of xs (sorted in place).
func percentiles(xs []time.Duration, qs ...float64) []time.Duration {
	sort.Slice(xs, func(i, j int) bool { return xs[i] < xs[j] })
	out := make([]time.Duration, len(qs))
	if len(xs) == 0 {
		return out
	}
	for i, q := range qs {
		k := int(q * float64(len(xs)))
		if k >= len(xs) {
			k = len(xs) - 1
		}
		out[i] = xs[k]
	}
	return out
}

// waitFor polls cond until it holds, the deadline passes or ctx ends.
func waitFor(ctx context.Context, d time.Duration, what string, cond func() bool) error {
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			return fmt.Errorf("timed out after %v waiting for %s", d, what)
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		time.Sleep(200 * time.Microsecond)
	}
	return nil
}
