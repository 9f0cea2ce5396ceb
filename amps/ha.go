package amps

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"
)

// HAClient keeps a Client connected: after an unintended disconnect it asks
// its ServerChooser for the next server, waits as its DelayStrategy says (no
// wait for a server not yet tried since the disconnect), connects, logs on
// and executes every subscription again, a bookmark subscription from the
// bookmark its resume function returns at that moment. Subscriptions are
// read through HASubscription.Next, which hides the reconnections, or given
// to a handler (SubscribeBorrowed).
type HAClient struct {
	client  *Client
	chooser ServerChooser
	delay   DelayStrategy
	log     *slog.Logger
	timeout time.Duration

	lost chan struct{}

	mu         sync.Mutex
	subs       []*HASubscription
	started    bool
	connected  bool
	uri        string
	reconnects int64
	lastErr    error
	cancel     context.CancelFunc
	done       chan struct{}

	pub *haPublish // ha_publish.go; nil without a publish store
}

// HAOption configures an HAClient.
type HAOption func(*HAClient)

// WithDelayStrategy replaces the default exponential back-off.
func WithDelayStrategy(d DelayStrategy) HAOption { return func(h *HAClient) { h.delay = d } }

// WithHALogger sets the logger for connection events.
func WithHALogger(l *slog.Logger) HAOption { return func(h *HAClient) { h.log = l } }

// WithAttemptTimeout bounds one connect, logon and resubscribe attempt
// (default 10 s).
func WithAttemptTimeout(d time.Duration) HAOption { return func(h *HAClient) { h.timeout = d } }

// NewHAClient returns an HA client named name over chooser; clientOpts
// configure the underlying Client.
func NewHAClient(name string, chooser ServerChooser, haOpts []HAOption, clientOpts ...Option) *HAClient {
	h := &HAClient{
		client:  NewClient(name, clientOpts...),
		chooser: chooser,
		delay:   NewExponentialDelay(),
		timeout: 10 * time.Second,
		lost:    make(chan struct{}, 1),
	}
	for _, o := range haOpts {
		o(h)
	}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	h.client.OnDisconnect(func(err error) {
		h.mu.Lock()
		h.connected, h.lastErr = false, err
		h.mu.Unlock()
		select {
		case h.lost <- struct{}{}:
		default:
		}
	})
	return h
}

// Client is the underlying client, for commands that need no resubscription.
func (h *HAClient) Client() *Client { return h.client }

// HAState describes the connection.
type HAState struct {
	Connected  bool
	URI        string
	Reconnects int64
	LastError  error
}

// State returns the current connection state.
func (h *HAClient) State() HAState {
	h.mu.Lock()
	defer h.mu.Unlock()
	return HAState{Connected: h.connected, URI: h.uri, Reconnects: h.reconnects, LastError: h.lastErr}
}

// Subscribe registers a subscribe-type (or sow) command to execute on every
// connection. bookmark, when non-nil, is called before each execution and
// its result sent as the command's bookmark. Subscribe must be called
// before Start.
func (h *HAClient) Subscribe(cmd Command, bookmark func() string) (*HASubscription, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.started {
		return nil, errors.New("amps: HA subscriptions must be added before Start")
	}
	s := newHASubscription(cmd, bookmark)
	h.subs = append(h.subs, s)
	return s, nil
}

// SubscribeBorrowed is Subscribe with a handler instead of Next: on every
// connection the command is executed with ExecuteHandlerBorrowed, so handler
// runs on the connection's reader goroutine and its deliveries are lent
// (the Message is reused and Data is valid only during the call; header
// strings stay valid; acks and sow records are private copies). Calls never
// overlap, also across reconnections: a new connection is only made once
// the reader of the previous one has ended. While handler runs nothing else
// is read from the connection, which is how a slow handler pushes back on
// the server; nothing is dropped. handler must not call Close or wait for a
// command of the same client. After Close returns, handler is not called
// again. Done and Err report the end of the subscription; Next is not
// available. SubscribeBorrowed must be called before Start.
func (h *HAClient) SubscribeBorrowed(cmd Command, bookmark func() string, handler func(*Message)) (*HASubscription, error) {
	if handler == nil {
		return nil, fmt.Errorf("amps: %s: nil handler", cmd.Name)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.started {
		return nil, errors.New("amps: HA subscriptions must be added before Start")
	}
	s := newHASubscription(cmd, bookmark)
	s.handler = handler
	h.subs = append(h.subs, s)
	return s, nil
}

// Start connects in the background and keeps reconnecting until Close.
func (h *HAClient) Start(ctx context.Context) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.started {
		return
	}
	h.started = true
	ctx, h.cancel = context.WithCancel(ctx)
	h.done = make(chan struct{})
	go h.run(ctx)
}

func (h *HAClient) run(ctx context.Context) {
	defer close(h.done)
	failures := 0
	tried := map[string]bool{}
	everConnected := false
	for ctx.Err() == nil {
		uri := h.chooser.CurrentURI()
		if uri == "" {
			h.failAll(errors.New("amps: no server to connect to"))
			return
		}
		if tried[uri] {
			t := time.NewTimer(h.delay.Delay(failures))
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return
			}
		}
		tried[uri] = true
		if err := h.connect(ctx, uri); err != nil {
			if ctx.Err() != nil {
				return
			}
			failures++
			h.mu.Lock()
			h.connected, h.uri, h.lastErr = false, uri, err
			h.mu.Unlock()
			h.chooser.ReportFailure(err)
			h.log.Warn("AMPS connection attempt failed", "uri", redact(uri), "attempt", failures, "err", err)
			continue
		}
		h.chooser.ReportSuccess()
		failures = 0
		clear(tried)
		h.mu.Lock()
		h.connected, h.uri = true, uri
		if everConnected {
			h.reconnects++
		}
		h.mu.Unlock()
		h.log.Info("AMPS connected and subscribed", "uri", redact(uri), "reconnect", everConnected)
		everConnected = true
		select {
		case <-h.lost:
			h.log.Warn("AMPS connection lost; reconnecting", "uri", redact(uri), "err", h.State().LastError)
			// The same server is tried again first (it may have just
			// restarted), after a back-off; then the chooser moves on.
			failures = 1
			tried[uri] = true
		case <-ctx.Done():
			return
		}
	}
}

