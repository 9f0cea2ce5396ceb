package amps

import (
	"math/rand/v2"
	"sync"
	"time"
)

// ServerChooser picks the server an HAClient connects to next.
type ServerChooser interface {
	// CurrentURI is the server to try now.
	CurrentURI() string
	// ReportFailure says the current server could not be used; the chooser
	// moves on.
	ReportFailure(err error)
	// ReportSuccess says the current server is connected and logged on.
	ReportSuccess()
}

// DefaultServerChooser tries its URIs round-robin, moving to the next one
// after each failure.
type DefaultServerChooser struct {
	mu   sync.Mutex
	uris []string
	i    int
	err  error
}

// NewDefaultServerChooser returns a chooser over uris, starting at the first.
func NewDefaultServerChooser(uris ...string) *DefaultServerChooser {
	return &DefaultServerChooser{uris: append([]string(nil), uris...)}
}

// CurrentURI implements ServerChooser.
func (c *DefaultServerChooser) CurrentURI() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.uris) == 0 {
		return ""
	}
	return c.uris[c.i]
}

// ReportFailure implements ServerChooser.
func (c *DefaultServerChooser) ReportFailure(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.err = err
	if len(c.uris) > 0 {
		c.i = (c.i + 1) % len(c.uris)
	}
}

// ReportSuccess implements ServerChooser.
func (c *DefaultServerChooser) ReportSuccess() {
	c.mu.Lock()
	c.err = nil
	c.mu.Unlock()
}

// DelayStrategy says how long to wait before a reconnection attempt.
type DelayStrategy interface {
	// Delay is the wait before the next attempt after failures consecutive
	// failed attempts (0 for the first attempt after a disconnect).
	Delay(failures int) time.Duration
}

// ExponentialDelay doubles (by Factor) the wait after each failure, from
// Initial up to Max, plus a random jitter of up to Jitter so that many
// clients do not reconnect in step.
type ExponentialDelay struct {
	Initial time.Duration
	Max     time.Duration
	Factor  float64
	Jitter  time.Duration
	// Rand returns a number in [0, 1); math/rand/v2 when nil.
	Rand func() float64
}

// NewExponentialDelay returns the AMPS clients' defaults: 200 ms doubling
// up to 20 s, with up to 200 ms of jitter.
func NewExponentialDelay() *ExponentialDelay {
	return &ExponentialDelay{Initial: 200 * time.Millisecond, Max: 20 * time.Second, Factor: 2, Jitter: 200 * time.Millisecond}
}

// Delay implements DelayStrategy.
func (d *ExponentialDelay) Delay(failures int) time.Duration {
	if failures <= 0 {
		return 0
	}
	wait := float64(d.Initial)
	for i := 1; i < failures && wait < float64(d.Max); i++ {
		wait *= d.Factor
	}
	if d.Jitter > 0 {
		r := d.Rand
		if r == nil {
			r = rand.Float64
		}
		wait += r() * float64(d.Jitter)
	}
	return min(time.Duration(wait), d.Max)
}
