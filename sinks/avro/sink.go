package avro

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"ampsflume/avrorpc"
	"ampsflume/flume"
)

// Spec declares the sink's type names and keys.
var Spec = flume.Spec{
	Alias: "avro",
	Class: "org.apache.flume.sink.AvroSink",
	Doc:   "Sends events to an avro source (usually another agent) over Flume's Avro RPC protocol.",
	Keys: []flume.Key{
		{Name: "type", Type: "string", Required: true, Doc: "avro or org.apache.flume.sink.AvroSink"},
		{Name: "channel", Type: "string", Required: true, Doc: "Channel to drain."},
		{Name: "hostname", Type: "string", Required: true, Doc: "Host of the avro source."},
		{Name: "port", Type: "int", Required: true, Doc: "Port of the avro source."},
		{Name: "batch-size", Type: "int", Default: "100", ChannelChecked: true, Doc: "Events per transaction and appendBatch call."},
		{Name: "connect-timeout", Type: "duration(ms)", Default: "20000", Doc: "Time allowed to connect."},
		{Name: "request-timeout", Type: "duration(ms)", Default: "20000", Doc: "Time allowed for a call's answer."},
		{Name: "compression-type", Type: "string", Default: "none", Doc: "none or deflate; must match the source."},
		{Name: "compression-level", Type: "int", Default: "6", Doc: "Deflate level, 0-9."},
		{Name: "reset-connection-interval", Type: "duration(s)", Default: "0", Doc: "Reconnect after this many seconds (to rebalance behind a load balancer); 0 never."},
	},
}

func init() {
	flume.RegisterSink(Spec, func(env flume.SinkEnv) (flume.Sink, error) {
		cfg, err := ParseConfig(env.Config)
		// The batch is checked against the channel (the spec marks the key
		// ChannelChecked) even when other keys are bad: one run reports all.
		var errs flume.ConfigErrors
		errs.Add(err)
		errs.Add(env.CheckBatch("batch-size", cfg.BatchSize, err))
		if err := errs.Err(); err != nil {
			return nil, err
		}
		s := New(env.Name, cfg, env.Channel, env.Counter)
		s.log = env.Log()
		return s, nil
	})
}

// Config is the sink's configuration.
type Config struct {
	Addr                    string // host:port
	BatchSize               int
	ConnectTimeout          time.Duration
	RequestTimeout          time.Duration
	Deflate                 bool
	DeflateLevel            int
	ResetConnectionInterval time.Duration
}

// ParseConfig reads the sink's keys, reporting every bad one.
func ParseConfig(ctx *flume.Context) (Config, error) {
	var c Config
	var errs flume.ConfigErrors
	host, err := ctx.RequiredString("hostname")
	errs.Add(err)
	if !ctx.Has("port") {
		errs.Add(ctx.Errorf("port", "is required"))
	} else {
		port, err := ctx.IntRange("port", 0, 1, 65535)
		if !errs.Add(err) {
			c.Addr = net.JoinHostPort(strings.TrimSpace(host), strconv.FormatInt(port, 10))
		}
	}
	bs, err := ctx.IntRange("batch-size", 100, 1, 1<<20)
	errs.Add(err)
	c.BatchSize = int(bs)
	c.ConnectTimeout, err = ctx.Duration("connect-timeout", 20*time.Second, time.Millisecond)
	errs.Add(err)
	c.RequestTimeout, err = ctx.Duration("request-timeout", 20*time.Second, time.Millisecond)
	errs.Add(err)
	switch ct := strings.ToLower(strings.TrimSpace(ctx.String("compression-type", "none"))); ct {
	case "none":
	case "deflate":
		c.Deflate = true
	default:
		errs.Add(ctx.Errorf("compression-type", "%q is not none or deflate", ct))
	}
	lvl, err := ctx.IntRange("compression-level", 6, 0, 9)
	errs.Add(err)
	c.DeflateLevel = int(lvl)
	c.ResetConnectionInterval, err = ctx.Duration("reset-connection-interval", 0, time.Second)
	errs.Add(err)
	return c, errs.Err()
}

// ErrNotOK is matched by the error of a batch the source did not accept.
var ErrNotOK = errors.New("avro source did not accept the batch")

