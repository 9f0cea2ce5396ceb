package agent

import (
	"context"
	"log/slog"
	"time"

	"ampsflume/flume"
)

// startRetry is how long a runner waits before retrying a component whose
// Start failed (Flume's lifecycle supervisor re-checks every 3 s).
const startRetry = 3 * time.Second

// runner drives one pollable source, sink or sink group from its own
// goroutine: call process; on Ready call again; on Backoff sleep
// min(n × increment, max) after the n-th consecutive Backoff, cut short by a
// wake-up; on error sleep max (not cut short: waking a failing component
// would only make it fail faster).
type runner struct {
	what    string // for logs: `sink "k1"`
	process func(ctx context.Context) (flume.Status, error)
	inc     time.Duration
	max     time.Duration
	wake    chan struct{}
	sleep   sleepFunc
	log     *slog.Logger
}

func newRunner(what string, process func(context.Context) (flume.Status, error), inc, max time.Duration, log *slog.Logger) *runner {
	return &runner{what: what, process: process, inc: inc, max: max, wake: make(chan struct{}, 1), sleep: realSleep, log: log}
}

// Wake ends the current back-off sleep, or makes the next one return at
// once. Safe from any goroutine.
func (r *runner) Wake() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// backoff is the sleep after the n-th consecutive Backoff.
func (r *runner) backoff(n int) time.Duration {
	d := time.Duration(n) * r.inc
	if d > r.max || d < 0 {
		d = r.max
	}
	return d
}

func (r *runner) run(ctx context.Context) {
	consecutive := 0
	for ctx.Err() == nil {
		st, err := r.process(ctx)
		if ctx.Err() != nil {
			return
		}
		switch {
		case err != nil:
			consecutive = 0
			r.log.Error("process failed; retrying after back-off", "component", r.what, "sleep", r.max, "err", err)
			r.sleep(ctx, r.max, nil)
		case st == flume.Backoff:
			consecutive++
			r.sleep(ctx, r.backoff(consecutive), r.wake)
		default:
			consecutive = 0
		}
	}
}

// startWithRetry starts c, retrying every startRetry until it succeeds or
// ctx ends; it reports whether c started.
func startWithRetry(ctx context.Context, c flume.Lifecycle, what string, log *slog.Logger, sleep sleepFunc) bool {
	for {
		err := c.Start(ctx)
		if err == nil {
			return true
		}
		log.Error("start failed; will retry", "component", what, "retry", startRetry, "err", err)
		// A failed Start must leave nothing behind.
		_ = c.Stop()
		sleep(ctx, startRetry, nil)
		if ctx.Err() != nil {
			return false
		}
	}
}
