package ampserver

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"ampsflume/amps/wire"

	"github.com/coder/websocket"
)

// websocketHandler serves the amps protocol as the AMPS JavaScript client
// speaks it: after the upgrade the client names the message kind (`text`
// or `binary`); each client message is one command (binary: a uint32
// little-endian count, then header and payload); each server message is
// sent as a header message followed, for messages with data, by a data
// message, and a sow frame as its header then a header/data pair per record.
func (s *Server) websocketHandler(tc TransportConfig) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/amps") {
			http.NotFound(w, r)
			return
		}
		ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{InsecureSkipVerify: true})
		if err != nil {
			s.log.Warn("websocket upgrade", "transport", tc.Name, "err", err)
			return
		}
		ws.SetReadLimit(int64(s.cfg.MaxFrame) + 4)
		ctx, cancel := context.WithCancel(context.Background())
		wc := &wsConn{ws: ws, ctx: ctx, cancel: cancel, remote: r.RemoteAddr, msgType: websocket.MessageBinary, maxFrame: s.cfg.MaxFrame}
		// The first message says which message kind the client wants back.
		_, first, err := ws.Read(ctx)
		if err != nil {
			wc.close()
			return
		}
		switch strings.TrimSpace(string(first)) {
		case "text":
			wc.msgType = websocket.MessageText
		case "binary":
		default:
			s.log.Warn("websocket: first message is not text or binary; closing", "remote", r.RemoteAddr)
			ws.Close(websocket.StatusProtocolError, "expected text or binary")
			cancel()
			return
		}
		s.serveConn(wc, tc.Name)
	})
}

type wsConn struct {
	ws       *websocket.Conn
	ctx      context.Context
	cancel   context.CancelFunc
	remote   string
	msgType  websocket.MessageType
	maxFrame int
}

func (c *wsConn) readFrame() ([]byte, error) {
	typ, data, err := c.ws.Read(c.ctx)
	if err != nil {
		var ce websocket.CloseError
		if errors.As(err, &ce) || errors.Is(err, context.Canceled) {
			return nil, io.EOF
		}
		return nil, err
	}
	if typ != websocket.MessageBinary {
		return data, nil
	}
	if len(data) < 4 {
		return nil, &wire.FrameError{Reason: "websocket message shorter than its count prefix"}
	}
	parts := binary.LittleEndian.Uint32(data)
	if len(data) > 4 {
		// Count, header and payload in one message: the header delimits them.
		return data[4:], nil
	}
	// A bare count: the header and payload parts follow as messages of
	// their own; join them into one frame body.
	if parts == 0 || parts > 64 {
		return nil, &wire.FrameError{Reason: "websocket part count out of range"}
	}
	var body []byte
	for i := uint32(0); i < parts; i++ {
		_, part, err := c.ws.Read(c.ctx)
		if err != nil {
			return nil, err
		}
		if len(body)+len(part) > c.maxFrame {
			return nil, &wire.FrameError{Reason: "websocket message exceeds the maximum frame size"}
		}
		body = append(body, part...)
	}
	return body, nil
}

func (c *wsConn) writeFrames(frames [][]byte) error {
	var h wire.Header
	for _, f := range frames {
		body := f[4:]
		n, err := wire.ParseHeader(body, &h)
		if err != nil {
			return err
		}
		if err := c.ws.Write(c.ctx, c.msgType, body[:n]); err != nil {
			return err
		}
		data := body[n:]
		switch h.Command {
		case "sow":
			for len(data) > 0 {
				var rh wire.Header
				m, err := wire.ParseHeader(data, &rh)
				if err != nil {
					return err
				}
				if err := c.ws.Write(c.ctx, c.msgType, data[:m]); err != nil {
					return err
				}
				data = data[m:]
				l := min(rh.Length, len(data))
				if err := c.ws.Write(c.ctx, c.msgType, data[:l]); err != nil {
					return err
				}
				data = data[l:]
			}
		case "p", "publish", "oof":
			if err := c.ws.Write(c.ctx, c.msgType, data); err != nil {
				return err
			}
		default:
			if len(data) > 0 {
				if err := c.ws.Write(c.ctx, c.msgType, data); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func (c *wsConn) close() error {
	c.cancel()
	return c.ws.CloseNow()
}

func (c *wsConn) remoteAddr() string { return c.remote }
func (c *wsConn) inputReady() bool   { return false }
func (c *wsConn) readAt() time.Time  { return time.Time{} }
