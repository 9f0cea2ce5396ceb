package kafka

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/twmb/franz-go/pkg/kgo"

	"ampsflume/avrorpc"
	"ampsflume/flume"
	"ampsflume/kafkaconf"
)

func init() {
	flume.RegisterSink(Spec, func(env flume.SinkEnv) (flume.Sink, error) {
		cfg, err := ParseConfig(env.Config)
		// The batch is checked against the channel (the spec marks the key
		// ChannelChecked) even when other keys are bad: one run reports all.
		var errs flume.ConfigErrors
		errs.Add(err)
		errs.Add(env.CheckBatch("flumeBatchSize", cfg.BatchSize, err))
		if err := errs.Err(); err != nil {
			return nil, err
		}
		s := New(env.Name, cfg, env.Channel, env.Counter)
		s.log = env.Log()
		return s, nil
	})
}

// Sink is a Kafka sink.
type Sink struct {
	name    string
	cfg     Config
	ch      flume.Channel
	counter *flume.SinkCounter
	log     *slog.Logger

	mu     sync.Mutex
	client *kgo.Client
	// records is reused across batches.
	records []*kgo.Record
}

var _ flume.Sink = (*Sink)(nil)

// New returns a sink draining ch. A nil counter is replaced by a fresh one.
func New(name string, cfg Config, ch flume.Channel, counter *flume.SinkCounter) *Sink {
	if counter == nil {
		counter = &flume.SinkCounter{}
	}
	return &Sink{name: name, cfg: cfg, ch: ch, counter: counter, log: slog.With("sink", name)}
}

// Start creates the Kafka client. Connections are made lazily, so a broker
// that is down at start only delays the first batch.
func (s *Sink) Start(context.Context) error {
	opts := []kgo.Opt{
		kgo.SeedBrokers(s.cfg.Brokers...),
		kgo.RecordPartitioner(kafkaconf.Partitioner()),
		kgo.ProducerLinger(0),
	}
	opts = append(opts, s.cfg.Opts...)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return fmt.Errorf("kafka sink %q: %w", s.name, err)
	}
	s.mu.Lock()
	s.client = cl
	s.mu.Unlock()
	s.counter.ConnectionCreated.Add(1)
	s.counter.MarkStarted()
	return nil
}

// Stop closes the client.
func (s *Sink) Stop() error {
	s.mu.Lock()
	cl := s.client
	s.client = nil
	s.mu.Unlock()
	if cl != nil {
		cl.Close()
		s.counter.ConnectionClosed.Add(1)
	}
	s.counter.MarkStopped()
	return nil
}

// Process moves one batch from the channel to Kafka.
func (s *Sink) Process(ctx context.Context) (flume.Status, error) {
	s.mu.Lock()
	cl := s.client
	s.mu.Unlock()
	if cl == nil {
		return flume.Backoff, fmt.Errorf("kafka sink %q: not started", s.name)
	}
	tx := s.ch.NewTransaction()
	if err := tx.Begin(); err != nil {
		s.counter.ChannelReadFail.Add(1)
		return flume.Backoff, fmt.Errorf("kafka sink %q: %w", s.name, err)
	}
	defer tx.Close()
	st, err := s.deliver(ctx, cl, tx)
	if err != nil {
		if rerr := tx.Rollback(); rerr != nil {
			err = errors.Join(err, rerr)
		}
		return flume.Backoff, fmt.Errorf("kafka sink %q: %w", s.name, err)
	}
	return st, nil
}

func (s *Sink) deliver(ctx context.Context, cl *kgo.Client, tx flume.Transaction) (flume.Status, error) {
	recs := s.records[:0]
	defer func() {
		clear(recs)
		s.records = recs[:0]
	}()
	for len(recs) < s.cfg.BatchSize {
		e, err := tx.Take()
		if err != nil {
			s.counter.ChannelReadFail.Add(1)
			return flume.Backoff, err
		}
		if e == nil {
			break
		}
		r, err := s.record(e)
		if err != nil {
			s.counter.EventWriteFail.Add(1)
			return flume.Backoff, err
		}
		recs = append(recs, r)
	}
	n := len(recs)
	if n == 0 {
		s.counter.BatchEmpty.Add(1)
		return flume.Backoff, tx.Commit()
	}
	s.counter.EventDrainAttempt.Add(int64(n))
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		s.counter.EventWriteFail.Add(1)
		return flume.Backoff, fmt.Errorf("produce %d records: %w", n, err)
	}
	if err := tx.Commit(); err != nil {
		return flume.Backoff, err
	}
	if n < s.cfg.BatchSize {
		s.counter.BatchUnderflow.Add(1)
	} else {
		s.counter.BatchComplete.Add(1)
	}
	s.counter.EventDrainSuccess.Add(int64(n))
	return flume.Ready, nil
}

func (s *Sink) record(e *flume.Event) (*kgo.Record, error) {
	value := e.Body
	if s.cfg.UseFlumeEventFormat {
		var err error
		if value, err = avrorpc.MarshalEvent(e); err != nil {
			return nil, err
		}
	}
	return s.cfg.Placement.Record(s.cfg.topicFor(e), e, value)
}
