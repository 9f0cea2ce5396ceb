package amps

import "sync"

// route is the client side of one command: what to do with the acks and
// messages the server sends for it.
type route struct {
	cn         *conn
	name       string
	cid        string
	subID      string // set for subscribe-type commands
	queryID    string // set for sow-type commands
	persistent bool   // subscriptions outlive their acks
	// endsAtCompleted: a bookmark range subscription, which the server
	// removes when it sends the completed ack at the range's end.
	endsAtCompleted bool
	userAcks        ackSet
	pending         ackSet // acks still expected; reader goroutine only
	replaced        *route // a live subscription this command replaces

	handler  func(*Message)
	borrowed bool // handler is lent deliveries (ExecuteHandlerBorrowed)
	stream   *MessageStream

	mu        sync.Mutex
	decided   chan struct{} // closed when the processed ack (or an end) arrived
	decideErr error
	finished  chan struct{} // closed when the route ended
	endErr    error
	stats     *Message
	lastAck   *Message // the ack that decided the command
	isDecided bool
	isEnded   bool
}

func newRoute(name, cid string) *route {
	return &route{name: name, cid: cid, decided: make(chan struct{}), finished: make(chan struct{})}
}

func (r *route) deliver(m *Message, stop <-chan struct{}) {
	switch {
	case r.handler != nil:
		r.handler(m)
	case r.stream != nil:
		r.stream.push(m, stop)
	}
}

func (r *route) decide(err error) { r.decideWith(nil, err) }

func (r *route) decideWith(ack *Message, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.isDecided {
		return
	}
	r.isDecided = true
	if err != nil {
		if ce, ok := err.(*CommandError); ok {
			ce.Command = r.name
			ce.CommandID = r.cid
		}
	}
	r.decideErr = err
	r.lastAck = ack
	close(r.decided)
}

func (r *route) setStats(m *Message) {
	r.mu.Lock()
	r.stats = m
	r.mu.Unlock()
}

func (r *route) finish(err error, abandon bool) {
	r.decide(err)
	r.mu.Lock()
	if r.isEnded {
		r.mu.Unlock()
		return
	}
	r.isEnded = true
	r.endErr = err
	close(r.finished)
	r.mu.Unlock()
	if r.stream != nil {
		if abandon {
			r.stream.abandon()
		}
		r.stream.finish(err)
	}
}

// result returns the decision; call after decided is closed.
func (r *route) result() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.decideErr
}
