package avrorpc

import (
	"bufio"
	"bytes"
	"compress/zlib"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/hamba/avro/v2"

	"ampsflume/flume"
)

// ClientConfig configures a Client.
type ClientConfig struct {
	// ConnectTimeout bounds Dial (default 20 s, Flume's connect-timeout).
	ConnectTimeout time.Duration
	// RequestTimeout bounds each call (default 20 s, request-timeout).
	RequestTimeout time.Duration
	// Deflate sends and expects a zlib stream (compression-type=deflate).
	Deflate bool
	// DeflateLevel is the zlib level, 0-9 (default 6, compression-level).
	DeflateLevel int
	// MaxFrameBytes bounds one response (default DefaultMaxFrameBytes).
	MaxFrameBytes int
}

// Client calls AvroSourceProtocol on one connection. Its methods must not be
// called concurrently. After any error the connection is in an unknown state
// (a response may still be in flight): Close it and Dial again.
type Client struct {
	cfg    ClientConfig
	conn   net.Conn
	in     io.Reader
	zw     *zlib.Writer
	serial int32
	// established is set once the handshake succeeded; sendProtocol once the
	// server said it does not know our hash.
	established, sendProtocol bool
	payload                   bytes.Buffer
	w                         *avro.Writer
	out                       []byte
}

// Dial connects to addr (host:port).
func Dial(ctx context.Context, addr string, cfg ClientConfig) (*Client, error) {
	if cfg.ConnectTimeout <= 0 {
		cfg.ConnectTimeout = 20 * time.Second
	}
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = 20 * time.Second
	}
	if cfg.DeflateLevel == 0 {
		cfg.DeflateLevel = 6
	}
	d := net.Dialer{Timeout: cfg.ConnectTimeout}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("avrorpc: connect %s: %w", addr, err)
	}
	c := &Client{cfg: cfg, conn: conn}
	c.w = avro.NewWriter(&c.payload, 512, avro.WithWriterConfig(api))
	if cfg.Deflate {
		c.zw, err = zlib.NewWriterLevel(conn, cfg.DeflateLevel)
		if err != nil {
			conn.Close()
			return nil, fmt.Errorf("avrorpc: %w", err)
		}
	} else {
		c.in = bufio.NewReaderSize(conn, 16<<10)
	}
	return c, nil
}

// Close closes the connection.
func (c *Client) Close() error { return c.conn.Close() }

// RemoteAddr is the server's address.
func (c *Client) RemoteAddr() net.Addr { return c.conn.RemoteAddr() }

// Append sends one event with the append message.
func (c *Client) Append(ctx context.Context, e *flume.Event) (Status, error) {
	return c.call(ctx, []*flume.Event{e}, true)
}

// AppendBatch sends events with one appendBatch message. The server answers
// OK only when all of them are stored.
func (c *Client) AppendBatch(ctx context.Context, events []*flume.Event) (Status, error) {
	return c.call(ctx, events, false)
}

func (c *Client) call(ctx context.Context, events []*flume.Event, single bool) (Status, error) {
	deadline := time.Now().Add(c.cfg.RequestTimeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	if err := c.conn.SetDeadline(deadline); err != nil {
		return Unknown, err
	}
	// Cancelling ctx interrupts blocked I/O by moving the deadline.
	stop := context.AfterFunc(ctx, func() { _ = c.conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	// At most two rounds: a NONE handshake answer asks us to resend with our
	// protocol text.
	for range 2 {
		st, retry, err := c.round(events, single)
		if err != nil {
			if ctx.Err() != nil {
				err = fmt.Errorf("%w (%w)", ctx.Err(), err)
			}
			return Unknown, err
		}
		if !retry {
			return st, nil
		}
	}
	return Unknown, errors.New("avrorpc: handshake: server does not accept our protocol")
}

func (c *Client) round(events []*flume.Event, single bool) (st Status, retry bool, err error) {
	c.payload.Reset()
	handshake := !c.established
	if handshake {
		req := handshakeRequest{ClientHash: ProtocolHash, ServerHash: ProtocolHash}
		if c.sendProtocol {
			text := ProtocolJSON
			req.ClientProtocol = &text
		}
		c.w.WriteVal(handshakeRequestSchema, req)
	}
	writeCall(c.w, events, single)
	if err := c.w.Flush(); err != nil {
		return Unknown, false, fmt.Errorf("avrorpc: encode request: %w", err)
	}
	if c.w.Error != nil {
		return Unknown, false, fmt.Errorf("avrorpc: encode request: %w", c.w.Error)
	}
	c.serial++
	c.out = AppendFrame(c.out[:0], c.serial, c.payload.Bytes())
	if err := c.write(c.out); err != nil {
		return Unknown, false, fmt.Errorf("avrorpc: send: %w", err)
	}
	if c.in == nil {
		if err := c.openReader(); err != nil {
			return Unknown, false, err
		}
	}
	serial, msg, err := ReadFrame(c.in, c.cfg.MaxFrameBytes)
	if err != nil {
		return Unknown, false, fmt.Errorf("avrorpc: receive: %w", err)
	}
	if serial != c.serial {
		return Unknown, false, fmt.Errorf("avrorpc: response serial %d, want %d", serial, c.serial)
	}
	r := newReader(msg)
	if handshake {
		var resp handshakeResponse
		r.ReadVal(handshakeResponseSchema, &resp)
		if r.Error != nil {
			return Unknown, false, fmt.Errorf("avrorpc: handshake response: %w", r.Error)
		}
		switch resp.Match {
		case matchNone:
			if c.sendProtocol {
				return Unknown, false, errors.New("avrorpc: handshake: server does not accept our protocol")
			}
			c.sendProtocol = true
			return Unknown, true, nil
		case matchBoth, matchClient:
			c.established = true
		default:
			return Unknown, false, fmt.Errorf("avrorpc: handshake: unknown match %q", resp.Match)
		}
	}
	st, err = readResult(r)
	if err != nil {
		return Unknown, false, fmt.Errorf("avrorpc: %w", err)
	}
	return st, false, nil
}

// openReader wraps the connection in a zlib reader on the first response:
// creating it reads the stream header, which the server sends only then.
func (c *Client) openReader() error {
	zr, err := zlib.NewReader(bufio.NewReaderSize(c.conn, 16<<10))
	if err != nil {
		return fmt.Errorf("avrorpc: deflate stream: %w", err)
	}
	c.in = bufio.NewReaderSize(zr, 16<<10)
	return nil
}

func (c *Client) write(b []byte) error {
	if c.zw == nil {
		_, err := c.conn.Write(b)
		return err
	}
	if _, err := c.zw.Write(b); err != nil {
		return err
	}
	return c.zw.Flush()
}
