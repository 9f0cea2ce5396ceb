package ampserver

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// Server is an AMPS-compatible message server.
type Server struct {
	cfg       *Config
	log       *slog.Logger
	clock     Clock
	observers []func(RecordChange)

	mu        sync.Mutex
	topics    map[string]*topic
	clients   map[*client]struct{}
	byName    map[string]*client
	lastSeq   map[string]uint64 // per client name: highest publish seq processed
	listeners map[string]net.Listener
	httpSrvs  []*http.Server
	adminLn   net.Listener
	started   bool
	closing   bool
	nextID    uint64

	subs atomic.Pointer[subList]
	jr   *journal    // transaction log (txlog.go); nil when not configured
	repl *replicator // replication (replication.go); nil when not configured

	viewsOf map[string][]*view // underlying topic -> views over it (view.go); fixed in New
	exp     *expirer           // SOW expiration (expiration.go); nil when no topic expires records
	queues  *queues            // message queues (queue.go); nil when none is configured

	wg        sync.WaitGroup
	flushStop chan struct{}
}

// Option configures a Server.
type Option func(*Server)

// WithClock replaces the wall clock (for tests of time-driven behaviour).
func WithClock(c Clock) Option { return func(s *Server) { s.clock = c } }

// WithLogger sets the logger (default slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(s *Server) { s.log = l } }

// WithSOWObserver registers fn to be called for every SOW record change,
// synchronously and in order per topic (under the topic's lock: fn must not
// call back into the server).
func WithSOWObserver(fn func(RecordChange)) Option {
	return func(s *Server) { s.observers = append(s.observers, fn) }
}

// New validates cfg and opens the SOW stores; nothing listens until Start.
func New(cfg *Config, opts ...Option) (*Server, error) {
	if cfg == nil {
		cfg = DefaultConfig()
	}
	c := *cfg
	if c.MaxOutboundBytes <= 0 {
		c.MaxOutboundBytes = DefaultMaxOutboundBytes
	}
	if c.MaxFrame <= 0 {
		c.MaxFrame = DefaultMaxFrame
	}
	s := &Server{
		cfg:       &c,
		log:       slog.Default(),
		clock:     realClock{},
		topics:    map[string]*topic{},
		clients:   map[*client]struct{}{},
		byName:    map[string]*client{},
		lastSeq:   map[string]uint64{},
		listeners: map[string]net.Listener{},
		flushStop: make(chan struct{}),
	}
	for _, o := range opts {
		o(s)
	}
	s.subs.Store(&subList{})
	for _, w := range c.Warnings {
		s.log.Warn("config", "warning", w)
	}
	if err := s.prepareJournal(); err != nil {
		return nil, err
	}
	for i := range c.SOW {
		sc := &c.SOW[i]
		t := &topic{name: sc.Name, cfg: sc}
		for _, k := range sc.Keys {
			e, err := compileExpr(k)
			if err != nil {
				s.closeStores()
				return nil, fmt.Errorf("SOW topic %q: Key %q: %w", sc.Name, k, err)
			}
			t.keys = append(t.keys, e)
		}
		if err := t.initProcessing(sc); err != nil {
			s.closeStores()
			return nil, err
		}
		if sc.FileName != "" {
			st, err := openFileStore(sowFileName(sc.FileName, sc.Name))
			if err != nil {
				s.closeStores()
				return nil, err
			}
			t.sow = st
		} else {
			t.sow = newMemStore()
		}
		s.topics[sc.Name] = t
	}
	s.initExpiration()
	if err := s.startJournal(); err != nil {
		s.closeStores()
		return nil, err
	}
	if err := s.initViews(); err != nil {
		s.closeStores()
		return nil, err
	}
	if err := s.initQueues(); err != nil {
		s.closeStores()
		return nil, err
	}
	if err := s.initReplication(); err != nil {
		s.closeStores()
		return nil, err
	}
	for _, tc := range c.Transports {
		if tc.Type == "tcps" {
			if _, err := tls.LoadX509KeyPair(tc.Certificate, tc.PrivateKey); err != nil {
				s.closeStores()
				return nil, fmt.Errorf("transport %q: %w", tc.Name, err)
			}
		}
	}
	return s, nil
}

