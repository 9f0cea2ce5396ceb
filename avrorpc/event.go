package avrorpc

import (
	"fmt"

	"ampsflume/flume"
)

// wireEvent is the AvroFlumeEvent record: Flume's event as it travels over
// Avro RPC, and as the Kafka channel and sink store it in a record value when
// asked to keep headers.
type wireEvent struct {
	Headers map[string]string `avro:"headers"`
	Body    []byte            `avro:"body"`
}

func toWire(e *flume.Event) wireEvent {
	return wireEvent{Headers: e.Headers, Body: e.Body}
}

func (w wireEvent) event() *flume.Event {
	if w.Body == nil {
		w.Body = []byte{}
	}
	return flume.NewEvent(w.Body, w.Headers)
}

// MarshalEvent encodes e as an AvroFlumeEvent in Avro binary (no container,
// no schema fingerprint), the form Flume's Kafka channel and sink write
// when parseAsFlumeEvent/useFlumeEventFormat is set.
func MarshalEvent(e *flume.Event) ([]byte, error) {
	b, err := api.Marshal(eventSchema, toWire(e))
	if err != nil {
		return nil, fmt.Errorf("encode AvroFlumeEvent: %w", err)
	}
	return b, nil
}

// UnmarshalEvent decodes an AvroFlumeEvent written by MarshalEvent (or by
// Flume). Trailing bytes are an error: they mean the value is not an event.
func UnmarshalEvent(b []byte) (*flume.Event, error) {
	r := newReader(b)
	var w wireEvent
	r.ReadVal(eventSchema, &w)
	if r.Error != nil {
		return nil, fmt.Errorf("decode AvroFlumeEvent: %w", r.Error)
	}
	if !atEnd(r) {
		return nil, fmt.Errorf("decode AvroFlumeEvent: trailing bytes after the event")
	}
	return w.event(), nil
}
