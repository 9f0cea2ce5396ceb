package amps

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"ampsflume/amps/bookmark"
	"ampsflume/flume"
)

func init() {
	flume.RegisterSource(Spec, func(env flume.SourceEnv) (flume.Source, error) { return New(env) })
}

// Option adjusts a Source; the defaults suit production.
type Option func(*Source)

// WithClock replaces time.Now, for the prune schedule and the timestamp
// header.
func WithClock(now func() time.Time) Option { return func(s *Source) { s.now = now } }

// WithClientFactory uses f instead of the factory named by
// clientFactoryClass.
func WithClientFactory(f ClientFactory) Option { return func(s *Source) { s.factory = f } }

// WithLogger sets the logger; the env's Logger (or slog.Default()) otherwise.
func WithLogger(l *slog.Logger) Option { return func(s *Source) { s.log = l } }

// Source is the AMPS source. See the package documentation.
type Source struct {
	env     flume.SourceEnv
	cfg     Config
	log     *slog.Logger
	now     func() time.Time
	factory ClientFactory
	counter *flume.SourceCounter

	buf    *multiBuffer
	bodies bodyAlloc // copies of lent bodies; the feed's goroutine only
	store  bookmark.Store
	feed   Feed
	// cancel ends the client; stopRead, cancelled first on Stop, ends the
	// buffering of new messages while the connection stays up for the last
	// queue acknowledgements.
	cancel   context.CancelFunc
	stopRead context.CancelFunc
	done     chan struct{}

	// procMu serialises polls with the drain in Stop.
	procMu    sync.Mutex
	pending   batch // empty when no batch is being committed
	lastPrune time.Time
	stopped   bool
	// stampReceived is set when the timestamp header is wanted: only then
	// is the arrival time of each message read. keepFields is set when
	// eventHeaders names fields an item does not otherwise keep.
	stampReceived, keepFields bool

	// ackBMs is reused for the bookmarks of each queue acknowledgement;
	// procMu guards it.
	ackBMs []string

	duplicates atomic.Int64
	filtered   atomic.Int64
	acked      atomic.Int64 // queue messages acknowledged
	ackFailed  atomic.Int64 // queue messages whose acknowledgement failed
	mu         sync.Mutex   // guards the fields below
	feedClosed bool
	readErr    error
}

// batch is the batch being committed; it is retried until it commits. Its
// items slice is reused from batch to batch.
type batch struct {
	items     []item
	committed bool // committed to the channels; only the discards remain
	attempts  int
}

// reset empties the batch for the next one, keeping the items' array but
// none of the messages in it.
func (b *batch) reset() {
	clear(b.items)
	*b = batch{items: b.items[:0]}
}

var (
	_ flume.PollableSource  = (*Source)(nil)
	_ flume.MetricsReporter = (*Source)(nil)
	_ flume.StatusReporter  = (*Source)(nil)
)

