package flume

import (
	"context"
	"log/slog"
)

// Source produces events and hands them to its ChannelProcessor.
//
// A source is either event-driven (it runs its own goroutines from Start and
// calls the processor as data arrives) or pollable (it also implements
// PollableSource and the engine calls Process in a loop).
type Source interface {
	Lifecycle
}

// PollableSource is a source the engine polls from a dedicated goroutine.
// Process returns Backoff when it had nothing to deliver; the runner then
// sleeps min(n × backoffSleepIncrement, maxBackoffSleep) after the n-th
// consecutive Backoff, unless the source wakes it first.
type PollableSource interface {
	Source
	Process(ctx context.Context) (Status, error)
}

// ChannelProcessor delivers a source's events to the channels its selector
// picks, running the configured interceptors first. It returns only after
// every required channel committed; an error means some required channel did
// not commit (the events may have been committed to others: commits across
// channels are not atomic) and the source should retry or report the failure.
type ChannelProcessor interface {
	ProcessEvent(e *Event) error
	ProcessEventBatch(events []*Event) error
}

// ChannelInfo describes a channel attached to a source, for validation at
// configuration time (for example a source's batch size against the smallest
// transactionCapacity).
type ChannelInfo struct {
	Name                string
	TransactionCapacity int
	Capacity            int
}

// SourceEnv is everything a source factory receives.
type SourceEnv struct {
	Name      string
	Config    *Context
	Processor ChannelProcessor
	// Channels are the channels the source writes to (required and optional).
	Channels []ChannelInfo
	Counter  *SourceCounter
	// Wake, when called, ends the runner's current back-off sleep at once so
	// that a pollable source with pending data is polled without delay.
	// It is never nil and is safe to call from any goroutine.
	Wake func()
	// Logger is the logger for the source's messages, tagged source=<name>
	// by the engine; nil outside the engine (use Log, which falls back).
	Logger *slog.Logger
}