// connect makes one attempt: connect, log on, execute every subscription.
func (h *HAClient) connect(ctx context.Context, uri string) error {
	select { // a loss signalled by an earlier connection is stale now
	case <-h.lost:
	default:
	}
	actx, cancel := context.WithTimeout(ctx, h.timeout)
	defer cancel()
	h.pausePublishes()
	if err := h.client.Connect(actx, uri); err != nil {
		return err
	}
	info, err := h.client.Logon(actx)
	if err != nil {
		h.client.Disconnect()
		return err
	}
	if err := h.resumePublishes(info); err != nil {
		h.client.Disconnect()
		return err
	}
	h.mu.Lock()
	subs := append([]*HASubscription(nil), h.subs...)
	h.mu.Unlock()
	for _, s := range subs {
		if s.ended() {
			continue
		}
		cmd := s.cmd
		if s.bookmark != nil {
			cmd.Bookmark = s.bookmark()
		}
		var st *MessageStream
		var r *route
		if s.handler != nil {
			r, err = h.client.exec(actx, cmd, func(r *route) { r.handler, r.borrowed = s.handler, true })
		} else {
			st, err = h.client.Execute(actx, cmd)
		}
		if err != nil {
			var ce *CommandError
			if errors.As(err, &ce) {
				// The server refused the command itself: retrying on
				// another connection would be refused again.
				s.fail(fmt.Errorf("amps: %s %s: %w", cmd.Name, cmd.Topic, err))
				continue
			}
			h.client.Disconnect()
			return err
		}
		if r != nil {
			s.watch(r)
			continue
		}
		if st != nil {
			s.install(st)
		}
	}
	return nil
}

func (h *HAClient) failAll(err error) {
	h.mu.Lock()
	subs := append([]*HASubscription(nil), h.subs...)
	h.mu.Unlock()
	for _, s := range subs {
		s.fail(err)
	}
}

// Close stops reconnecting, closes the client and ends every subscription.
func (h *HAClient) Close() error {
	h.mu.Lock()
	cancel, done := h.cancel, h.done
	h.started = true
	h.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	err := h.client.Close()
	if done != nil {
		<-done
	}
	h.failAll(ErrClosed)
	h.mu.Lock()
	h.connected = false
	h.mu.Unlock()
	return err
}

// HASubscription is a subscription that survives reconnections.
type HASubscription struct {
	cmd      Command
	bookmark func() string
	handler  func(*Message) // SubscribeBorrowed; nil for Next

	mu      sync.Mutex
	cur     *MessageStream
	changed chan struct{} // closed when cur or err changes
	err     error         // terminal
	done    chan struct{} // closed when err is set
}

func newHASubscription(cmd Command, bookmark func() string) *HASubscription {
	return &HASubscription{cmd: cmd, bookmark: bookmark, changed: make(chan struct{}), done: make(chan struct{})}
}

// watch ends a handler subscription once r ends by itself (a sow query
// completed): a route that ends with an error ended with its connection,
// and the next connection executes the command again.
func (s *HASubscription) watch(r *route) {
	go func() {
		<-r.finished
		r.mu.Lock()
		err := r.endErr
		r.mu.Unlock()
		if err == nil {
			s.fail(io.EOF)
		}
	}()
}

// Done is closed when the subscription has ended; Err then says why.
func (s *HASubscription) Done() <-chan struct{} { return s.done }

// Err returns nil while the subscription runs, then why it ended: io.EOF
// when a sow command completed, ErrClosed after Close, a
// *CommandError-wrapping error when the server refused the command.
func (s *HASubscription) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

func (s *HASubscription) install(st *MessageStream) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		st.Close()
		return
	}
	s.cur = st
	close(s.changed)
	s.changed = make(chan struct{})
}

func (s *HASubscription) fail(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return
	}
	s.err = err
	if s.cur != nil {
		s.cur.Close()
	}
	close(s.done)
	close(s.changed)
	s.changed = make(chan struct{})
}

func (s *HASubscription) ended() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err != nil
}

// Next returns the next message, waiting across reconnections. It returns
// io.EOF when a sow command completed, ErrClosed after Close, a
// *CommandError-wrapping error when the server refused the subscription, and
// ctx's error when ctx ends. A subscription with a handler has no Next.
func (s *HASubscription) Next(ctx context.Context) (*Message, error) {
	if s.handler != nil {
		return nil, fmt.Errorf("amps: %s %s: Next on a subscription with a handler", s.cmd.Name, s.cmd.Topic)
	}
	for {
		s.mu.Lock()
		cur, changed, err := s.cur, s.changed, s.err
		s.mu.Unlock()
		if err != nil {
			return nil, err
		}
		if cur != nil {
			m, err := cur.Next(ctx)
			switch {
			case err == nil:
				return m, nil
			case ctx.Err() != nil:
				return nil, ctx.Err()
			case errors.Is(err, io.EOF):
				s.fail(io.EOF)
				return nil, io.EOF
			}
			// The connection went down; wait for the next stream.
			s.mu.Lock()
			if s.cur == cur {
				s.cur = nil
			}
			s.mu.Unlock()
			continue
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}
