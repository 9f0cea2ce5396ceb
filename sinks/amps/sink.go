package amps

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	ampsclient "ampsflume/amps"
	"ampsflume/flume"
)

// Defaults of the original sink.
const (
	DefaultMaxBatch   = 1000
	DefaultInitialCap = 1000
)

// Spec documents and validates the sink's keys.
var Spec = flume.Spec{
	Alias: "amps",
	Class: "com.crankuptheamps.flume.AMPSFlumeSink",
	Doc:   "Publishes channel events to an AMPS topic; a batch is committed only once AMPS acknowledged it.",
	Keys: []flume.Key{
		{Name: "type", Type: "string", Required: true, Doc: "amps or com.crankuptheamps.flume.AMPSFlumeSink"},
		{Name: "channel", Type: "string", Required: true, Doc: "The channel to drain."},
		{Name: "clientName", Type: "string", Doc: "AMPS client name; must be unique per server (de-duplication is by name). Default flume-sink-<sink name>."},
		{Name: "uri", Type: "string", Doc: "AMPS URI, e.g. tcp://host:9007/amps/json. Used when uri1 is not set."},
		{Name: "uri<N>", Type: "string", Doc: "HA server URIs uri1, uri2, ... numbered from 1 without gaps."},
		{Name: "clientFactoryClass", Type: "string", Doc: "Accepted for compatibility; the sink always uses its HA client."},
		{Name: "topic", Type: "string", Required: true, Doc: "Topic to publish to."},
		{Name: "maxBatch", Type: "int", Default: "1000", ChannelChecked: true, Doc: "Maximum events per transaction; must not exceed the channel's transactionCapacity."},
		{Name: "useTopicHeader", Type: "bool", Default: "true", Doc: "Publish to the event's topic header when it has one."},
		{Name: "publishFlushTimeout", Type: "long", Default: "0", Doc: "Milliseconds to wait for the batch's acknowledgement; 0 or -1 wait without a limit (the batch is never committed unacknowledged)."},
		{Name: "logMsgOnWriteError", Type: "bool", Default: "true", Doc: "Log the event body when a publish fails."},
		{Name: "rollbackOnError", Type: "bool", Default: "false", Doc: "With true, an event that cannot be published (no topic) rolls the batch back; with false it is logged and dropped. Publish and acknowledgement failures always roll back."},
		{Name: "pubStoreType", Type: "string", Default: "none", Doc: "none (acknowledge by flush), memory or file (sequence-numbered publishes acknowledged by persisted acks)."},
		{Name: "pubStorePath", Type: "string", Doc: "File keeping the last acknowledged sequence number; required with pubStoreType=file."},
		{Name: "pubStoreInitialCap", Type: "int", Default: "1000", Doc: "Initial capacity of the publish store (entries)."},
	},
}

func init() {
	flume.RegisterSink(Spec, New)
}

// Config is the parsed configuration.
type Config struct {
	ClientName     string
	URIs           []string
	Topic          string
	MaxBatch       int
	UseTopicHeader bool
	FlushTimeout   time.Duration // 0: no limit
	LogMsgOnError  bool
	RollbackOnErr  bool
	PubStore       string // none, memory, file
	PubStorePath   string
	InitialCap     int
}

// Sink publishes channel events to AMPS.
type Sink struct {
	name    string
	cfg     Config
	channel flume.Channel
	counter *flume.SinkCounter
	log     *slog.Logger

	ha *ampsclient.HAClient

	mu      sync.Mutex
	acked   uint64        // highest persisted seq acknowledged
	ackWake chan struct{} // closed and replaced when acked grows

	nextSeq   uint64 // next sequence number to assign (publish store)
	retryBase uint64 // first seq of a rolled-back batch, reused on retry
	haveRetry bool
}

