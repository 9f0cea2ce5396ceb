package agent

import (
	"context"
	"time"
)

// Clock tells the time; the failover and load-balancing sink processors read
// it to park failed sinks, and tests replace it.
type Clock interface {
	Now() time.Time
}

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

// sleepFunc waits d, or until ctx is done, or (when wake is not nil) until a
// wake-up arrives. Runners take it as a field so tests can observe the
// back-off sequence without waiting.
type sleepFunc func(ctx context.Context, d time.Duration, wake <-chan struct{})

func realSleep(ctx context.Context, d time.Duration, wake <-chan struct{}) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	case <-wake:
	}
}
