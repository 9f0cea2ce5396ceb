package amps

import (
	"strings"

	"ampsflume/amps/wire"
)

// Command names as they go on the wire.
const (
	CmdLogon                = "logon"
	CmdPublish              = "publish"
	CmdDeltaPublish         = "delta_publish"
	CmdSubscribe            = "subscribe"
	CmdDeltaSubscribe       = "delta_subscribe"
	CmdSow                  = "sow"
	CmdSowAndSubscribe      = "sow_and_subscribe"
	CmdSowAndDeltaSubscribe = "sow_and_delta_subscribe"
	CmdSowDelete            = "sow_delete"
	CmdUnsubscribe          = "unsubscribe"
	CmdFlush                = "flush"
	CmdHeartbeat            = "heartbeat"
)

// Names of messages the server sends.
const (
	MsgAck        = "ack"
	MsgPublish    = "publish" // "p" on the wire is reported as "publish"
	MsgSow        = "sow"
	MsgOOF        = "oof"
	MsgGroupBegin = "group_begin"
	MsgGroupEnd   = "group_end"
	MsgHeartbeat  = "heartbeat"
)

// Ack types.
const (
	AckReceived  = "received"
	AckParsed    = "parsed"
	AckProcessed = "processed"
	AckPersisted = "persisted"
	AckCompleted = "completed"
	AckStats     = "stats"
)

// Command is any AMPS command. The zero value of a field leaves the header
// out. Execute works on a copy, so a Command can be kept and executed again
// (an HA wrapper replays subscriptions this way).
type Command struct {
	Name          string // one of the Cmd* constants
	CommandID     string // assigned by the client when empty
	Topic         string
	SubID         string // subscribe-type: defaults to the cid
	QueryID       string // sow-type: defaults to SubID, else the cid
	Filter        string
	Options       string
	Bookmark      string
	OrderBy       string
	SowKey        string
	SowKeys       string
	CorrelationID string
	Expiration    string
	AckType       string // acks the caller wants to see on its stream (comma list)
	BatchSize     int    // sow-type: defaults to 10
	TopN          int
	Seq           uint64
	HasSeq        bool
	Data          []byte
}

// NewCommand returns a Command with the given name.
func NewCommand(name string) Command { return Command{Name: name} }

func isSubscribe(name string) bool {
	switch name {
	case CmdSubscribe, CmdDeltaSubscribe, CmdSowAndSubscribe, CmdSowAndDeltaSubscribe:
		return true
	}
	return false
}

func isSow(name string) bool {
	switch name {
	case CmdSow, CmdSowAndSubscribe, CmdSowAndDeltaSubscribe:
		return true
	}
	return false
}

// internalAcks are the acks the client adds to a command for its own use:
// processed decides success for anything that is not fire-and-forget, and
// completed tells when a sow query has ended.
func internalAcks(name string) []string {
	switch name {
	case CmdSow:
		return []string{AckProcessed, AckCompleted}
	case CmdSowDelete:
		return []string{AckProcessed, AckStats}
	case CmdSubscribe, CmdDeltaSubscribe, CmdSowAndSubscribe, CmdSowAndDeltaSubscribe,
		CmdUnsubscribe, CmdFlush, CmdLogon:
		return []string{AckProcessed}
	}
	return nil
}

// ackSet is a small set of ack types.
type ackSet uint8

var ackBits = map[string]ackSet{
	AckReceived: 1 << 0, AckParsed: 1 << 1, AckProcessed: 1 << 2,
	AckPersisted: 1 << 3, AckCompleted: 1 << 4, AckStats: 1 << 5,
}

var ackOrder = []string{AckReceived, AckParsed, AckProcessed, AckPersisted, AckCompleted, AckStats}

func parseAcks(list string) ackSet {
	var s ackSet
	if list == "" {
		return s
	}
	for _, a := range strings.Split(list, ",") {
		s |= ackBits[strings.TrimSpace(a)]
	}
	return s
}

func (s ackSet) has(a string) bool { return s&ackBits[a] != 0 }

func (s ackSet) String() string {
	var parts []string
	for _, a := range ackOrder {
		if s.has(a) {
			parts = append(parts, a)
		}
	}
	return strings.Join(parts, ",")
}

// prepared is a command ready to send: its final header and the acks it
// requested, split by who asked for them.
type prepared struct {
	hdr      wire.Header
	data     []byte
	userAcks ackSet // delivered to the caller
	allAcks  ackSet // requested from the server

	endsAtCompleted bool // a range subscription: its completed ack ends it
}

// prepare fills in the ids and defaults the protocol expects and builds the
// header. cid must be unique on the connection.
func prepare(c *Command, cid string) prepared {
	var p prepared
	h := &p.hdr
	h.Command = c.Name
	if c.Name == CmdPublish {
		h.Command = "p"
	}
	h.CommandID = c.CommandID
	if h.CommandID == "" {
		h.CommandID = cid
	}
	h.Topic = c.Topic
	h.SubID = c.SubID
	if h.SubID == "" && isSubscribe(c.Name) {
		h.SubID = h.CommandID
	}
	h.QueryID = c.QueryID
	if isSow(c.Name) {
		if h.QueryID == "" {
			h.QueryID = h.SubID
		}
		if h.QueryID == "" {
			h.QueryID = h.CommandID
		}
		h.BatchSize = c.BatchSize
		if h.BatchSize <= 0 {
			h.BatchSize = 10
		}
	}
	h.Filter = c.Filter
	h.Options = c.Options
	h.Bookmark = c.Bookmark
	h.OrderBy = c.OrderBy
	h.SowKey = c.SowKey
	h.SowKeys = c.SowKeys
	h.CorrelationID = c.CorrelationID
	h.Expiration = c.Expiration
	h.TopN = c.TopN
	h.Seq, h.HasSeq = c.Seq, c.HasSeq
	p.userAcks = parseAcks(c.AckType)
	p.allAcks = p.userAcks
	for _, a := range internalAcks(c.Name) {
		p.allAcks |= ackBits[a]
	}
	if isSubscribe(c.Name) && IsBookmarkRange(c.Bookmark) {
		// The server ends a range subscription at its end with the
		// completed ack; the client needs it to end the subscription too.
		p.allAcks |= ackBits[AckCompleted]
		p.endsAtCompleted = true
	}
	h.AckType = p.allAcks.String()
	p.data = c.Data
	return p
}

// IsBookmarkRange tells whether a subscription's bookmark is a range,
// "[start:end]" with '(' or ')' for exclusive ends: the server replays it,
// sends the completed ack at its end and removes the subscription, so the
// client ends the subscription there too (a stream's Next returns io.EOF,
// an HA subscription ends instead of being placed again on the next
// connection).
func IsBookmarkRange(bm string) bool {
	bm = strings.TrimSpace(bm)
	if len(bm) < 2 || (bm[0] != '[' && bm[0] != '(') {
		return false
	}
	last := bm[len(bm)-1]
	return (last == ']' || last == ')') && strings.Contains(bm, ":")
}
