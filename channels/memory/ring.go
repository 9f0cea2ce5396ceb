package memory

import "ampsflume/flume"

// ring is a fixed-size FIFO of events that can also push at the head, which
// a rollback needs to return taken events in front of everything else.
type ring struct {
	buf  []*flume.Event
	head int // index of the first event
	n    int // number of events
}

func newRing(size int) ring { return ring{buf: make([]*flume.Event, size)} }

func (r *ring) len() int { return r.n }

func (r *ring) free() int { return len(r.buf) - r.n }

// pushBack appends events at the tail; the caller has checked the room.
func (r *ring) pushBack(events []*flume.Event) {
	size := len(r.buf)
	tail := r.head + r.n
	if tail >= size {
		tail -= size
	}
	// At most two copies: up to the end of the buffer, then from its start.
	k := copy(r.buf[tail:], events)
	if k < len(events) {
		copy(r.buf, events[k:])
	}
	r.n += len(events)
}

// pushFront puts events back at the head so that events[0] is the new head.
func (r *ring) pushFront(events []*flume.Event) {
	size := len(r.buf)
	for i := len(events) - 1; i >= 0; i-- {
		r.head--
		if r.head < 0 {
			r.head = size - 1
		}
		r.buf[r.head] = events[i]
	}
	r.n += len(events)
}

// popFront removes and returns the head; the ring must not be empty.
func (r *ring) popFront() *flume.Event {
	e := r.buf[r.head]
	r.buf[r.head] = nil // let the event be collected once delivered
	r.head++
	if r.head == len(r.buf) {
		r.head = 0
	}
	r.n--
	return e
}

// resize returns a ring of the new size holding the same events in order;
// size must be at least r.n.
func (r *ring) resize(size int) ring {
	nr := newRing(size)
	k := copy(nr.buf, r.buf[r.head:min(r.head+r.n, len(r.buf))])
	if k < r.n {
		copy(nr.buf[k:], r.buf[:r.n-k])
	}
	nr.n = r.n
	return nr
}
