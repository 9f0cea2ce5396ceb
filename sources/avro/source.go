package avro

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"path"
	"strconv"
	"strings"
	"sync"

	"ampsflume/avrorpc"
	"ampsflume/flume"
)

// Spec declares the source's type names and keys.
var Spec = flume.Spec{
	Alias: "avro",
	Class: "org.apache.flume.source.AvroSource",
	Doc:   "Receives events from avro sinks and clients over Flume's Avro RPC protocol.",
	Keys: []flume.Key{
		{Name: "type", Type: "string", Required: true, Doc: "avro or org.apache.flume.source.AvroSource"},
		{Name: "channels", Type: "string", Required: true, Doc: "Channels to write to, separated by spaces."},
		{Name: "bind", Type: "string", Required: true, Doc: "Address to listen on (0.0.0.0 for all)."},
		{Name: "port", Type: "int", Required: true, Doc: "Port to listen on."},
		{Name: "threads", Type: "int", Doc: "Maximum number of calls handled at once; unbounded when unset."},
		{Name: "compression-type", Type: "string", Default: "none", Doc: "none or deflate; must match the sending sink."},
		{Name: "ipFilter", Type: "bool", Default: "false", Doc: "Filter connections with ipFilterRules."},
		{Name: "ipFilterRules", Type: "string", Doc: "Comma-separated allow|deny:ip|name:pattern rules, first match wins, e.g. allow:ip:127.*,deny:ip:*"},
	},
}

func init() {
	flume.RegisterSource(Spec, func(env flume.SourceEnv) (flume.Source, error) {
		cfg, err := ParseConfig(env.Config)
		if err != nil {
			return nil, err
		}
		s := New(env.Name, cfg, env.Processor, env.Counter)
		s.log = env.Log()
		return s, nil
	})
}

// Config is the source's configuration.
type Config struct {
	Bind    string
	Port    int
	Threads int
	Deflate bool
	// Rules filter connections when not nil.
	Rules []Rule
}

// ParseConfig reads the source's keys, reporting every bad one.
func ParseConfig(ctx *flume.Context) (Config, error) {
	var c Config
	var errs flume.ConfigErrors
	var err error
	c.Bind, err = ctx.RequiredString("bind")
	errs.Add(err)
	if !ctx.Has("port") {
		errs.Add(ctx.Errorf("port", "is required"))
	} else {
		port, err := ctx.IntRange("port", 0, 0, 65535)
		errs.Add(err)
		c.Port = int(port)
	}
	if ctx.Has("threads") {
		threads, err := ctx.IntRange("threads", 1, 1, 1<<16)
		errs.Add(err)
		c.Threads = int(threads)
	}
	switch ct := strings.ToLower(strings.TrimSpace(ctx.String("compression-type", "none"))); ct {
	case "none":
	case "deflate":
		c.Deflate = true
	default:
		errs.Add(ctx.Errorf("compression-type", "%q is not none or deflate", ct))
	}
	filter, err := ctx.Bool("ipFilter", false)
	errs.Add(err)
	if filter {
		rules, err := ctx.RequiredString("ipFilterRules")
		if !errs.Add(err) {
			if c.Rules, err = ParseRules(rules); err != nil {
				errs.Add(ctx.Errorf("ipFilterRules", "%v", err))
			}
		}
	}
	return c, errs.Err()
}

// Rule is one ipFilterRules entry.
type Rule struct {
	Allow   bool
	ByName  bool // match the reverse-resolved host name instead of the IP
	Pattern string
}

// ParseRules parses Flume's ipFilterRules syntax.
func ParseRules(s string) ([]Rule, error) {
	var out []Rule
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		f := strings.SplitN(part, ":", 3)
		if len(f) != 3 || f[2] == "" {
			return nil, fmt.Errorf("rule %q is not allow|deny:ip|name:pattern", part)
		}
		var r Rule
		switch f[0] {
		case "allow":
			r.Allow = true
		case "deny":
		default:
			return nil, fmt.Errorf("rule %q: %q is not allow or deny", part, f[0])
		}
		switch f[1] {
		case "ip":
		case "name":
			r.ByName = true
		default:
			return nil, fmt.Errorf("rule %q: %q is not ip or name", part, f[1])
		}
		if _, err := path.Match(f[2], ""); err != nil {
			return nil, fmt.Errorf("rule %q: bad pattern: %w", part, err)
		}
		r.Pattern = f[2]
		out = append(out, r)
	}
	return out, nil
}

