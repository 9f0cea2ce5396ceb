package avrorpc

import (
	"fmt"

	"github.com/hamba/avro/v2"

	"ampsflume/flume"
)

// Message names of AvroSourceProtocol.
const (
	msgAppend      = "append"
	msgAppendBatch = "appendBatch"
)

// A call request is: request metadata (map<bytes>), the message name
// (string), then the message's parameters in order. A call response is:
// response metadata (map<bytes>), an error flag (boolean), then either the
// response value (here a Status) or the error, encoded as the message's error
// union, which for these messages is just ["string"].

// writeCall appends an appendBatch (or, for a single event, an append) call.
func writeCall(w *avro.Writer, events []*flume.Event, single bool) {
	w.WriteLong(0) // empty metadata map
	if single {
		w.WriteString(msgAppend)
		w.WriteVal(eventSchema, toWire(events[0]))
		return
	}
	w.WriteString(msgAppendBatch)
	wire := make([]wireEvent, len(events))
	for i, e := range events {
		wire[i] = toWire(e)
	}
	w.WriteVal(eventArraySchema, wire)
}

// readCall decodes a call request after any handshake.
func readCall(r *avro.Reader) (name string, events []*flume.Event, err error) {
	var meta map[string][]byte
	r.ReadVal(metaSchema, &meta)
	name = r.ReadString()
	if r.Error != nil {
		return "", nil, fmt.Errorf("call header: %w", r.Error)
	}
	switch name {
	case msgAppend:
		var w wireEvent
		r.ReadVal(eventSchema, &w)
		if r.Error != nil {
			return name, nil, fmt.Errorf("append: %w", r.Error)
		}
		events = []*flume.Event{w.event()}
	case msgAppendBatch:
		var ws []wireEvent
		r.ReadVal(eventArraySchema, &ws)
		if r.Error != nil {
			return name, nil, fmt.Errorf("appendBatch: %w", r.Error)
		}
		events = make([]*flume.Event, len(ws))
		for i, w := range ws {
			events[i] = w.event()
		}
	default:
		return name, nil, nil
	}
	if !atEnd(r) {
		return name, nil, fmt.Errorf("%s: trailing bytes after the parameters", name)
	}
	return name, events, nil
}

// writeResult appends a successful response carrying st.
func writeResult(w *avro.Writer, st Status) {
	w.WriteLong(0) // empty metadata map
	w.WriteBool(false)
	w.WriteInt(int32(st))
}

// writeError appends an error response with a system error message.
func writeError(w *avro.Writer, msg string) {
	w.WriteLong(0)
	w.WriteBool(true)
	w.WriteLong(0) // union branch 0: string
	w.WriteString(msg)
}

// RemoteError is an error reported by the server instead of a Status.
type RemoteError struct{ Msg string }

func (e *RemoteError) Error() string { return "avrorpc: remote error: " + e.Msg }

// readResult decodes a call response after any handshake.
func readResult(r *avro.Reader) (Status, error) {
	var meta map[string][]byte
	r.ReadVal(metaSchema, &meta)
	isErr := r.ReadBool()
	if r.Error != nil {
		return Unknown, fmt.Errorf("response header: %w", r.Error)
	}
	if isErr {
		branch := r.ReadLong()
		msg := r.ReadString()
		if r.Error != nil {
			return Unknown, fmt.Errorf("error response: %w", r.Error)
		}
		if branch != 0 {
			return Unknown, fmt.Errorf("error response: unexpected union branch %d", branch)
		}
		return Unknown, &RemoteError{Msg: msg}
	}
	st := Status(r.ReadInt())
	if r.Error != nil {
		return Unknown, fmt.Errorf("status: %w", r.Error)
	}
	if st < OK || st > Unknown {
		return Unknown, fmt.Errorf("status: unknown symbol %d", int(st))
	}
	return st, nil
}
