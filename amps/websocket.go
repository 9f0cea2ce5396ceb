package amps

import (
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/coder/websocket"

	"ampsflume/amps/wire"
)

// wsConn carries the amps protocol over WebSocket the way AMPS's JavaScript
// client does, behind a net.Conn so the rest of the client is unchanged.
// Outbound, each frame becomes one binary message: a little-endian count of
// parts, then the header and payload. Inbound, a header and its data arrive
// as separate messages (a sow header is followed by a header/data pair per
// record); Read reassembles them into length-prefixed frames.
type wsConn struct {
	ws     *websocket.Conn
	ctx    context.Context
	cancel context.CancelFunc
	addr   string

	rbuf []byte // framed bytes not yet returned by Read
	wbuf []byte // partial frame bytes from Write

	mu           sync.Mutex
	readDeadline time.Time
}

func dialWebSocket(ctx context.Context, u *URI, tlsCfg *tls.Config, maxFrame int) (net.Conn, error) {
	scheme := "ws"
	if u.Transport == "wss" {
		scheme = "wss"
	}
	url := scheme + "://" + u.Address() + "/amps"
	if u.MessageType != "" {
		url += "/" + u.MessageType
	}
	opts := &websocket.DialOptions{}
	if tlsCfg != nil {
		opts.HTTPClient = &http.Client{Transport: &http.Transport{TLSClientConfig: tlsCfg}}
	}
	ws, _, err := websocket.Dial(ctx, url, opts)
	if err != nil {
		return nil, err
	}
	if maxFrame <= 0 {
		maxFrame = wire.DefaultMaxFrame
	}
	ws.SetReadLimit(int64(maxFrame) + 4)
	// The first message chooses the kind of message the server sends back.
	if err := ws.Write(ctx, websocket.MessageText, []byte("binary")); err != nil {
		_ = ws.CloseNow()
		return nil, err
	}
	cctx, cancel := context.WithCancel(context.Background())
	return &wsConn{ws: ws, ctx: cctx, cancel: cancel, addr: u.Address()}, nil
}

func (c *wsConn) readMessage() ([]byte, error) {
	c.mu.Lock()
	dl := c.readDeadline
	c.mu.Unlock()
	ctx := c.ctx
	if !dl.IsZero() {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, dl)
		defer cancel()
	}
	_, data, err := c.ws.Read(ctx)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return nil, os.ErrDeadlineExceeded
		}
		return nil, err
	}
	return data, nil
}

// nextFrame reads the messages of one inbound frame and appends it, length
// prefixed, to rbuf.
func (c *wsConn) nextFrame() error {
	hdr, err := c.readMessage()
	if err != nil {
		return err
	}
	var h wire.Header
	if _, err := wire.ParseHeader(hdr, &h); err != nil {
		return err
	}
	off := len(c.rbuf)
	c.rbuf = append(c.rbuf, 0, 0, 0, 0)
	c.rbuf = append(c.rbuf, hdr...)
	parts := 0
	switch h.Command {
	case "p", MsgPublish, MsgOOF:
		parts = 1
	case MsgSow:
		parts = 2 * h.BatchSize
	}
	for i := 0; i < parts; i++ {
		m, err := c.readMessage()
		if err != nil {
			return err
		}
		c.rbuf = append(c.rbuf, m...)
	}
	binary.BigEndian.PutUint32(c.rbuf[off:], uint32(len(c.rbuf)-off-4))
	return nil
}

func (c *wsConn) Read(p []byte) (int, error) {
	for len(c.rbuf) == 0 {
		if err := c.nextFrame(); err != nil {
			return 0, err
		}
	}
	n := copy(p, c.rbuf)
	c.rbuf = c.rbuf[n:]
	return n, nil
}

func (c *wsConn) Write(p []byte) (int, error) {
	c.wbuf = append(c.wbuf, p...)
	for len(c.wbuf) >= 4 {
		n := int(binary.BigEndian.Uint32(c.wbuf))
		if len(c.wbuf) < 4+n {
			break
		}
		body := c.wbuf[4 : 4+n]
		var h wire.Header
		hn, err := wire.ParseHeader(body, &h)
		if err != nil {
			return 0, err
		}
		count := uint32(1)
		if hn < len(body) {
			count = 2
		}
		msg := make([]byte, 4, 4+n)
		binary.LittleEndian.PutUint32(msg, count)
		msg = append(msg, body...)
		if err := c.ws.Write(c.ctx, websocket.MessageBinary, msg); err != nil {
			return 0, err
		}
		c.wbuf = c.wbuf[4+n:]
	}
	if len(c.wbuf) == 0 {
		c.wbuf = nil
	}
	return len(p), nil
}

func (c *wsConn) Close() error {
	c.cancel()
	return c.ws.CloseNow()
}

type wsAddr string

func (a wsAddr) Network() string { return "websocket" }
func (a wsAddr) String() string  { return string(a) }

func (c *wsConn) LocalAddr() net.Addr  { return wsAddr("local") }
func (c *wsConn) RemoteAddr() net.Addr { return wsAddr(c.addr) }

func (c *wsConn) SetDeadline(t time.Time) error { return c.SetReadDeadline(t) }

// SetReadDeadline bounds the next read. A read that times out closes the
// WebSocket (the library cannot resume a cancelled read), which is what the
// client does on a heartbeat timeout anyway.
func (c *wsConn) SetReadDeadline(t time.Time) error {
	c.mu.Lock()
	c.readDeadline = t
	c.mu.Unlock()
	return nil
}

func (c *wsConn) SetWriteDeadline(time.Time) error { return nil }
