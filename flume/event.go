package flume

// Event is the unit of data that flows from sources through channels to sinks.
type Event struct {
	// Headers are string key/value pairs. Never nil for events created by
	// NewEvent; components must not set it to nil.
	Headers map[string]string
	// Body is the payload. Components must not modify a body they did not
	// create: the same slice may be shared by several channels.
	Body []byte
}

// NewEvent returns an event with the given body and headers. A nil headers map
// is replaced by an empty one, so Headers is never nil.
func NewEvent(body []byte, headers map[string]string) *Event {
	if headers == nil {
		headers = make(map[string]string)
	}
	return &Event{Headers: headers, Body: body}
}

// Clone returns a copy of the event with its own header map. The body is
// shared, which is safe because bodies are never modified in place.
func (e *Event) Clone() *Event {
	h := make(map[string]string, len(e.Headers))
	for k, v := range e.Headers {
		h[k] = v
	}
	return &Event{Headers: h, Body: e.Body}
}
