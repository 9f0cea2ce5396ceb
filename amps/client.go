package amps

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Client is a connection to one AMPS server. Its methods are safe for
// concurrent use.
type Client struct {
	name string
	opts options

	mu           sync.Mutex
	cn           *conn
	live         atomic.Pointer[conn] // cn while usable: current's fast path
	closed       bool
	logon        LogonInfo
	onDisconnect func(error)
	onPersisted  func(seq uint64)
	onUnhandled  func(*Message)

	cidSeq atomic.Uint64
}

// NewClient returns a client that logs on as name. AMPS requires client names
// to be unique among connected clients when a transaction log is configured.
func NewClient(name string, opts ...Option) *Client {
	c := &Client{name: name}
	c.opts.streamBuffer = DefaultStreamBuffer
	c.opts.version = ClientVersion
	for _, o := range opts {
		o(&c.opts)
	}
	if c.opts.logger == nil {
		c.opts.logger = slog.New(slog.DiscardHandler)
	}
	if c.opts.streamBuffer < 1 {
		c.opts.streamBuffer = 1
	}
	if c.opts.heartbeat > 0 && c.opts.heartbeatTimeout <= 0 {
		c.opts.heartbeatTimeout = 2 * c.opts.heartbeat
	}
	return c
}

// Name is the client name sent at logon.
func (c *Client) Name() string { return c.name }

// OnDisconnect sets fn to be called, on a goroutine of the client, each time
// a connection is lost without Close or Disconnect having been called. The
// client may be connected again from within fn.
func (c *Client) OnDisconnect(fn func(err error)) {
	c.mu.Lock()
	c.onDisconnect = fn
	c.mu.Unlock()
}

// OnPersisted sets fn to receive the sequence number of every conflated
// persisted ack (a=persisted with s and no cid): the server has persisted all
// of this client's publishes up to seq. fn runs on the reader goroutine.
func (c *Client) OnPersisted(fn func(seq uint64)) {
	c.mu.Lock()
	c.onPersisted = fn
	c.mu.Unlock()
}

// OnUnhandled sets fn to receive messages that match no command or
// subscription (for example deliveries that were in flight during an
// unsubscribe). fn runs on the reader goroutine.
func (c *Client) OnUnhandled(fn func(*Message)) {
	c.mu.Lock()
	c.onUnhandled = fn
	c.mu.Unlock()
}

// Connect dials uri and starts the connection's goroutines. It does not log
// on. After a disconnect Connect may be called again.
func (c *Client) Connect(ctx context.Context, uri string) error {
	u, err := ParseURI(uri)
	if err != nil {
		return err
	}
	c.mu.Lock()
	switch {
	case c.closed:
		c.mu.Unlock()
		return ErrClosed
	case c.cn != nil:
		c.mu.Unlock()
		return ErrAlreadyConnected
	}
	c.mu.Unlock()

	nc, err := c.dial(ctx, u)
	if err != nil {
		return fmt.Errorf("amps: connect %s: %w", u, err)
	}
	cn := newConn(c, nc, u)
	c.mu.Lock()
	if c.closed || c.cn != nil {
		c.mu.Unlock()
		_ = nc.Close()
		if c.closed {
			return ErrClosed
		}
		return ErrAlreadyConnected
	}
	c.cn = cn
	c.live.Store(cn)
	c.mu.Unlock()
	cn.start()
	return nil
}

func (c *Client) dial(ctx context.Context, u *URI) (net.Conn, error) {
	network := "tcp"
	switch u.Options.IPPrefer {
	case "ipv4":
		network = "tcp4"
	case "ipv6":
		network = "tcp6"
	}
	var nc net.Conn
	var err error
	if u.Transport == "ws" || u.Transport == "wss" {
		var cfg *tls.Config
		if u.Transport == "wss" {
			cfg = &tls.Config{ServerName: u.Host}
			if c.opts.tls != nil {
				cfg = c.opts.tls.Clone()
			}
		}
		return dialWebSocket(ctx, u, cfg, c.opts.maxFrame)
	}
	if c.opts.dial != nil {
		nc, err = c.opts.dial(ctx, network, u.Address())
	} else {
		d := net.Dialer{}
		if u.Options.Bind != "" {
			if d.LocalAddr, err = net.ResolveTCPAddr(network, u.Options.Bind); err != nil {
				return nil, fmt.Errorf("bind address: %w", err)
			}
		}
		nc, err = d.DialContext(ctx, network, u.Address())
	}
	if err != nil {
		return nil, err
	}
	if tc, ok := nc.(*net.TCPConn); ok {
		if err := applyTCPOptions(tc, &u.Options); err != nil {
			_ = nc.Close()
			return nil, err
		}
	}
	if u.Transport == "tcps" {
		cfg := &tls.Config{}
		if c.opts.tls != nil {
			cfg = c.opts.tls.Clone()
		}
		if cfg.ServerName == "" && !cfg.InsecureSkipVerify {
			cfg.ServerName = u.Host
		}
		tc := tls.Client(nc, cfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			_ = nc.Close()
			return nil, fmt.Errorf("tls handshake: %w", err)
		}
		nc = tc
	}
	if u.Options.Compression == CompressionZlib {
		dc, err := newDeflateConn(nc)
		if err != nil {
			_ = nc.Close()
			return nil, err
		}
		nc = dc
	}
	return nc, nil
}

