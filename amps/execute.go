package amps

import (
	"context"
	"fmt"
	"strings"
)

// Execute sends any command and returns the stream of what the server sends
// for it: deliveries, sow records, group markers, oof messages, and those
// acks the Command's AckType asked for. When the command needs a processed
// ack (everything but publishes and heartbeats), Execute waits for it and
// returns the server's refusal as a *CommandError. A sow stream ends after
// the query completes; a subscription's stream runs until Unsubscribe,
// Close or a disconnect. Commands that get no reply return an ended stream.
func (c *Client) Execute(ctx context.Context, cmd Command) (*MessageStream, error) {
	s := newStream(c.opts.streamBuffer)
	r, err := c.exec(ctx, cmd, func(r *route) { r.stream = s })
	if err != nil {
		return nil, err
	}
	if r == nil {
		return closedStream(s.cid), nil
	}
	s.cid, s.subID, s.queryID = r.cid, r.subID, r.queryID
	if r.persistent {
		s.onClose = r.abandon
	}
	return s, nil
}

// ExecuteHandler is Execute with a callback instead of a stream. handler runs
// on the connection's reader goroutine, one message at a time: while it runs
// nothing else is read, which is how a slow handler pushes back on the
// server. handler must not wait for the ack of another command of the same
// client (that ack cannot be read until it returns) and must not call Close.
// It returns the command's sub_id (or cid when it has none).
func (c *Client) ExecuteHandler(ctx context.Context, cmd Command, handler func(*Message)) (string, error) {
	if handler == nil {
		return "", fmt.Errorf("amps: %s: nil handler", cmd.Name)
	}
	r, err := c.exec(ctx, cmd, func(r *route) { r.handler = handler })
	if err != nil {
		return "", err
	}
	if r == nil {
		return "", nil
	}
	if r.subID != "" {
		return r.subID, nil
	}
	return r.cid, nil
}

// ExecuteHandlerBorrowed is ExecuteHandler for a handler that keeps nothing
// of a message after it returns, in exchange for deliveries that cost no
// allocation and no copy. The *Message of a delivery (publish, oof, group
// markers; not acks or sow records, which are always copied) is lent to
// handler: once handler returns, the client reuses the Message for a later
// delivery, and its Data points into the connection's read buffer, which
// the next read overwrites. Header strings (Topic, Bookmark, Timestamp, ...)
// are never reused and stay valid. A handler that needs more than the call
// must copy: bytes.Clone(m.Data), or the Message itself (msg := *m plus a
// copy of Data). handler must not modify m.Data. Everything else is as for
// ExecuteHandler.
func (c *Client) ExecuteHandlerBorrowed(ctx context.Context, cmd Command, handler func(*Message)) (string, error) {
	if handler == nil {
		return "", fmt.Errorf("amps: %s: nil handler", cmd.Name)
	}
	r, err := c.exec(ctx, cmd, func(r *route) { r.handler, r.borrowed = handler, true })
	if err != nil {
		return "", err
	}
	if r == nil {
		return "", nil
	}
	if r.subID != "" {
		return r.subID, nil
	}
	return r.cid, nil
}

// exec sends cmd and, when it expects a processed ack, waits for it. It
// returns nil without error for a command that expects no reply.
func (c *Client) exec(ctx context.Context, cmd Command, attach func(*route)) (*route, error) {
	if cmd.Name == "" {
		return nil, fmt.Errorf("amps: command without a name")
	}
	if cmd.Name == CmdLogon {
		return nil, fmt.Errorf("amps: use Logon for the logon command")
	}
	cn, err := c.current()
	if err != nil {
		return nil, fmt.Errorf("amps: %s: %w", cmd.Name, err)
	}
	p := prepare(&cmd, c.nextCID())
	return cn.run(ctx, cmd.Name, &p, attach)
}

func (cn *conn) run(ctx context.Context, name string, p *prepared, attach func(*route)) (*route, error) {
	h := &p.hdr
	if p.allAcks == 0 && !isSubscribe(name) {
		if err := cn.send(h, p.data); err != nil {
			return nil, fmt.Errorf("amps: %s: %w", name, err)
		}
		return nil, nil
	}
	r := newRoute(name, h.CommandID)
	r.cn = cn
	r.persistent = isSubscribe(name)
	r.userAcks = p.userAcks
	r.pending = p.allAcks
	if r.persistent {
		r.subID = h.SubID
		r.endsAtCompleted = p.endsAtCompleted
	}
	if isSow(name) {
		r.queryID = h.QueryID
	}
	if attach != nil {
		attach(r)
	}
	if err := cn.register(r, hasOption(h.Options, "replace")); err != nil {
		return nil, err
	}
	if err := cn.send(h, p.data); err != nil {
		cn.end(r, err, true)
		return nil, fmt.Errorf("amps: %s: %w", name, err)
	}
	if !p.allAcks.has(AckProcessed) {
		return r, nil
	}
	select {
	case <-r.decided:
	case <-ctx.Done():
		// The server may still act on the command; withdraw a
		// subscription so it does not linger unseen.
		if r.persistent {
			r.abandon()
		} else {
			cn.end(r, ctx.Err(), true)
		}
		return nil, fmt.Errorf("amps: %s (cid %s): %w", name, r.cid, ctx.Err())
	}
	if err := r.result(); err != nil {
		cn.end(r, err, true)
		return nil, err
	}
	if r.replaced != nil {
		cn.end(r.replaced, nil, true)
	}
	return r, nil
}

// abandon ends a subscription's route and unsubscribes without waiting.
func (r *route) abandon() {
	r.cn.end(r, nil, true)
	h := wireUnsubscribe(r.cn.c.nextCID(), r.subID, false)
	_ = r.cn.send(&h, nil)
}

func hasOption(opts, name string) bool {
	for _, o := range strings.Split(opts, ",") {
		if strings.TrimSpace(o) == name {
			return true
		}
	}
	return false
}

// Send writes cmd without registering it: the client adds only the ids the
// protocol needs (cid, and sub_id/query_id for subscribe- and sow-type
// commands) and no acks of its own, and it does not wait. Replies to acks
// the command asks for go to the OnUnhandled hook. Use it where waiting would
// be wrong, for example to acknowledge queue messages from a consumer that
// must keep reading.
func (c *Client) Send(cmd Command) error {
	if cmd.Name == "" {
		return fmt.Errorf("amps: command without a name")
	}
	cn, err := c.current()
	if err != nil {
		return fmt.Errorf("amps: %s: %w", cmd.Name, err)
	}
	p := prepare(&cmd, c.nextCID())
	p.hdr.AckType = p.userAcks.String()
	if err := cn.send(&p.hdr, p.data); err != nil {
		return fmt.Errorf("amps: %s: %w", cmd.Name, err)
	}
	return nil
}
