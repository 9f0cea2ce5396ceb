package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sort"
	"sync"
	"time"

	"ampsflume/flume"
	"ampsflume/flume/config"
)

// ErrAllSinksFailed is returned by the failover and load_balance processors
// when no sink of the group could process (Flume's EventDeliveryException).
var ErrAllSinksFailed = errors.New("all sinks of the group failed")

// sinkProcessor drives the sinks of one group.
type sinkProcessor interface {
	Process(ctx context.Context) (flume.Status, error)
}

type namedSink struct {
	name string
	sink flume.Sink
}

func newSinkProcessor(p *config.Processor, sinks []namedSink, clock Clock, log *slog.Logger) sinkProcessor {
	if p == nil || len(sinks) == 1 && p.Type == config.ProcessorDefault {
		return defaultProcessor{sinks[0].sink}
	}
	switch p.Type {
	case config.ProcessorFailover:
		return newFailover(sinks, p.Priority, p.MaxPenalty, clock, log)
	case config.ProcessorLoadBalance:
		return newLoadBalance(sinks, p.Selector == "random", p.Backoff, p.MaxTimeOut, clock, log)
	}
	return defaultProcessor{sinks[0].sink}
}

// defaultProcessor passes through to its single sink.
type defaultProcessor struct{ sink flume.Sink }

func (d defaultProcessor) Process(ctx context.Context) (flume.Status, error) {
	return d.sink.Process(ctx)
}

// failurePenalty is the base of the failover penalty: 2^fails × 1 s.
const failurePenalty = time.Second

// failover sends everything to the live sink of highest priority; a sink
// whose Process returns an error is parked for min(maxPenalty, 2^fails s)
// and retried when its time is up, becoming live again on Ready.
type failover struct {
	mu         sync.Mutex
	live       []*fsink // highest priority first
	failed     []*fsink // earliest refresh first
	maxPenalty time.Duration
	clock      Clock
	log        *slog.Logger
}

type fsink struct {
	namedSink
	priority int
	fails    int
	refresh  time.Time
}

func newFailover(sinks []namedSink, prio map[string]int, maxPenalty time.Duration, clock Clock, log *slog.Logger) *failover {
	f := &failover{maxPenalty: maxPenalty, clock: clock, log: log}
	next := -1
	for _, s := range sinks {
		p, ok := prio[s.name]
		if !ok {
			// Flume gives sinks without a priority -1, -2, ... in order.
			p = next
			next--
		}
		f.live = append(f.live, &fsink{namedSink: s, priority: p})
	}
	f.sortLive()
	return f
}

func (f *failover) sortLive() {
	sort.SliceStable(f.live, func(i, j int) bool { return f.live[i].priority > f.live[j].priority })
}

func (f *failover) park(s *fsink, now time.Time) {
	s.fails++
	pen := f.maxPenalty
	if s.fails < 31 {
		pen = min(f.maxPenalty, time.Duration(1<<s.fails)*failurePenalty)
	}
	s.refresh = now.Add(pen)
	f.failed = append(f.failed, s)
	sort.SliceStable(f.failed, func(i, j int) bool { return f.failed[i].refresh.Before(f.failed[j].refresh) })
}

// Process is called from a single runner goroutine; the mutex only guards
// against concurrent inspection (Active).
func (f *failover) Process(ctx context.Context) (flume.Status, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	now := f.clock.Now()
	for len(f.failed) > 0 && !f.failed[0].refresh.After(now) {
		cur := f.failed[0]
		f.failed = f.failed[1:]
		st, err := cur.sink.Process(ctx)
		if err != nil {
			f.log.Warn("parked sink failed again", "sink", cur.name, "fails", cur.fails+1, "err", err)
			f.park(cur, now)
			continue
		}
		if st == flume.Ready {
			cur.fails = 0
			f.live = append(f.live, cur)
			f.sortLive()
			f.log.Info("sink recovered from the failover list", "sink", cur.name)
		} else {
			// A Backoff is not a failure: keep it parked, retry next time.
			f.failed = append([]*fsink{cur}, f.failed...)
		}
		return st, nil
	}
	for len(f.live) > 0 {
		active := f.live[0]
		st, err := active.sink.Process(ctx)
		if err == nil {
			return st, nil
		}
		if ctx.Err() != nil {
			return flume.Backoff, err
		}
		f.log.Warn("sink failed; moved to the failover list", "sink", active.name, "err", err)
		f.live = f.live[1:]
		f.park(active, now)
	}
	return flume.Backoff, fmt.Errorf("failover: %w, nothing left to fail over to", ErrAllSinksFailed)
}