// New validates the configuration and returns a source ready to start.
func New(env flume.SourceEnv, opts ...Option) (*Source, error) {
	if env.Config == nil {
		env.Config = flume.MapContext(fmt.Sprintf("source %q", env.Name), nil)
	}
	cfg, err := ParseConfig(env.Config, env.Channels)
	s := &Source{env: env, cfg: cfg, counter: env.Counter}
	for _, o := range opts {
		o(s)
	}
	if s.log == nil {
		s.log = env.Log()
	} else {
		s.log = s.log.With("source", env.Name)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.counter == nil {
		s.counter = &flume.SourceCounter{}
	}
	if s.env.Wake == nil {
		s.env.Wake = func() {}
	}
	if s.factory == nil {
		f, ok := lookupFactory(cfg.ClientFactory)
		if !ok {
			// Reported with the keys' problems, all in one run.
			err = errors.Join(err, env.Config.Errorf("clientFactoryClass", "unknown client factory %q (registered: %v)", cfg.ClientFactory, factoryNames()))
		}
		s.factory = f
	}
	if err != nil {
		return nil, err
	}
	s.buf = newMultiBuffer(cfg.MaxBuffers, cfg.MaxBatch, s.env.Wake, s.log)
	for _, h := range cfg.EventHeaders {
		switch h {
		case HeaderTimestamp:
			s.stampReceived = true
		case HeaderBookmark, HeaderLength:
		default:
			s.keepFields = true
		}
	}
	return s, nil
}

// Config returns the parsed configuration.
func (s *Source) Config() Config { return s.cfg }

// Start opens the bookmark store, starts the subscription and the reader.
func (s *Source) Start(ctx context.Context) error {
	if s.cfg.BookmarkLog != "" {
		st, err := bookmark.OpenLogged(s.cfg.BookmarkLog, bookmark.LoggedOptions{Logger: s.log})
		if err != nil {
			return fmt.Errorf("amps source %q: %w", s.env.Name, err)
		}
		s.store = st
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	readCtx, stopRead := context.WithCancel(runCtx)
	feed, err := s.factory(runCtx, ClientConfig{
		ClientName: s.cfg.ClientName,
		URIs:       s.cfg.URIs,
		Command:    s.cfg.Command,
		Topic:      s.cfg.Topic,
		Filter:     s.cfg.Filter,
		Options:    s.cfg.SubscribeOptions(),
		SubID:      s.cfg.SubscriptionID,
		Store:      s.store,
		Properties: s.env.Config,
		Logger:     s.log,
	})
	if err != nil {
		stopRead()
		cancel()
		if s.store != nil {
			s.store.Close()
			s.store = nil
		}
		return fmt.Errorf("amps source %q failed to start: %w", s.env.Name, err)
	}
	s.mu.Lock()
	s.feed = feed
	s.mu.Unlock()
	s.cancel, s.stopRead, s.done = cancel, stopRead, make(chan struct{})
	s.procMu.Lock()
	s.lastPrune = s.now()
	s.procMu.Unlock()
	s.counter.MarkStarted()
	if pf, ok := feed.(PushFeed); ok {
		go s.push(readCtx, pf)
	} else {
		go s.read(readCtx)
	}
	s.log.Info("AMPS source started", "command", s.cfg.Command, "topic", s.cfg.Topic, "uris", s.cfg.URIs)
	return nil
}

// read pulls messages until the feed ends or Stop.
func (s *Source) read(ctx context.Context) {
	defer close(s.done)
	for {
		m, err := s.feed.Next(ctx)
		if err != nil {
			s.ended(ctx, err)
			return
		}
		if err := s.handle(ctx, m, false); err != nil {
			return // cancelled while waiting for room
		}
	}
}

// push lets a PushFeed fill the buffer from its own goroutine until the
// feed ends or Stop. A message refused because Stop began (while it waited
// for room) stays undiscarded, and so does every later one: once ctx ends
// nothing more is buffered, so what is buffered has no gap.
func (s *Source) push(ctx context.Context, pf PushFeed) {
	defer close(s.done)
	err := pf.Run(ctx, func(m *Message) {
		if ctx.Err() != nil {
			return
		}
		_ = s.handle(ctx, m, true)
	})
	s.ended(ctx, err)
}

// ended records why the feed ended.
func (s *Source) ended(ctx context.Context, err error) {
	switch {
	case ctx.Err() != nil:
	case errors.Is(err, io.EOF):
		s.log.Info("AMPS command finished; no more messages will arrive", "command", s.cfg.Command)
	default:
		s.log.Error("AMPS subscription failed", "err", err)
		s.mu.Lock()
		s.readErr = err
		s.mu.Unlock()
	}
}

// handle turns one message into a buffered event, or drops it when its
// command is filtered out or it is a duplicate. A lent message's body is
// copied (into the source's shared blocks); otherwise the feed handed it
// over and it is kept as it is. Header strings are kept either way.
func (s *Source) handle(ctx context.Context, m *Message, lent bool) error {
	subID := s.cfg.SubscriptionID
	if m.Command == "ack" && s.store != nil && m.AckType == "persisted" && m.Bookmark != "" {
		if err := s.store.Persisted(subID, m.Bookmark); err != nil {
			s.log.Error("bookmark store: recording a persisted ack failed", "err", err)
		}
	}
	if commandBit(m.Command)&s.cfg.CmdTypeFilter == 0 {
		s.filtered.Add(1)
		s.log.Debug("AMPS message dropped by cmdTypeFilter", "command", m.Command, "cmdTypeFilter", s.cfg.CmdTypeFilter)
		return nil
	}
	it := item{data: m.Data, bookmark: m.Bookmark, ack: m.LeasePeriod != "" && m.Bookmark != ""}
	if s.store != nil && m.Bookmark != "" {
		if s.store.IsDiscarded(subID, m.Bookmark) {
			s.duplicates.Add(1)
			return nil
		}
		if err := s.store.Log(subID, m.Bookmark); err != nil {
			// Delivery goes on: a record missing from the log can only
			// cause a redelivery after a restart.
			s.log.Error("bookmark store: logging a received bookmark failed", "err", err)
		}
		it.discard = true
	}
	if lent {
		it.data = s.bodies.copy(m.Data)
	}
	s.counter.EventReceived.Add(1)
	if s.keepFields {
		f := *m
		f.Data = nil
		it.fields = &f
	}
	if s.stampReceived {
		it.received = s.now().UnixMilli()
	}
	return s.buf.put(ctx, &it)
}

// events builds the events of items for one commit attempt, all carved from
// one allocation; each has its own header map, as flume.NewEvent gives.
func (s *Source) events(items []item) []*flume.Event {
	evs := make([]*flume.Event, len(items))
	slab := make([]flume.Event, len(items))
	for i := range items {
		it := &items[i]
		body := it.data
		if body == nil {
			body = []byte{}
		}
		slab[i] = flume.Event{Headers: s.headers(it), Body: body}
		evs[i] = &slab[i]
	}
	return evs
}

// noFields stands for the fields of an item that kept none; it is only read.
var noFields Message

func (s *Source) headers(it *item) map[string]string {
	h := make(map[string]string, len(s.cfg.EventHeaders))
	set := func(k, v string) {
		if v != "" {
			h[k] = v
		}
	}
	m := it.fields
	if m == nil {
		m = &noFields
	}
	for _, k := range s.cfg.EventHeaders {
		switch k {
		case HeaderCommand:
			cmd := m.Command
			if cmd == "p" {
				cmd = "publish"
			}
			set(k, cmd)
		case HeaderTopic:
			set(k, m.Topic)
		case HeaderSowKey:
			set(k, m.SowKey)
		case HeaderAMPSTimestamp:
			set(k, m.Timestamp)
		case HeaderBookmark:
			set(k, it.bookmark)
		case HeaderCorrelationID:
			set(k, m.CorrelationID)
		case HeaderSubID:
			set(k, m.SubID)
		case HeaderLength:
			h[k] = strconv.Itoa(len(it.data))
		case HeaderTimestamp:
			h[k] = strconv.FormatInt(it.received, 10)
		}
	}
	if s.cfg.BookmarkHeader != "" {
		set(s.cfg.BookmarkHeader, it.bookmark)
	}
	return h
}

// Process commits the next batch (or retries the pending one) to the
// channels, then discards its bookmarks.
func (s *Source) Process(ctx context.Context) (flume.Status, error) {
	s.procMu.Lock()
	defer s.procMu.Unlock()
	if s.stopped {
		return flume.Backoff, fmt.Errorf("amps source %q: stopped", s.env.Name)
	}
	st, err := s.commitNext()
	if err == nil {
		s.maybePrune(false)
	}
	return st, err
}

// commitNext does one round; the caller holds procMu.
func (s *Source) commitNext() (flume.Status, error) {
	b := &s.pending
	if len(b.items) == 0 {
		b.items = s.buf.take(b.items)
		if len(b.items) == 0 {
			return flume.Backoff, nil
		}
	}
	if !b.committed {
		// Interceptors may rewrite events, so each attempt gets fresh
		// events: a retry sends exactly what the first attempt was given.
		evs := s.events(b.items)
		s.counter.AppendBatchReceived.Add(1)
		if err := s.env.Processor.ProcessEventBatch(evs); err != nil {
			b.attempts++
			s.counter.ChannelWriteFail.Add(1)
			if errors.Is(err, flume.ErrChannelFull) {
				s.log.Warn("Error adding event batch to channel. Channel may be full. Increase channel size or optimize sink performance.", "events", len(evs), "attempt", b.attempts)
			}
			return flume.Backoff, fmt.Errorf("amps source %q: batch of %d events not committed (attempt %d; it will be retried): %w", s.env.Name, len(evs), b.attempts, err)
		}
		b.committed = true
		s.counter.AppendBatchAccepted.Add(1)
		s.counter.EventAccepted.Add(int64(len(evs)))
	}
	if err := s.discard(b.items); err != nil {
		s.counter.GenericProcessingFail.Add(1)
		return flume.Backoff, fmt.Errorf("amps source %q: message discards failed (they will be retried): %w", s.env.Name, err)
	}
	s.ack(b.items)
	s.buf.release(len(b.items))
	b.reset()
	return flume.Ready, nil
}

func (s *Source) discard(items []item) error {
	if s.store == nil {
		return nil
	}
	for i := range items {
		if !items[i].discard {
			continue
		}
		if err := s.store.Discard(s.cfg.SubscriptionID, items[i].bookmark); err != nil {
			return err
		}
	}
	return s.store.Flush()
}

// ack acknowledges the queue messages of a committed batch in one command.
// It is not retried: a send fails only when the connection is gone, and the
// server then puts the messages back and delivers them again, to this
// source or another one (duplicates, never a loss). The caller holds procMu.
func (s *Source) ack(items []item) {
	bms := s.ackBMs[:0]
	for i := range items {
		if items[i].ack {
			bms = append(bms, items[i].bookmark)
		}
	}
	if len(bms) == 0 {
		return
	}
	s.mu.Lock()
	qf, ok := s.feed.(QueueFeed)
	s.mu.Unlock()
	err := errors.New("the client factory's feed cannot acknowledge queue messages")
	if ok {
		err = qf.Ack(s.cfg.Topic, bms)
	}
	if err != nil {
		s.ackFailed.Add(int64(len(bms)))
		s.log.Warn("queue acknowledgement not sent; the server will deliver these messages again after their lease or the disconnect", "messages", len(bms), "queue", s.cfg.Topic, "err", err)
	} else {
		s.acked.Add(int64(len(bms)))
	}
	clear(bms)
	s.ackBMs = bms[:0]
}

// maybePrune prunes the bookmark log when pruneTimeThreshold has passed (or
// unconditionally on stop); 0 disables pruning. The caller holds procMu.
func (s *Source) maybePrune(stopping bool) {
	if s.store == nil || s.cfg.PruneThreshold == 0 {
		return
	}
	now := s.now()
	if !stopping && now.Sub(s.lastPrune) < s.cfg.PruneThreshold {
		return
	}
	s.lastPrune = now
	if err := s.store.Prune(); err != nil {
		s.log.Error("bookmark store prune failed", "err", err)
	}
}

// Stop ends the buffering of new messages, commits what is buffered if the
// channels take it (acknowledging queue messages over the connection, still
// up), then ends the subscription, prunes and closes the bookmark store.
func (s *Source) Stop() error {
	s.procMu.Lock()
	defer s.procMu.Unlock()
	if s.stopped {
		return nil
	}
	s.stopped = true
	if s.cancel != nil {
		// Nothing is buffered after this, so what is buffered has no gap.
		s.stopRead()
		s.buf.close()
	}
	err := s.drain()
	if s.cancel != nil {
		if cerr := s.feed.Close(); cerr != nil {
			s.log.Warn("closing the AMPS client", "err", cerr)
		}
		s.mu.Lock()
		s.feedClosed = true
		s.mu.Unlock()
		<-s.done
		s.cancel()
		s.cancel = nil
	}
	if s.store != nil {
		s.maybePrune(true)
		if cerr := s.store.Close(); cerr != nil && err == nil {
			err = cerr
		}
	}
	s.counter.MarkStopped()
	return err
}

// drain commits what is buffered until a commit fails or nothing is left;
// the caller holds procMu.
func (s *Source) drain() error {
	var err error
	for {
		st, perr := s.commitNext()
		if perr != nil {
			held, _, _, _ := s.buf.stats()
			if s.store != nil {
				s.log.Warn("stopping with messages not committed; they stay undiscarded and will be redelivered", "messages", held, "err", perr)
			} else {
				s.log.Warn("stopping with messages not committed; without bookmarkLog they are lost (queue messages among them stay unacknowledged and are delivered again)", "messages", held, "err", perr)
			}
			err = perr
			break
		}
		if st == flume.Backoff {
			break
		}
	}
	return err
}

// ExtraMetrics implements flume.MetricsReporter.
func (s *Source) ExtraMetrics() []flume.Metric {
	held, _, pauses, paused := s.buf.stats()
	cs := s.connState()
	return []flume.Metric{
		{Name: "MessagesBuffered", Value: float64(held)},
		{Name: "BufferPauseCount", Value: float64(pauses)},
		{Name: "BufferPaused", Value: b2f(paused)},
		{Name: "DuplicateCount", Value: float64(s.duplicates.Load())},
		{Name: "FilteredCount", Value: float64(s.filtered.Load())},
		{Name: "QueueAckCount", Value: float64(s.acked.Load())},
		{Name: "QueueAckFailCount", Value: float64(s.ackFailed.Load())},
		{Name: "Connected", Value: b2f(cs.Connected)},
		{Name: "ReconnectCount", Value: float64(cs.Reconnects)},
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func (s *Source) connState() ConnectionState {
	s.mu.Lock()
	feed, closed := s.feed, s.feedClosed
	s.mu.Unlock()
	if closed {
		return ConnectionState{}
	}
	if sf, ok := feed.(StatusFeed); ok {
		return sf.ConnectionState()
	}
	return ConnectionState{Connected: feed != nil}
}

// StatusInfo implements flume.StatusReporter.
func (s *Source) StatusInfo() map[string]string {
	cs := s.connState()
	held, _, pauses, paused := s.buf.stats()
	state := "disconnected"
	if cs.Connected {
		state = "connected"
	}
	lastBM := s.buf.lastBookmark()
	s.mu.Lock()
	info := map[string]string{
		"connection":       state,
		"uri":              cs.URI,
		"lastBookmark":     lastBM,
		"messagesBuffered": strconv.Itoa(held),
		"pauses":           strconv.FormatInt(pauses, 10),
		"paused":           strconv.FormatBool(paused),
		"command":          s.cfg.Command,
		"topic":            s.cfg.Topic,
	}
	if s.readErr != nil {
		info["lastError"] = s.readErr.Error()
	} else if cs.LastError != "" {
		info["lastError"] = cs.LastError
	}
	s.mu.Unlock()
	if s.store != nil {
		info["mostRecent"] = s.store.MostRecent(s.cfg.SubscriptionID)
	}
	return info
}