func applyTCPOptions(tc *net.TCPConn, o *URIOptions) error {
	if _, ok := o.Raw["tcp_nodelay"]; ok {
		if err := tc.SetNoDelay(o.NoDelay); err != nil {
			return err
		}
	}
	if err := tc.SetKeepAlive(o.KeepAlive); err != nil {
		return err
	}
	if o.RecvBuf > 0 {
		if err := tc.SetReadBuffer(o.RecvBuf); err != nil {
			return err
		}
	}
	if o.SendBuf > 0 {
		if err := tc.SetWriteBuffer(o.SendBuf); err != nil {
			return err
		}
	}
	if o.Linger >= 0 {
		if err := tc.SetLinger(o.Linger); err != nil {
			return err
		}
	}
	return nil
}

// current returns the live connection.
func (c *Client) current() (*conn, error) {
	// Every publish asks: a connected, open client answers without mu.
	if cn := c.live.Load(); cn != nil {
		return cn, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, ErrClosed
	}
	if c.cn == nil {
		return nil, ErrNotConnected
	}
	return c.cn, nil
}

// Connected tells whether the client has a live connection.
func (c *Client) Connected() bool {
	_, err := c.current()
	return err == nil
}

// URI returns the URI of the current connection, or nil.
func (c *Client) URI() *URI {
	cn, err := c.current()
	if err != nil {
		return nil
	}
	return cn.uri
}

// Disconnect closes the current connection, if any, without calling the
// OnDisconnect hook. Streams end with an error wrapping ErrDisconnected. The
// client can connect again.
func (c *Client) Disconnect() error {
	c.mu.Lock()
	cn := c.cn
	c.mu.Unlock()
	if cn == nil {
		return nil
	}
	cn.close(fmt.Errorf("%w: %w", ErrDisconnected, ErrClosed))
	return nil
}

// Close disconnects and makes the client unusable. It waits for the
// connection's goroutines, including a handler currently running.
func (c *Client) Close() error {
	c.mu.Lock()
	c.closed = true
	c.live.Store(nil)
	cn := c.cn
	c.mu.Unlock()
	if cn != nil {
		cn.close(fmt.Errorf("%w: %w", ErrDisconnected, ErrClosed))
	}
	return nil
}

func (c *Client) nextCID() string { return strconv.FormatUint(c.cidSeq.Add(1), 10) }

// detach forgets cn as the current connection and runs the disconnect hook
// when the loss was not asked for.
func (c *Client) detach(cn *conn, err error, intentional bool) {
	c.mu.Lock()
	if c.cn == cn {
		c.cn = nil
		c.live.Store(nil)
	}
	hook := c.onDisconnect
	c.mu.Unlock()
	if !intentional && hook != nil {
		hook(err)
	}
}

// timeoutReader sets a read deadline before each read of the socket, so the
// silence timeout only runs while the reader waits for the network.
type timeoutReader struct {
	nc      net.Conn
	timeout *atomic.Int64 // nanoseconds; 0 means none
}

func (r timeoutReader) Read(p []byte) (int, error) {
	if d := time.Duration(r.timeout.Load()); d > 0 {
		_ = r.nc.SetReadDeadline(time.Now().Add(d))
	}
	n, err := r.nc.Read(p)
	if err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return n, ErrHeartbeatTimeout
		}
	}
	return n, err
}

var _ io.Reader = timeoutReader{}
