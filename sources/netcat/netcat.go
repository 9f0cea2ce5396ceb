package netcat

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"ampsflume/flume"
)

// DefaultMaxLineLength is Flume's default.
const DefaultMaxLineLength = 512

// Spec declares the source's type names and keys.
var Spec = flume.Spec{
	Alias: "netcat",
	Class: "org.apache.flume.source.NetcatSource",
	Doc:   "Listens on a TCP port and turns each line of text into an event.",
	Keys: []flume.Key{
		{Name: "type", Type: "string", Required: true, Doc: "netcat or org.apache.flume.source.NetcatSource"},
		{Name: "channels", Type: "string", Required: true, Doc: "Channels to write to, separated by spaces."},
		{Name: "bind", Type: "string", Required: true, Doc: "Host name or IP address to listen on."},
		{Name: "port", Type: "int", Required: true, Doc: "TCP port to listen on (0 picks a free port)."},
		{Name: "max-line-length", Type: "int", Default: "512", Doc: "Longest line accepted, in characters including the newline; a longer line fails and closes the connection."},
		{Name: "ack-every-event", Type: "bool", Default: "true", Doc: "Answer \"OK\" for every event delivered."},
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
	Bind          string
	Port          int
	MaxLineLength int
	AckEveryEvent bool
}

// ParseConfig reads the source's keys, reporting every bad one.
func ParseConfig(ctx *flume.Context) (Config, error) {
	var cfg Config
	var errs flume.ConfigErrors
	var err error
	cfg.Bind, err = ctx.RequiredString("bind")
	errs.Add(err)
	if _, err := ctx.RequiredString("port"); !errs.Add(err) {
		port, err := ctx.IntRange("port", 0, 0, 65535)
		errs.Add(err)
		cfg.Port = int(port)
	}
	mll, err := ctx.IntRange("max-line-length", DefaultMaxLineLength, 1, 1<<30)
	errs.Add(err)
	cfg.MaxLineLength = int(mll)
	cfg.AckEveryEvent, err = ctx.Bool("ack-every-event", true)
	errs.Add(err)
	return cfg, errs.Err()
}

// Source is a netcat source.
type Source struct {
	name      string
	cfg       Config
	processor flume.ChannelProcessor
	counter   *flume.SourceCounter
	log       *slog.Logger

	mu       sync.Mutex
	listener net.Listener
	conns    map[net.Conn]struct{}
	wg       sync.WaitGroup
}

// New returns a netcat source. A nil counter is replaced by a fresh one.
func New(name string, cfg Config, p flume.ChannelProcessor, counter *flume.SourceCounter) *Source {
	if cfg.MaxLineLength < 1 {
		cfg.MaxLineLength = DefaultMaxLineLength
	}
	if counter == nil {
		counter = new(flume.SourceCounter)
	}
	return &Source{name: name, cfg: cfg, processor: p, counter: counter, log: slog.With("source", name)}
}

// Counter returns the source's counter.
func (s *Source) Counter() *flume.SourceCounter { return s.counter }

// Addr is the address listened on, nil before Start.
func (s *Source) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.listener == nil {
		return nil
	}
	return s.listener.Addr()
}

// Start listens and serves connections until Stop.
func (s *Source) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.listener != nil {
		return fmt.Errorf("netcat source %q: already started", s.name)
	}
	addr := net.JoinHostPort(s.cfg.Bind, strconv.Itoa(s.cfg.Port))
	var lc net.ListenConfig
	l, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("netcat source %q: %w", s.name, err)
	}
	s.listener = l
	s.conns = map[net.Conn]struct{}{}
	s.wg.Add(1)
	go s.accept(l)
	s.counter.MarkStarted()
	s.log.Info("netcat source listening", "addr", l.Addr().String())
	return nil
}

// Stop closes the listener and every connection and waits for their
// goroutines.
func (s *Source) Stop() error {
	s.mu.Lock()
	l := s.listener
	s.listener = nil
	if l != nil {
		_ = l.Close()
	}
	for c := range s.conns {
		_ = c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
	s.counter.MarkStopped()
	return nil
}

func (s *Source) accept(l net.Listener) {
	defer s.wg.Done()
	for {
		c, err := l.Accept()
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				s.log.Error("accept failed; source stops listening", "err", err)
			}
			return
		}
		s.mu.Lock()
		if s.listener != l { // stopped meanwhile
			s.mu.Unlock()
			_ = c.Close()
			return
		}
		s.conns[c] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		s.counter.OpenConnection.Add(1)
		go func() {
			defer s.wg.Done()
			s.serve(c, c)
			_ = c.Close()
			s.counter.OpenConnection.Add(-1)
			s.mu.Lock()
			delete(s.conns, c)
			s.mu.Unlock()
		}()
	}
}

// serve turns the lines read from r into events, answering on w, until the
// client disconnects or sends a line that is too long.
func (s *Source) serve(r io.Reader, w io.Writer) {
	br := bufio.NewReaderSize(r, 4096)
	bw := bufio.NewWriter(w)
	defer bw.Flush()
	var line []byte
	for {
		chunk, err := br.ReadSlice('\n')
		line = append(line, chunk...)
		content := line
		if n := len(content); n > 0 && content[n-1] == '\n' {
			content = content[:n-1]
		}
		// Flume reads into a buffer of max-line-length characters and
		// gives up when it fills without a newline.
		if len(content) >= s.cfg.MaxLineLength && utf8.RuneCount(content) >= s.cfg.MaxLineLength {
			s.counter.EventReadFail.Add(1)
			s.log.Warn("client sent an event exceeding the maximum length; closing the connection",
				"max-line-length", s.cfg.MaxLineLength)
			fmt.Fprintf(bw, "FAILED: Event exceeds the maximum length (%d chars, including newline)\n", s.cfg.MaxLineLength)
			return
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if err != nil {
			return // disconnected; a partial last line is not an event
		}
		body := make([]byte, len(content))
		copy(body, content)
		line = line[:0]
		s.deliver(bw, body)
		// Answer as soon as the client has nothing more queued, so a
		// client waiting for its OK gets it, and a burst costs one write.
		if br.Buffered() == 0 {
			if bw.Flush() != nil {
				return
			}
		}
	}
}

func (s *Source) deliver(w *bufio.Writer, body []byte) {
	s.counter.EventReceived.Add(1)
	s.counter.AppendReceived.Add(1)
	if err := s.processor.ProcessEvent(flume.NewEvent(body, nil)); err != nil {
		s.counter.ChannelWriteFail.Add(1)
		s.log.Warn("error processing event", "err", err)
		w.WriteString("FAILED: ")
		// One answer per line: a multi-line message would desynchronise
		// the client.
		w.WriteString(strings.ReplaceAll(err.Error(), "\n", " "))
		w.WriteByte('\n')
		return
	}
	s.counter.EventAccepted.Add(1)
	s.counter.AppendAccepted.Add(1)
	if s.cfg.AckEveryEvent {
		w.WriteString("OK\n")
	}
}
