package main

import (
	"context"
	"fmt"
	"time"
)

// pacer spaces messages at a fixed rate without drift: message n (from 0)
// is due at start + n/rate, so the first goes at once and a late message
// does not delay the ones after it.
type pacer struct {
	rate  float64
	start time.Time
	now   func() time.Time
	sleep func(ctx context.Context, d time.Duration) error
}

func newPacer(rate float64, now func() time.Time, sleep func(context.Context, time.Duration) error) *pacer {
	return &pacer{rate: rate, start: now(), now: now, sleep: sleep}
}

func (p *pacer) wait(ctx context.Context, n int) error {
	if p.rate <= 0 {
		return ctx.Err()
	}
	due := p.start.Add(time.Duration(float64(n) / p.rate * float64(time.Second)))
	if d := due.Sub(p.now()); d > 0 {
		return p.sleep(ctx, d)
	}
	return ctx.Err()
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// rateString formats messages per second as spark does: two decimals, or
// Infinity when no time could be measured.
func rateString(n int, elapsed time.Duration) string {
	if elapsed <= 0 {
		return "Infinity"
	}
	return fmt.Sprintf("%.2f", float64(n)/elapsed.Seconds())
}

func runPublish(ctx context.Context, e *env, o *opts) error {
	if o.highAvailability() {
		return runHAPublish(ctx, e, o)
	}
	in, err := openInput(e, o.file)
	if err != nil {
		return err
	}
	defer in.Close()
	c, _, err := connect(ctx, o)
	if err != nil {
		return err
	}
	defer c.Close()
	publish := c.Publish
	if o.delta {
		publish = c.DeltaPublish
	}
	start := time.Now()
	p := newPacer(o.rate, time.Now, sleepCtx)
	n := 0
	err = messages(in, byte(o.delimiter), func(msg []byte) error {
		if err := p.wait(ctx, n); err != nil {
			return err
		}
		if err := publish(o.topic, msg); err != nil {
			return err
		}
		n++
		return nil
	})
	if err != nil {
		return err
	}
	// Make sure the server has every message before reporting.
	if err := c.Flush(ctx); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "total messages published: %d (%s/s)\n", n, rateString(n, time.Since(start)))
	return nil
}
