package seq

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"sync"

	"ampsflume/flume"
)

// Spec declares the source's type names and keys.
var Spec = flume.Spec{
	Alias: "seq",
	Class: "org.apache.flume.source.SequenceGeneratorSource",
	Doc:   "Generates events whose bodies are 0, 1, 2, ... as decimal text. For testing.",
	Keys: []flume.Key{
		{Name: "type", Type: "string", Required: true, Doc: "seq or org.apache.flume.source.SequenceGeneratorSource"},
		{Name: "channels", Type: "string", Required: true, Doc: "Channels to write to, separated by spaces."},
		{Name: "batchSize", Type: "int", Default: "1", ChannelChecked: true, Doc: "Events per delivery to the channels; must not exceed their transactionCapacity."},
		{Name: "totalEvents", Type: "int", Default: strconv.FormatInt(math.MaxInt64, 10), Doc: "Number of events to generate; unlimited by default."},
	},
}

func init() {
	flume.RegisterSource(Spec, func(env flume.SourceEnv) (flume.Source, error) {
		cfg, err := ParseConfig(env.Config)
		// Checked here, against the built channels (the spec marks
		// batchSize ChannelChecked), once per channel, and even when
		// another key is bad: one run reports all.
		var errs flume.ConfigErrors
		errs.Add(err)
		for _, ch := range env.Channels {
			if !flume.KeyFailed(err, "batchSize") && cfg.BatchSize > ch.TransactionCapacity {
				errs.Add(env.Config.Errorf("batchSize", "%d exceeds the transactionCapacity %d of channel %q",
					cfg.BatchSize, ch.TransactionCapacity, ch.Name))
			}
		}
		if err := errs.Err(); err != nil {
			return nil, err
		}
		return New(env.Name, cfg, env.Processor, env.Counter)
	})
}

// Config is the source's configuration.
type Config struct {
	BatchSize   int
	TotalEvents int64
}

// ParseConfig reads the source's keys, reporting every bad one.
func ParseConfig(ctx *flume.Context) (Config, error) {
	var errs flume.ConfigErrors
	bs, err := ctx.IntRange("batchSize", 1, 1, 1<<30)
	errs.Add(err)
	total, err := ctx.IntRange("totalEvents", math.MaxInt64, 0, math.MaxInt64)
	errs.Add(err)
	return Config{BatchSize: int(bs), TotalEvents: total}, errs.Err()
}

// Source is a sequence generator.
type Source struct {
	name      string
	cfg       Config
	processor flume.ChannelProcessor
	counter   *flume.SourceCounter

	mu sync.Mutex
	// next is the number of the first event not yet delivered.
	next int64
	// retrying is set while the batch starting at next failed; it is
	// rebuilt (interceptors may have changed the previous copies) and
	// offered again before anything else.
	retrying bool
}

var _ flume.PollableSource = (*Source)(nil)

// New returns a sequence source delivering to p. A nil counter is replaced by
// a fresh one.
func New(name string, cfg Config, p flume.ChannelProcessor, counter *flume.SourceCounter) (*Source, error) {
	if cfg.BatchSize < 1 {
		return nil, fmt.Errorf("seq source %q: key %q: must be at least 1", name, "batchSize")
	}
	if cfg.TotalEvents < 0 {
		return nil, fmt.Errorf("seq source %q: key %q: must not be negative", name, "totalEvents")
	}
	if counter == nil {
		counter = new(flume.SourceCounter)
	}
	return &Source{name: name, cfg: cfg, processor: p, counter: counter}, nil
}

// Counter returns the source's counter.
func (s *Source) Counter() *flume.SourceCounter { return s.counter }

// Start marks the source started; the engine polls it.
func (s *Source) Start(context.Context) error { s.counter.MarkStarted(); return nil }

// Stop marks it stopped. A batch not yet delivered is dropped with the
// source, as nothing of it reached a channel.
func (s *Source) Stop() error { s.counter.MarkStopped(); return nil }

// Delivered is the number of events delivered so far.
func (s *Source) Delivered() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.next
}

// Process delivers the next batch, or retries the one that failed last time.
func (s *Source) Process(context.Context) (flume.Status, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := int(min(int64(s.cfg.BatchSize), s.cfg.TotalEvents-s.next))
	if n == 0 {
		return flume.Backoff, nil
	}
	if !s.retrying {
		s.counter.EventReceived.Add(int64(n))
		if s.cfg.BatchSize > 1 {
			s.counter.AppendBatchReceived.Add(1)
		}
	}
	var err error
	if s.cfg.BatchSize == 1 {
		s.counter.AppendReceived.Add(1)
		err = s.processor.ProcessEvent(s.event(s.next))
	} else {
		err = s.processor.ProcessEventBatch(s.batch(s.next, n))
	}
	if err != nil {
		s.retrying = true
		s.counter.ChannelWriteFail.Add(1)
		if errors.Is(err, flume.ErrChannelFull) {
			// Back-pressure: wait, then offer the same batch again.
			return flume.Backoff, nil
		}
		return flume.Backoff, fmt.Errorf("seq source %q: delivering events %d..%d: %w",
			s.name, s.next, s.next+int64(n)-1, err)
	}
	s.retrying = false
	s.next += int64(n)
	s.counter.EventAccepted.Add(int64(n))
	if s.cfg.BatchSize > 1 {
		s.counter.AppendBatchAccepted.Add(1)
	} else {
		s.counter.AppendAccepted.Add(1)
	}
	if s.next >= s.cfg.TotalEvents {
		return flume.Backoff, nil
	}
	return flume.Ready, nil
}

func (s *Source) event(n int64) *flume.Event {
	return flume.NewEvent(strconv.AppendInt(nil, n, 10), nil)
}

// batch returns n fresh events numbered from first. The events and their
// bodies are carved out of one allocation each instead of two per event:
// every event still has its own header map and a body whose capacity ends
// where it does, so no event can reach into another's. The slabs live as
// long as any of their events.
func (s *Source) batch(first int64, n int) []*flume.Event {
	events := make([]flume.Event, n)
	batch := make([]*flume.Event, n)
	var scratch [20]byte // the decimal text of the largest int64
	// Every number of the batch has at most as many digits as the last.
	width := len(strconv.AppendInt(scratch[:0], first+int64(n)-1, 10))
	bodies := make([]byte, 0, n*width)
	// The text of each number is the previous one's incremented in place,
	// cheaper than formatting every number from scratch.
	digits := strconv.AppendInt(scratch[:0], first, 10)
	for i := range events {
		start := len(bodies)
		bodies = append(bodies, digits...)
		events[i] = flume.Event{Headers: make(map[string]string), Body: bodies[start:len(bodies):len(bodies)]}
		batch[i] = &events[i]
		digits = increment(digits)
	}
	return batch
}

// increment adds one to the non-negative decimal number in d, growing it by
// a digit when it was all nines.
func increment(d []byte) []byte {
	for i := len(d) - 1; i >= 0; i-- {
		if d[i] != '9' {
			d[i]++
			return d
		}
		d[i] = '0'
	}
	// 99…9 became 00…0: the result is 10…0.
	d = append(d, '0')
	d[0] = '1'
	return d
}