// Sink is an avro sink.
type Sink struct {
	name    string
	cfg     Config
	ch      flume.Channel
	counter *flume.SinkCounter
	log     *slog.Logger
	// now is the clock for reset-connection-interval.
	now func() time.Time

	mu        sync.Mutex // guards client against Stop during Process
	client    *avrorpc.Client
	connected time.Time
	batch     []*flume.Event
}

var _ flume.Sink = (*Sink)(nil)

// New returns a sink draining ch. A nil counter is replaced by a fresh one.
func New(name string, cfg Config, ch flume.Channel, counter *flume.SinkCounter) *Sink {
	if counter == nil {
		counter = &flume.SinkCounter{}
	}
	return &Sink{name: name, cfg: cfg, ch: ch, counter: counter, log: slog.With("sink", name), now: time.Now}
}

// Start does not connect: the first Process does, so that an agent whose
// next hop is down still starts (and backs off until it is up).
func (s *Sink) Start(context.Context) error {
	s.counter.MarkStarted()
	return nil
}

// Stop closes the connection.
func (s *Sink) Stop() error {
	s.mu.Lock()
	s.dropLocked()
	s.mu.Unlock()
	s.counter.MarkStopped()
	return nil
}

func (s *Sink) dropLocked() {
	if s.client != nil {
		s.client.Close()
		s.client = nil
		s.counter.ConnectionClosed.Add(1)
	}
}

func (s *Sink) connectLocked(ctx context.Context) error {
	if s.client != nil && s.cfg.ResetConnectionInterval > 0 && s.now().Sub(s.connected) >= s.cfg.ResetConnectionInterval {
		s.log.Debug("resetting connection", "interval", s.cfg.ResetConnectionInterval)
		s.dropLocked()
	}
	if s.client != nil {
		return nil
	}
	c, err := avrorpc.Dial(ctx, s.cfg.Addr, avrorpc.ClientConfig{
		ConnectTimeout: s.cfg.ConnectTimeout,
		RequestTimeout: s.cfg.RequestTimeout,
		Deflate:        s.cfg.Deflate,
		DeflateLevel:   s.cfg.DeflateLevel,
	})
	if err != nil {
		s.counter.ConnectionFailed.Add(1)
		return err
	}
	s.client, s.connected = c, s.now()
	s.counter.ConnectionCreated.Add(1)
	return nil
}

// Process sends one batch.
func (s *Sink) Process(ctx context.Context) (flume.Status, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.connectLocked(ctx); err != nil {
		return flume.Backoff, fmt.Errorf("avro sink %q: %w", s.name, err)
	}
	tx := s.ch.NewTransaction()
	if err := tx.Begin(); err != nil {
		s.counter.ChannelReadFail.Add(1)
		return flume.Backoff, fmt.Errorf("avro sink %q: %w", s.name, err)
	}
	defer tx.Close()
	st, err := s.deliverLocked(ctx, tx)
	if err != nil {
		if rerr := tx.Rollback(); rerr != nil {
			err = errors.Join(err, rerr)
		}
		return flume.Backoff, fmt.Errorf("avro sink %q: %w", s.name, err)
	}
	return st, nil
}

func (s *Sink) deliverLocked(ctx context.Context, tx flume.Transaction) (flume.Status, error) {
	batch := s.batch[:0]
	defer func() {
		clear(batch)
		s.batch = batch[:0]
	}()
	for len(batch) < s.cfg.BatchSize {
		e, err := tx.Take()
		if err != nil {
			s.counter.ChannelReadFail.Add(1)
			return flume.Backoff, err
		}
		if e == nil {
			break
		}
		batch = append(batch, e)
	}
	n := len(batch)
	if n == 0 {
		s.counter.BatchEmpty.Add(1)
		return flume.Backoff, tx.Commit()
	}
	s.counter.EventDrainAttempt.Add(int64(n))
	st, err := s.client.AppendBatch(ctx, batch)
	if err != nil {
		// The connection's state is unknown: start afresh next time.
		s.dropLocked()
		s.counter.EventWriteFail.Add(1)
		return flume.Backoff, fmt.Errorf("appendBatch of %d events to %s: %w", n, s.cfg.Addr, err)
	}
	if st != avrorpc.OK {
		s.counter.EventWriteFail.Add(1)
		return flume.Backoff, fmt.Errorf("appendBatch of %d events to %s: %w: status %v", n, s.cfg.Addr, ErrNotOK, st)
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
