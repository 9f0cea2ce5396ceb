package amps

import (
	"strings"

	"ampsflume/amps/wire"
)

// Message is one message from the server: its header fields and a private
// copy of its payload, so it stays valid after the handler returns. A sow
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