// Start opens every transport and the admin interface. ctx bounds only the
// start itself; use Shutdown to stop.
func (s *Server) Start(ctx context.Context) error {
	s.mu.Lock()
	if s.started {
		s.mu.Unlock()
		return errors.New("ampserver: already started")
	}
	s.started = true
	s.mu.Unlock()
	for _, tc := range s.cfg.Transports {
		if err := ctx.Err(); err != nil {
			s.Shutdown(context.Background())
			return err
		}
		if err := s.listen(ctx, tc); err != nil {
			s.Shutdown(context.Background())
			return err
		}
	}
	if s.cfg.Admin.InetAddr != "" {
		if err := s.startAdmin(ctx); err != nil {
			s.Shutdown(context.Background())
			return err
		}
	}
	s.wg.Add(1)
	go s.flushLoop()
	s.startReplication()
	s.log.Info("ampserver started", "name", s.cfg.Name)
	return nil
}

func (s *Server) listen(ctx context.Context, tc TransportConfig) error {
	if tc.Compression != "" && (tc.Compression != CompressionZlib || tc.Protocol == "websocket" || tc.Type == TransportReplication) {
		return fmt.Errorf("transport %q: Compression %q: only zlib, on tcp and tcps transports of the amps protocol", tc.Name, tc.Compression)
	}
	if tc.Type == TransportReplication {
		return s.listenReplication(ctx, tc)
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", tc.InetAddr)
	if err != nil {
		return fmt.Errorf("transport %q: %w", tc.Name, err)
	}
	if tc.Type == "tcps" {
		cert, err := tls.LoadX509KeyPair(tc.Certificate, tc.PrivateKey)
		if err != nil {
			ln.Close()
			return fmt.Errorf("transport %q: %w", tc.Name, err)
		}
		ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
	}
	s.mu.Lock()
	s.listeners[tc.Name] = ln
	s.mu.Unlock()
	s.log.Info("transport listening", "transport", tc.Name, "protocol", tc.Protocol, "addr", ln.Addr().String())
	if tc.Protocol == "websocket" {
		hs := &http.Server{Handler: s.websocketHandler(tc), ReadHeaderTimeout: 10 * time.Second}
		s.mu.Lock()
		s.httpSrvs = append(s.httpSrvs, hs)
		s.mu.Unlock()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				s.log.Error("websocket transport stopped", "transport", tc.Name, "err", err)
			}
		}()
		return nil
	}
	s.wg.Add(1)
	go s.acceptLoop(ln, tc)
	return nil
}

func (s *Server) acceptLoop(ln net.Listener, tc TransportConfig) {
	defer s.wg.Done()
	for {
		nc, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			s.log.Warn("accept", "transport", tc.Name, "err", err)
			time.Sleep(10 * time.Millisecond) // a transient accept error (e.g. EMFILE) must not spin
			continue
		}
		if tc.Compression == CompressionZlib {
			s.serveConn(newCompressedStreamConn(nc, s.cfg.MaxFrame), tc.Name)
			continue
		}
		s.serveConn(newStreamConn(nc, s.cfg.MaxFrame), tc.Name)
	}
}

// Addr returns the listening address of the named transport, or nil.
func (s *Server) Addr(transportName string) net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ln := s.listeners[transportName]; ln != nil {
		return ln.Addr()
	}
	return nil
}

// TCPAddr returns the address of the first amps-protocol transport, or nil.
func (s *Server) TCPAddr() net.Addr {
	for _, tc := range s.cfg.Transports {
		if tc.Protocol == "amps" {
			return s.Addr(tc.Name)
		}
	}
	return nil
}

// AdminAddr returns the admin HTTP address, or nil.
func (s *Server) AdminAddr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.adminLn == nil {
		return nil
	}
	return s.adminLn.Addr()
}

