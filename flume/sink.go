package flume

import (
	"context"
	"log/slog"
)

// Sink drains one channel. The engine calls Process in a loop from a
// dedicated goroutine (or through a sink processor for sink groups). A typical
// Process is: begin; take up to batchSize events; write them durably; commit;
// rollback and return the error on failure, so that nothing is lost and the
// batch is retried.
type Sink interface {
	Lifecycle
	Process(ctx context.Context) (Status, error)
}

// SinkEnv is everything a sink factory receives.
type SinkEnv struct {
	Name    string
	Config  *Context
	Channel Channel
	Counter *SinkCounter
	// Logger is the logger for the sink's messages, tagged sink=<name> by
	// the engine; nil outside the engine (use Log, which falls back).
	Logger *slog.Logger
}

// ChannelEnv is everything a channel factory receives.
type ChannelEnv struct {
	Name    string
	Config  *Context
	Counter *ChannelCounter
	// Logger is tagged channel=<name> by the engine; see SinkEnv.Logger.
	Logger *slog.Logger
}

// Interceptor inspects or rewrites events before they reach the channel
// selector. Returning nil drops the event (a drop the user asked for, such as
// a regex_filter exclusion).
type Interceptor interface {
	Intercept(e *Event) *Event
}

// InterceptorEnv is everything an interceptor factory receives.
type InterceptorEnv struct {
	Name   string
	Config *Context
	// Logger is tagged interceptor=<name> by the engine; see SinkEnv.Logger.
	Logger *slog.Logger
}
