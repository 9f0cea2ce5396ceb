package avrorpc

import (
	"bufio"
	"bytes"
	"compress/zlib"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"

	"github.com/hamba/avro/v2"

	"ampsflume/flume"
)

// Handler receives the events of append and appendBatch calls. It returns OK
// only once the events are safely stored (committed to every required
// channel); anything else tells the client to keep them and retry.
type Handler interface {
	Append(ctx context.Context, events []*flume.Event, batch bool) Status
}

// ServerConfig configures a Server. The zero value is usable.
type ServerConfig struct {
	// Deflate expects and sends a zlib stream, as Flume's
	// compression-type=deflate; both ends must agree.
	Deflate bool
	// DeflateLevel is the zlib level of responses (default 6).
	DeflateLevel int
	// MaxConcurrent bounds how many calls run the Handler at once across
	// all connections (Flume's threads); 0 means unbounded.
	MaxConcurrent int
	// Accept, when set, decides whether a new connection from addr is
	// served (Flume's ipFilter); refused connections are closed at once.
	Accept func(addr net.Addr) bool
	// MaxFrameBytes bounds one request (default DefaultMaxFrameBytes).
	MaxFrameBytes int
	// OnConn is called with +1 when a connection is accepted and -1 when it
	// closes.
	OnConn func(delta int)
	// OnBadRequest is called when a connection is closed because of a
	// malformed request.
	OnBadRequest func(err error)
	Logger       *slog.Logger
}

// Server answers AvroSourceProtocol calls on the connections of a listener.
// Calls of one connection are handled in order, one at a time, as Netty's
// ordered executor does for Flume; connections are independent.
type Server struct {
	h   Handler
	cfg ServerConfig
	sem chan struct{}

	ctx    context.Context
	cancel context.CancelFunc

	mu     sync.Mutex
	ln     net.Listener
	conns  map[net.Conn]struct{}
	closed bool
	wg     sync.WaitGroup
}

// NewServer returns a server delivering calls to h.
func NewServer(h Handler, cfg ServerConfig) *Server {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.DeflateLevel == 0 {
		cfg.DeflateLevel = 6
	}
	s := &Server{h: h, cfg: cfg, conns: map[net.Conn]struct{}{}}
	if cfg.MaxConcurrent > 0 {
		s.sem = make(chan struct{}, cfg.MaxConcurrent)
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	return s
}

// Serve accepts connections on ln until Close. It returns nil after Close.
func (s *Server) Serve(ln net.Listener) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		ln.Close()
		return nil
	}
	s.ln = ln
	s.wg.Add(1)
	s.mu.Unlock()
	defer s.wg.Done()
	for {
		c, err := ln.Accept()
		if err != nil {
			s.mu.Lock()
			closed := s.closed
			s.mu.Unlock()
			if closed {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return fmt.Errorf("avrorpc: accept: %w", err)
		}
		if s.cfg.Accept != nil && !s.cfg.Accept(c.RemoteAddr()) {
			s.cfg.Logger.Warn("avro connection refused by ipFilter", "remote", c.RemoteAddr().String())
			c.Close()
			continue
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			c.Close()
			return nil
		}
		s.conns[c] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go s.serveConn(c)
	}
}

// Close stops accepting, closes every connection and waits for their
// goroutines. A call being handled finishes first; its response is lost and
// the client retries, which is the at-least-once contract.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.cancel()
	var err error
	if s.ln != nil {
		err = s.ln.Close()
	}
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
	return err
}

func (s *Server) serveConn(c net.Conn) {
	defer s.wg.Done()
	if s.cfg.OnConn != nil {
		s.cfg.OnConn(1)
		defer s.cfg.OnConn(-1)
	}
	defer func() {
		c.Close()
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
	}()
	err := s.converse(c)
	if err == nil || errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) {
		return
	}
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	if closed {
		return
	}
	if s.cfg.OnBadRequest != nil {
		s.cfg.OnBadRequest(err)
	}
	s.cfg.Logger.Warn("avro connection closed", "remote", c.RemoteAddr().String(), "err", err)
}

// converse runs one connection until it ends, returning why.
func (s *Server) converse(c net.Conn) error {
	var in io.Reader = bufio.NewReaderSize(c, 64<<10)
	var zw *zlib.Writer
	if s.cfg.Deflate {
		zr, err := zlib.NewReader(in)
		if err != nil {
			return fmt.Errorf("deflate stream: %w", err)
		}
		in = bufio.NewReaderSize(zr, 64<<10)
		zw, err = zlib.NewWriterLevel(c, s.cfg.DeflateLevel)
		if err != nil {
			return err
		}
	}
	established := false
	var out []byte
	var payload bytes.Buffer
	w := avro.NewWriter(&payload, 512, avro.WithWriterConfig(api))
	for {
		serial, msg, err := ReadFrame(in, s.cfg.MaxFrameBytes)
		if err != nil {
			return err
		}
		payload.Reset()
		r := newReader(msg)
		if !established {
			ok, err := s.handshake(r, w)
			if err != nil {
				return err
			}
			if !ok {
				if err := s.send(c, zw, &out, serial, w, &payload); err != nil {
					return err
				}
				continue
			}
			established = true
		}
		name, events, err := readCall(r)
		if err != nil {
			return err
		}
		if events == nil {
			writeError(w, fmt.Sprintf("unknown message %q", name))
		} else {
			writeResult(w, s.handle(events, name == msgAppendBatch))
		}
		if err := s.send(c, zw, &out, serial, w, &payload); err != nil {
			return err
		}
	}
}

// handshake reads a HandshakeRequest and writes the response; ok reports
// whether the call that follows it should be answered.
func (s *Server) handshake(r *avro.Reader, w *avro.Writer) (ok bool, err error) {
	var req handshakeRequest
	r.ReadVal(handshakeRequestSchema, &req)
	if r.Error != nil {
		return false, fmt.Errorf("handshake: %w", r.Error)
	}
	resp := handshakeResponse{Match: matchBoth}
	known := req.ClientHash == ProtocolHash
	if !known && req.ClientProtocol != nil {
		if err := checkProtocol(*req.ClientProtocol); err != nil {
			return false, fmt.Errorf("handshake: %w", err)
		}
		known = true
	}
	if !known {
		resp.Match = matchNone
	} else if req.ServerHash != ProtocolHash {
		resp.Match = matchClient
	}
	if resp.Match != matchBoth {
		text, hash := ProtocolJSON, ProtocolHash
		resp.ServerProtocol, resp.ServerHash = &text, &hash
	}
	w.WriteVal(handshakeResponseSchema, resp)
	return known, nil
}

func (s *Server) handle(events []*flume.Event, batch bool) Status {
	if s.sem != nil {
		select {
		case s.sem <- struct{}{}:
			defer func() { <-s.sem }()
		case <-s.ctx.Done():
			return Failed
		}
	}
	return s.h.Append(s.ctx, events, batch)
}

// send frames the payload built in w and writes it.
func (s *Server) send(c net.Conn, zw *zlib.Writer, out *[]byte, serial int32, w *avro.Writer, payload *bytes.Buffer) error {
	if err := w.Flush(); err != nil {
		return err
	}
	*out = AppendFrame((*out)[:0], serial, payload.Bytes())
	if zw == nil {
		_, err := c.Write(*out)
		return err
	}
	if _, err := zw.Write(*out); err != nil {
		return err
	}
	return zw.Flush()
}