// Shutdown stops listening, disconnects every client, waits for the
// server's goroutines (or ctx) and closes the SOW stores.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		return nil
	}
	s.closing = true
	lns := s.listeners
	hss := s.httpSrvs
	clients := make([]*client, 0, len(s.clients))
	for c := range s.clients {
		clients = append(clients, c)
	}
	s.mu.Unlock()
	close(s.flushStop)
	s.stopExpiration()
	for _, hs := range hss {
		hs.Close()
	}
	for _, ln := range lns {
		ln.Close()
	}
	for _, c := range clients {
		c.close("server shutdown")
	}
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		err = ctx.Err()
	}
	if cerr := s.closeStores(); err == nil {
		err = cerr
	}
	s.log.Info("ampserver stopped", "name", s.cfg.Name)
	return err
}

func (s *Server) closeStores() error {
	var first error
	for _, t := range s.topics {
		if t.sow == nil {
			continue
		}
		t.mu.Lock()
		if err := t.sow.close(); err != nil && first == nil {
			first = fmt.Errorf("SOW topic %q: %w", t.name, err)
		}
		t.mu.Unlock()
	}
	if s.queues != nil {
		if err := s.queues.close(); err != nil && first == nil {
			first = err
		}
	}
	if err := s.closeJournal(); err != nil && first == nil {
		first = err
	}
	return first
}

// flushLoop pushes SOW file writes to the operating system every 100ms, so
// that a crash of the process loses at most that much.
func (s *Server) flushLoop() {
	defer s.wg.Done()
	tk := time.NewTicker(100 * time.Millisecond)
	defer tk.Stop()
	for {
		select {
		case <-s.flushStop:
			return
		case <-tk.C:
			for _, t := range s.sowTopics() {
				t.mu.Lock()
				if err := t.sow.flush(); err != nil {
					s.log.Error("SOW flush", "topic", t.name, "err", err)
				}
				t.mu.Unlock()
			}
		}
	}
}

// topic returns the named topic, creating a SOW-less one on first use.
func (s *Server) topic(name string) *topic {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.topics[name]
	if t == nil {
		t = &topic{name: name}
		s.topics[name] = t
	}
	return t
}

// sowTopics returns the SOW topics in lock order (view.go: topicBefore).
func (s *Server) sowTopics() []*topic {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ts []*topic
	for _, t := range s.topics {
		if t.sow != nil {
			ts = append(ts, t)
		}
	}
	sort.Slice(ts, func(i, j int) bool { return topicBefore(ts[i], ts[j]) }) // views after their underlying topics
	return ts
}

// resolveSOW returns the SOW topics a query names: the literal topic, or
// every SOW topic the regex matches. ok is false for a literal topic that
// has no SOW.
func (s *Server) resolveSOW(name string, re *regexp.Regexp) (ts []*topic) {
	for _, t := range s.sowTopics() {
		if (re != nil && re.MatchString(t.name)) || (re == nil && t.name == name) {
			ts = append(ts, t)
		}
	}
	return ts
}

func (s *Server) addSub(sub *subscription) {
	s.mu.Lock() // serialises writers of the copy-on-write list
	defer s.mu.Unlock()
	old := s.subs.Load().subs
	n := make([]*subscription, 0, len(old)+1)
	n = append(n, old...)
	s.subs.Store(&subList{subs: append(n, sub)})
}

// removeSubs drops the subscriptions of c for which drop returns true.
func (s *Server) removeSubs(drop func(*subscription) bool) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.subs.Load().subs
	n := make([]*subscription, 0, len(old))
	for _, sub := range old {
		if !drop(sub) {
			n = append(n, sub)
		} else {
			if sub.ext != nil {
				sub.ext.stop()
			}
			if sub.replay != nil {
				sub.replay.stop()
			}
		}
	}
	s.subs.Store(&subList{subs: n})
	return len(old) - len(n)
}

func (s *Server) notify(rc RecordChange) {
	s.extRecordChange(rc)
	for _, fn := range s.observers {
		fn(rc)
	}
	s.updateViews(rc)
}