// allowed applies rules to a remote address; the first matching rule
// decides and an address no rule matches is allowed.
func allowed(rules []Rule, addr net.Addr, lookup func(string) []string) bool {
	host, _, err := net.SplitHostPort(addr.String())
	if err != nil {
		host = addr.String()
	}
	var names []string
	for _, r := range rules {
		if r.ByName {
			if names == nil {
				names = append(lookup(host), "")
			}
			for _, n := range names {
				if ok, _ := path.Match(r.Pattern, strings.TrimSuffix(n, ".")); ok && n != "" {
					return r.Allow
				}
			}
			continue
		}
		if ok, _ := path.Match(r.Pattern, host); ok {
			return r.Allow
		}
	}
	return true
}

// Source is an avro source.
type Source struct {
	name      string
	cfg       Config
	processor flume.ChannelProcessor
	counter   *flume.SourceCounter
	log       *slog.Logger

	mu     sync.Mutex
	server *avrorpc.Server
	addr   net.Addr
	done   chan struct{}
}

var _ flume.Source = (*Source)(nil)

// New returns an avro source delivering to p. A nil counter is replaced by a
// fresh one.
func New(name string, cfg Config, p flume.ChannelProcessor, counter *flume.SourceCounter) *Source {
	if counter == nil {
		counter = &flume.SourceCounter{}
	}
	return &Source{name: name, cfg: cfg, processor: p, counter: counter, log: slog.With("source", name)}
}

// Start listens and serves in the background.
func (s *Source) Start(context.Context) error {
	addr := net.JoinHostPort(s.cfg.Bind, strconv.Itoa(s.cfg.Port))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("avro source %q: listen on %s: %w", s.name, addr, err)
	}
	sc := avrorpc.ServerConfig{
		Deflate:       s.cfg.Deflate,
		MaxConcurrent: s.cfg.Threads,
		OnConn:        func(d int) { s.counter.OpenConnection.Add(int64(d)) },
		OnBadRequest:  func(error) { s.counter.EventReadFail.Add(1) },
		Logger:        s.log,
	}
	if s.cfg.Rules != nil {
		rules := s.cfg.Rules
		sc.Accept = func(a net.Addr) bool {
			return allowed(rules, a, func(h string) []string { n, _ := net.LookupAddr(h); return n })
		}
	}
	srv := avrorpc.NewServer(handler{s}, sc)
	done := make(chan struct{})
	s.mu.Lock()
	s.server, s.addr, s.done = srv, ln.Addr(), done
	s.mu.Unlock()
	go func() {
		defer close(done)
		if err := srv.Serve(ln); err != nil {
			s.log.Error("avro source stopped serving", "err", err)
		}
	}()
	s.counter.MarkStarted()
	s.log.Info("avro source listening", "addr", ln.Addr().String())
	return nil
}

// Addr is the address the source listens on, once started (useful with
// port 0).
func (s *Source) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addr
}

// Stop closes the listener and every connection.
func (s *Source) Stop() error {
	s.mu.Lock()
	srv, done := s.server, s.done
	s.server = nil
	s.mu.Unlock()
	if srv == nil {
		return nil
	}
	err := srv.Close()
	<-done
	s.counter.MarkStopped()
	return err
}

type handler struct{ s *Source }

func (h handler) Append(_ context.Context, events []*flume.Event, batch bool) avrorpc.Status {
	c := h.s.counter
	n := int64(len(events))
	if batch {
		c.AppendBatchReceived.Add(1)
	} else {
		c.AppendReceived.Add(1)
	}
	c.EventReceived.Add(n)
	if err := h.s.processor.ProcessEventBatch(events); err != nil {
		c.ChannelWriteFail.Add(1)
		h.s.log.Warn("avro source could not store events; answered FAILED", "events", n, "err", err)
		return avrorpc.Failed
	}
	if batch {
		c.AppendBatchAccepted.Add(1)
	} else {
		c.AppendAccepted.Add(1)
	}
	c.EventAccepted.Add(n)
	return avrorpc.OK
}
