package flume

import "context"

// Lifecycle is implemented by every source, channel and sink. The engine
// starts channels, then sinks, then sources, and stops them in reverse order.
type Lifecycle interface {
	// Start acquires resources (files, sockets, goroutines). The context is
	// cancelled when the agent shuts down; components may also use it for
	// background work.
	Start(ctx context.Context) error
	// Stop releases them. It must be safe to call after a failed Start.
	Stop() error
}

// Status is what a pollable source or a sink reports after one round of work.
type Status int

const (
	// Ready means work was done; the runner calls again at once.
	Ready Status = iota
	// Backoff means there was nothing to do; the runner waits (growing up to
	// a maximum) before calling again, unless woken.
	Backoff
)

func (s Status) String() string {
	if s == Backoff {
		return "BACKOFF"
	}
	return "READY"
}
