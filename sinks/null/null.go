package null

import (
	"context"
	"fmt"

	"ampsflume/flume"
)

// DefaultBatchSize is Flume's default.
const DefaultBatchSize = 100

// Spec declares the sink's type names and keys.
var Spec = flume.Spec{
	Alias: "null",
	Class: "org.apache.flume.sink.NullSink",
	Doc:   "Takes events from the channel and discards them.",
	Keys: []flume.Key{
		{Name: "type", Type: "string", Required: true, Doc: "null or org.apache.flume.sink.NullSink"},
		{Name: "channel", Type: "string", Required: true, Doc: "The channel to drain."},
		{Name: "batchSize", Type: "int", Default: "100", ChannelChecked: true, Doc: "Maximum events per transaction; must not exceed the channel's transactionCapacity."},
	},
}

func init() {
	flume.RegisterSink(Spec, func(env flume.SinkEnv) (flume.Sink, error) {
		bs, err := env.Config.IntRange("batchSize", DefaultBatchSize, 1, 1<<30)
		if err != nil {
			return nil, err
		}
		// The spec marks batchSize ChannelChecked: checked here against
		// the built channel.
		if err := env.CheckBatch("batchSize", int(bs), nil); err != nil {
			return nil, err
		}
		return New(env.Name, int(bs), env.Channel, env.Counter)
	})
}

// Sink discards events.
type Sink struct {
	name      string
	batchSize int
	channel   flume.Channel
	counter   *flume.SinkCounter
	// taken is reused by every Process (the engine calls a sink from one
	// goroutine at a time); it is cleared after each batch so that it holds
	// no event alive.
	taken []*flume.Event
}

// New returns a null sink. A nil counter is replaced by a fresh one.
func New(name string, batchSize int, ch flume.Channel, counter *flume.SinkCounter) (*Sink, error) {
	if batchSize < 1 {
		return nil, fmt.Errorf("null sink %q: key %q: must be at least 1", name, "batchSize")
	}
	if counter == nil {
		counter = new(flume.SinkCounter)
	}
	return &Sink{name: name, batchSize: batchSize, channel: ch, counter: counter}, nil
}

// Counter returns the sink's counter.
func (s *Sink) Counter() *flume.SinkCounter { return s.counter }

// Start marks the sink started.
func (s *Sink) Start(context.Context) error { s.counter.MarkStarted(); return nil }

// Stop marks it stopped.
func (s *Sink) Stop() error { s.counter.MarkStopped(); return nil }

// Process takes and commits up to batchSize events.
func (s *Sink) Process(context.Context) (flume.Status, error) {
	tx := s.channel.NewTransaction()
	defer tx.Close()
	if err := tx.Begin(); err != nil {
		s.counter.ChannelReadFail.Add(1)
		return flume.Backoff, fmt.Errorf("null sink %q: %w", s.name, err)
	}
	taken, err := flume.TakeBatch(tx, s.taken[:0], s.batchSize)
	n := len(taken)
	clear(taken)
	s.taken = taken[:0]
	if err != nil {
		s.counter.ChannelReadFail.Add(1)
		_ = tx.Rollback()
		return flume.Backoff, fmt.Errorf("null sink %q: %w", s.name, err)
	}
	s.counter.EventDrainAttempt.Add(int64(n))
	if err := tx.Commit(); err != nil {
		_ = tx.Rollback()
		return flume.Backoff, fmt.Errorf("null sink %q: %w", s.name, err)
	}
	s.counter.EventDrainSuccess.Add(int64(n))
	switch {
	case n == 0:
		s.counter.BatchEmpty.Add(1)
	case n < s.batchSize:
		s.counter.BatchUnderflow.Add(1)
	default:
		s.counter.BatchComplete.Add(1)
		return flume.Ready, nil
	}
	return flume.Backoff, nil
}
