package logger

import (
	"context"
	"fmt"
	"log/slog"

	"ampsflume/flume"
)

// DefaultMaxBytesToLog is Flume's default.
const DefaultMaxBytesToLog = 16

// Spec declares the sink's type names and keys.
var Spec = flume.Spec{
	Alias: "logger",
	Class: "org.apache.flume.sink.LoggerSink",
	Doc:   "Logs each event at INFO level, with a hex dump of the start of its body. For debugging.",
	Keys: []flume.Key{
		{Name: "type", Type: "string", Required: true, Doc: "logger or org.apache.flume.sink.LoggerSink"},
		{Name: "channel", Type: "string", Required: true, Doc: "The channel to drain."},
		{Name: "maxBytesToLog", Type: "int", Default: "16", Doc: "Number of body bytes shown in the dump."},
	},
}

func init() {
	flume.RegisterSink(Spec, func(env flume.SinkEnv) (flume.Sink, error) {
		n, err := env.Config.IntRange("maxBytesToLog", DefaultMaxBytesToLog, 0, 1<<30)
		if err != nil {
			return nil, err
		}
		return New(env.Name, int(n), env.Channel, env.Counter, env.Log())
	})
}

// Sink logs events.
type Sink struct {
	name     string
	maxBytes int
	channel  flume.Channel
	counter  *flume.SinkCounter
	log      *slog.Logger
}

// New returns a logger sink writing to log (slog.Default() when nil). A nil
// counter is replaced by a fresh one.
func New(name string, maxBytes int, ch flume.Channel, counter *flume.SinkCounter, log *slog.Logger) (*Sink, error) {
	if maxBytes < 0 {
		return nil, fmt.Errorf("logger sink %q: key %q: must not be negative", name, "maxBytesToLog")
	}
	if counter == nil {
		counter = new(flume.SinkCounter)
	}
	if log == nil {
		log = slog.Default()
	}
	return &Sink{name: name, maxBytes: maxBytes, channel: ch, counter: counter, log: log}, nil
}

// Counter returns the sink's counter.
func (s *Sink) Counter() *flume.SinkCounter { return s.counter }

// Start marks the sink started.
func (s *Sink) Start(context.Context) error { s.counter.MarkStarted(); return nil }

// Stop marks it stopped.
func (s *Sink) Stop() error { s.counter.MarkStopped(); return nil }

// Process takes one event, logs it and commits.
func (s *Sink) Process(ctx context.Context) (flume.Status, error) {
	tx := s.channel.NewTransaction()
	defer tx.Close()
	if err := tx.Begin(); err != nil {
		s.counter.ChannelReadFail.Add(1)
		return flume.Backoff, fmt.Errorf("logger sink %q: %w", s.name, err)
	}
	e, err := tx.Take()
	if err != nil {
		s.counter.ChannelReadFail.Add(1)
		_ = tx.Rollback()
		return flume.Backoff, fmt.Errorf("logger sink %q: %w", s.name, err)
	}
	if e != nil {
		s.counter.EventDrainAttempt.Add(1)
		s.log.InfoContext(ctx, "Event: "+DumpEvent(e, s.maxBytes))
	}
	if err := tx.Commit(); err != nil {
		_ = tx.Rollback()
		return flume.Backoff, fmt.Errorf("logger sink %q: %w", s.name, err)
	}
	if e == nil {
		s.counter.BatchEmpty.Add(1)
		return flume.Backoff, nil
	}
	s.counter.EventDrainSuccess.Add(1)
	s.counter.BatchComplete.Add(1)
	return flume.Ready, nil
}