// Active returns the name of the sink currently receiving events.
func (f *failover) Active() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.live) == 0 {
		return ""
	}
	return f.live[0].name
}

// Backoff bounds of the load-balancing selector (Flume's OrderSelector).
const (
	lbMaxExponent     = 16
	lbSequentialRange = time.Hour
)

// loadBalance spreads Process calls over its sinks, round robin or at
// random, trying the next sink when one fails; with backoff a failed sink is
// left out for min(maxTimeOut, 2^n s).
type loadBalance struct {
	mu         sync.Mutex
	sinks      []*lbsink
	random     bool
	backoff    bool
	maxTimeOut time.Duration
	next       int
	clock      Clock
	log        *slog.Logger
}

type lbsink struct {
	namedSink
	fails    int
	lastFail time.Time
	restore  time.Time
}

func newLoadBalance(sinks []namedSink, random, backoff bool, maxTimeOut time.Duration, clock Clock, log *slog.Logger) *loadBalance {
	lb := &loadBalance{random: random, backoff: backoff, maxTimeOut: maxTimeOut, clock: clock, log: log}
	for _, s := range sinks {
		lb.sinks = append(lb.sinks, &lbsink{namedSink: s})
	}
	return lb
}

func (lb *loadBalance) penalty(fails int) time.Duration {
	return min(lb.maxTimeOut, time.Duration(1<<fails)*time.Second)
}

// order returns the sinks to try this time.
func (lb *loadBalance) order(now time.Time) []*lbsink {
	var active []*lbsink
	for _, s := range lb.sinks {
		if !lb.backoff || !s.restore.After(now) {
			active = append(active, s)
		}
	}
	if len(active) == 0 {
		return nil
	}
	out := make([]*lbsink, len(active))
	if lb.random {
		for i, j := range rand.Perm(len(active)) {
			out[i] = active[j]
		}
		return out
	}
	head := lb.next % len(active)
	lb.next = (head + 1) % len(active)
	for i := range active {
		out[i] = active[(head+i)%len(active)]
	}
	return out
}

func (lb *loadBalance) failed(s *lbsink, now time.Time) {
	if !lb.backoff {
		return
	}
	if now.Sub(s.lastFail) < lb.penalty(s.fails)+lbSequentialRange {
		if s.fails < lbMaxExponent {
			s.fails++
		}
	} else {
		s.fails = 1
	}
	s.lastFail = now
	s.restore = now.Add(lb.penalty(s.fails))
}

func (lb *loadBalance) Process(ctx context.Context) (flume.Status, error) {
	lb.mu.Lock()
	defer lb.mu.Unlock()
	now := lb.clock.Now()
	var errs []error
	for _, s := range lb.order(now) {
		st, err := s.sink.Process(ctx)
		if err == nil {
			return st, nil
		}
		if ctx.Err() != nil {
			return flume.Backoff, err
		}
		lb.log.Warn("sink failed; trying the next one", "sink", s.name, "err", err)
		lb.failed(s, now)
		errs = append(errs, fmt.Errorf("sink %q: %w", s.name, err))
	}
	return flume.Backoff, fmt.Errorf("load_balance: %w: %w", ErrAllSinksFailed, errors.Join(errs...))
}