// New builds the sink from its configuration, reporting every bad key.
func New(env flume.SinkEnv) (flume.Sink, error) {
	c := env.Config
	var cfg Config
	var errs flume.ConfigErrors
	var err error
	cfg.ClientName = c.String("clientName", "flume-sink-"+env.Name)
	cfg.URIs, err = parseURIs(c)
	errs.Add(err)
	cfg.Topic, err = c.RequiredString("topic")
	errs.Add(err)
	mb, err := c.IntRange("maxBatch", DefaultMaxBatch, 1, 1<<30)
	cfg.MaxBatch = int(mb)
	// Checked here against the built channel (the spec marks maxBatch
	// ChannelChecked), and only when maxBatch itself is understood.
	if !errs.Add(err) {
		errs.Add(env.CheckBatch("maxBatch", cfg.MaxBatch, nil))
	}
	cfg.UseTopicHeader, err = c.Bool("useTopicHeader", true)
	errs.Add(err)
	ft, err := c.Int64("publishFlushTimeout", 0)
	if !errs.Add(err) && ft < -1 {
		errs.Add(c.Errorf("publishFlushTimeout", "must be -1, 0 or a number of milliseconds"))
	}
	if ft > 0 {
		cfg.FlushTimeout = time.Duration(ft) * time.Millisecond
	}
	cfg.LogMsgOnError, err = c.Bool("logMsgOnWriteError", true)
	errs.Add(err)
	cfg.RollbackOnErr, err = c.Bool("rollbackOnError", false)
	errs.Add(err)
	cfg.PubStore = strings.ToLower(c.String("pubStoreType", "none"))
	switch cfg.PubStore {
	case "none", "memory":
	case "file":
		if cfg.PubStorePath = c.String("pubStorePath", ""); cfg.PubStorePath == "" {
			errs.Add(c.Errorf("pubStorePath", "pubStorePath must be specified for a file-backed publish store."))
		}
	default:
		errs.Add(c.Errorf("pubStoreType", "unknown publish store %q (use none, memory or file)", cfg.PubStore))
	}
	ic, err := c.IntRange("pubStoreInitialCap", DefaultInitialCap, 1, 1<<30)
	errs.Add(err)
	cfg.InitialCap = int(ic)
	if err := errs.Err(); err != nil {
		return nil, err
	}
	counter := env.Counter
	if counter == nil {
		counter = new(flume.SinkCounter)
	}
	return &Sink{name: env.Name, cfg: cfg, channel: env.Channel, counter: counter,
		log: env.Log(), ackWake: make(chan struct{})}, nil
}

