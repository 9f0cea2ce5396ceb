package amps

import (
	"context"
	"fmt"

	"ampsflume/amps/wire"
)

// LogonInfo is what the server's logon ack tells about the session.
type LogonInfo struct {
	ServerVersion string // e.g. "5.3.4.0"
	ClientName    string
	// Seq is the last publish sequence number the server processed or
	// persisted for this client name; a publish store resumes after it.
	Seq    uint64
	HasSeq bool
	// Bookmark is "<client hash>|<seq>|", the client's last bookmark.
	Bookmark string
}

// Logon authenticates the current connection with the client name, the
// URI's user and password, and the URI's message type. On success it starts
// heartbeats when WithHeartbeat was given.
func (c *Client) Logon(ctx context.Context) (LogonInfo, error) {
	cn, err := c.current()
	if err != nil {
		return LogonInfo{}, fmt.Errorf("amps: logon: %w", err)
	}
	cid := c.nextCID()
	p := prepared{allAcks: ackBits[AckProcessed]}
	p.hdr = wire.Header{
		Command:     CmdLogon,
		CommandID:   cid,
		AckType:     AckProcessed,
		ClientName:  c.name,
		Version:     c.opts.version,
		UserID:      cn.uri.User,
		Password:    cn.uri.Password,
		MessageType: cn.uri.MessageType,
	}
	if cn.uri.Options.Pretty {
		p.hdr.Options = "pretty"
	}
	r, err := cn.run(ctx, CmdLogon, &p, nil)
	if err != nil {
		return LogonInfo{}, err
	}
	r.mu.Lock()
	ack := r.lastAck
	r.mu.Unlock()
	info := LogonInfo{ClientName: c.name}
	if ack != nil {
		info.ServerVersion = ack.Version
		info.Seq, info.HasSeq = ack.Seq, ack.HasSeq
		info.Bookmark = ack.Bookmark
		if ack.ClientName != "" {
			info.ClientName = ack.ClientName
		}
	}
	c.mu.Lock()
	c.logon = info
	c.mu.Unlock()
	if c.opts.heartbeat > 0 {
		if err := cn.startHeartbeat(c.opts.heartbeat, c.opts.heartbeatTimeout); err != nil {
			return info, fmt.Errorf("amps: start heartbeat: %w", err)
		}
	}
	return info, nil
}

// LogonInfo returns what the last successful logon reported.
func (c *Client) LogonInfo() LogonInfo {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.logon
}
