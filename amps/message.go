package amps

import (
	"strings"

	"ampsflume/amps/wire"
)

// Message is one message from the server: its header fields and a private
// copy of its payload, so it stays valid after the handler returns (except
// for the deliveries lent to an ExecuteHandlerBorrowed handler). A sow
// frame of several records arrives as one Message per record, with Command
// "sow", the record's own k, ts, bm and x, and the query's query_id and topic.
type Message struct {
	wire.Header
	Data []byte
}

// SubIDList returns the subscription ids the message matched: sids, else
// sub_id.
func (m *Message) SubIDList() []string {
	if m.SubIDs != "" {
		return strings.Split(m.SubIDs, ",")
	}
	if m.SubID != "" {
		return []string{m.SubID}
	}
	return nil
}

// IsData tells whether the message carries application data (publish, sow
// record or oof) rather than being an ack or a group marker.
func (m *Message) IsData() bool {
	switch m.Command {
	case MsgPublish, MsgSow, MsgOOF:
		return true
	}
	return false
}

// Error returns the *CommandError an ack carries, or nil when it succeeded.
func (m *Message) Error() error {
	if m.Command != MsgAck || m.Status == "" || m.Status == "success" {
		return nil
	}
	return newCommandError(MsgAck+" "+m.AckType, m.CommandID, m.Status, m.Reason)
}

func newMessage(h *wire.Header, data []byte) *Message {
	m := &Message{Header: *h}
	if m.Command == "p" {
		m.Command = MsgPublish
	}
	if len(data) > 0 {
		m.Data = append([]byte(nil), data...)
	}
	return m
}

// msgAlloc hands out Messages and payload copies carved from larger blocks,
// so that a stream of small messages costs a few allocations per block
// instead of two per message. A block stays alive while any message carved
// from it does: at most msgBlock Messages or payloadBlock bytes are retained
// by one long-lived message. A msgAlloc belongs to one goroutine (the
// connection's reader).
type msgAlloc struct {
	msgs  []Message
	buf   []byte
	spare *Message // returned by release, zeroed
}

const (
	msgBlock     = 16
	payloadBlock = 16 << 10
	// Payloads above this size get an allocation of their own.
	payloadShared = 1 << 10
)

func (a *msgAlloc) message(h *wire.Header, data []byte) *Message {
	m := a.next()
	m.Header = *h
	return a.complete(m, data)
}

// next returns a zero Message: the reader parses a frame's header straight
// into it (wire.Arena.ParseInto) instead of copying a whole Header.
func (a *msgAlloc) next() *Message {
	if m := a.spare; m != nil {
		a.spare = nil
		return m
	}
	if len(a.msgs) == 0 {
		a.msgs = make([]Message, msgBlock)
	}
	m := &a.msgs[0]
	a.msgs = a.msgs[1:]
	return m
}

// release takes back a Message from next that was not handed out, or was
// only lent to a handler that has returned.
func (a *msgAlloc) release(m *Message) {
	*m = Message{}
	a.spare = m
}

// complete finishes a Message whose header is set: the publish command's
// long name and a private copy of the payload.
func (a *msgAlloc) complete(m *Message, data []byte) *Message {
	if m.Command == "p" {
		m.Command = MsgPublish
	}
	if len(data) > 0 {
		m.Data = a.copy(data)
	}
	return m
}

// copy returns a private copy of b whose capacity ends with it, so that an
// append by the owner reallocates instead of overwriting its neighbour.
func (a *msgAlloc) copy(b []byte) []byte {
	if len(b) > payloadShared {
		return append([]byte(nil), b...)
	}
	if cap(a.buf)-len(a.buf) < len(b) {
		a.buf = make([]byte, 0, payloadBlock)
	}
	off := len(a.buf)
	a.buf = append(a.buf, b...)
	return a.buf[off:len(a.buf):len(a.buf)]
}