// parseURIs reads uri1..uriN without gaps, else uri; every malformed URI is
// reported.
func parseURIs(c *flume.Context) ([]string, error) {
	var uris []string
	for i := 1; ; i++ {
		v := strings.TrimSpace(c.String("uri"+strconv.Itoa(i), ""))
		if v == "" {
			break
		}
		uris = append(uris, v)
	}
	key := func(i int) string { return "uri" + strconv.Itoa(i+1) }
	if len(uris) == 0 {
		if v := strings.TrimSpace(c.String("uri", "")); v != "" {
			uris = []string{v}
			key = func(int) string { return "uri" }
		}
	}
	if len(uris) == 0 {
		return nil, c.Errorf("uri", "is required: set uri, or uri1, uri2, ... for HA servers")
	}
	var errs flume.ConfigErrors
	for i, u := range uris {
		if _, err := ampsclient.ParseURI(u); err != nil {
			errs.Add(c.Errorf(key(i), "%v", err))
		}
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	return uris, nil
}

// Config returns the parsed configuration.
func (s *Sink) Config() Config { return s.cfg }

// Counter returns the sink's metrics.
func (s *Sink) Counter() *flume.SinkCounter { return s.counter }

// Start connects in the background.
func (s *Sink) Start(ctx context.Context) error {
	if s.cfg.PubStore == "file" {
		seq, err := readSeqFile(s.cfg.PubStorePath)
		if err != nil {
			return fmt.Errorf("amps sink %q: %w", s.name, err)
		}
		s.nextSeq = seq + 1
	}
	s.ha = ampsclient.NewHAClient(s.cfg.ClientName, ampsclient.NewDefaultServerChooser(s.cfg.URIs...),
		[]ampsclient.HAOption{ampsclient.WithHALogger(s.log)}, ampsclient.WithLogger(s.log))
	s.ha.Client().OnPersisted(s.onPersisted)
	s.ha.Start(context.WithoutCancel(ctx))
	s.counter.MarkStarted()
	return nil
}

// Stop disconnects.
func (s *Sink) Stop() error {
	if s.ha != nil {
		s.ha.Close()
	}
	s.counter.MarkStopped()
	return nil
}

func (s *Sink) onPersisted(seq uint64) {
	s.mu.Lock()
	if seq > s.acked {
		s.acked = seq
		close(s.ackWake)
		s.ackWake = make(chan struct{})
	}
	s.mu.Unlock()
}

// Process publishes one batch and commits it once acknowledged.
func (s *Sink) Process(ctx context.Context) (flume.Status, error) {
	tx := s.channel.NewTransaction()
	defer tx.Close()
	if err := tx.Begin(); err != nil {
		s.counter.ChannelReadFail.Add(1)
		return flume.Backoff, fmt.Errorf("amps sink %q: %w", s.name, err)
	}
	fail := func(err error) (flume.Status, error) {
		_ = tx.Rollback()
		return flume.Backoff, fmt.Errorf("amps sink %q: %w", s.name, err)
	}
	var evs []*flume.Event
	for len(evs) < s.cfg.MaxBatch {
		e, err := tx.Take()
		if err != nil {
			s.counter.ChannelReadFail.Add(1)
			return fail(err)
		}
		if e == nil {
			break
		}
		evs = append(evs, e)
	}
	if len(evs) == 0 {
		s.counter.BatchEmpty.Add(1)
		if err := tx.Commit(); err != nil {
			return fail(err)
		}
		return flume.Backoff, nil
	}
	s.counter.EventDrainAttempt.Add(int64(len(evs)))
	if err := s.publishBatch(ctx, evs); err != nil {
		s.counter.ConnectionFailed.Add(1)
		return fail(err)
	}
	if err := tx.Commit(); err != nil {
		return fail(err)
	}
	s.counter.EventDrainSuccess.Add(int64(len(evs)))
	if len(evs) < s.cfg.MaxBatch {
		s.counter.BatchUnderflow.Add(1)
		return flume.Backoff, nil
	}
	s.counter.BatchComplete.Add(1)
	return flume.Ready, nil
}

var errNoTopic = errors.New("event has an empty topic")

// publishBatch publishes evs and waits for their acknowledgement.
func (s *Sink) publishBatch(ctx context.Context, evs []*flume.Event) error {
	c := s.ha.Client()
	if !c.Connected() {
		return errors.New("not connected to AMPS")
	}
	useStore := s.cfg.PubStore != "none"
	var seq uint64
	if useStore {
		if info := c.LogonInfo(); info.Seq+1 > s.nextSeq {
			s.nextSeq = info.Seq + 1
		}
		seq = s.nextSeq
		if s.haveRetry {
			seq = s.retryBase // same numbers again: the server drops what it has
		}
		s.retryBase, s.haveRetry = seq, true
	}
	first := seq
	for _, e := range evs {
		topic := s.cfg.Topic
		if s.cfg.UseTopicHeader {
			if t := e.Headers["topic"]; t != "" {
				topic = t
			}
		}
		var err error
		if topic == "" {
			err = errNoTopic
		} else if useStore {
			err = c.Send(ampsclient.Command{Name: ampsclient.CmdPublish, Topic: topic, Data: e.Body, Seq: seq, HasSeq: true, AckType: ampsclient.AckPersisted})
			seq++
		} else {
			err = c.Publish(topic, e.Body)
		}
		if err != nil {
			if s.cfg.LogMsgOnError {
				s.log.Error("AMPS publish failed", "topic", topic, "body", string(e.Body), "err", err)
			} else {
				s.log.Error("AMPS publish failed", "topic", topic, "err", err)
			}
			if errors.Is(err, errNoTopic) && !s.cfg.RollbackOnErr {
				continue
			}
			return err
		}
	}
	wctx := ctx
	if s.cfg.FlushTimeout > 0 {
		var cancel context.CancelFunc
		wctx, cancel = context.WithTimeout(ctx, s.cfg.FlushTimeout)
		defer cancel()
	}
	if !useStore {
		return c.Flush(wctx)
	}
	if seq > first {
		if err := s.waitAcked(wctx, seq-1); err != nil {
			return err
		}
	}
	s.nextSeq, s.haveRetry = seq, false
	if s.cfg.PubStore == "file" {
		if err := writeSeqFile(s.cfg.PubStorePath, seq-1); err != nil {
			return err
		}
	}
	return nil
}

func (s *Sink) waitAcked(ctx context.Context, seq uint64) error {
	for {
		s.mu.Lock()
		acked, wake := s.acked, s.ackWake
		s.mu.Unlock()
		if acked >= seq {
			return nil
		}
		select {
		case <-wake:
		case <-ctx.Done():
			return fmt.Errorf("waiting for the persisted ack of sequence %d (have %d): %w", seq, acked, ctx.Err())
		}
	}
}

func readSeqFile(path string) (uint64, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	v, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("publish store %s: %w", path, err)
	}
	return v, nil
}

func writeSeqFile(path string, seq uint64) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(strconv.FormatUint(seq, 10)+"\n"), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
