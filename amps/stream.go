package amps

import (
	"context"
	"io"
	"iter"
	"sync"
)

// MessageStream delivers the messages of one command through a bounded
// buffer. When the buffer is full the connection stops reading until the
// consumer catches up; no message is dropped. Read it with Next, with a range
// over C, or with All, and Close it when done with a subscription.
type MessageStream struct {
	ch        chan *Message
	abandoned chan struct{}
	abandonMu sync.Once

	mu      sync.Mutex // held while pushing; finish takes it to close ch
	closed  bool
	err     error
	onClose func()

	subID   string
	queryID string
	cid     string
}

func newStream(size int) *MessageStream {
	return &MessageStream{ch: make(chan *Message, size), abandoned: make(chan struct{})}
}

// SubID is the subscription id of a subscribe-type command.
func (s *MessageStream) SubID() string { return s.subID }

// QueryID is the query id of a sow-type command.
func (s *MessageStream) QueryID() string { return s.queryID }

// CommandID is the command's cid.
func (s *MessageStream) CommandID() string { return s.cid }

// C returns the channel of messages. It is closed when the stream ends; Err
// then tells why.
func (s *MessageStream) C() <-chan *Message { return s.ch }

// Next returns the next message. At the end of the stream it returns io.EOF
// when the command finished normally, else the error that ended it.
func (s *MessageStream) Next(ctx context.Context) (*Message, error) {
	// A consumer that keeps up finds a message waiting: take it without
	// the cost of a select over two channels.
	select {
	case m, ok := <-s.ch:
		if ok {
			return m, nil
		}
	default:
	}
	select {
	case m, ok := <-s.ch:
		if ok {
			return m, nil
		}
		if err := s.Err(); err != nil {
			return nil, err
		}
		return nil, io.EOF
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// All ranges over the messages until the stream ends; check Err afterwards.
func (s *MessageStream) All() iter.Seq[*Message] {
	return func(yield func(*Message) bool) {
		for m := range s.ch {
			if !yield(m) {
				return
			}
		}
	}
}

// Err is the error that ended the stream, nil while it runs or after a
// normal end.
func (s *MessageStream) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// Close ends the stream. For a subscription it also tells the server to
// unsubscribe, without waiting for an answer. Messages already buffered can
// still be read.
func (s *MessageStream) Close() error {
	s.abandon()
	if s.onClose != nil {
		s.onClose()
	}
	s.finish(nil)
	return nil
}

func (s *MessageStream) abandon() {
	s.abandonMu.Do(func() { close(s.abandoned) })
}

// push blocks until the consumer takes m, the stream is abandoned or the
// connection is being closed.
func (s *MessageStream) push(m *Message, stop <-chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	// While the buffer has room a plain send does, without a select over
	// three channels; only a full buffer needs to watch for the end.
	select {
	case s.ch <- m:
		return
	default:
	}
	select {
	case s.ch <- m:
	case <-s.abandoned:
	case <-stop:
	}
}

func (s *MessageStream) finish(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	s.closed = true
	s.err = err
	close(s.ch)
}

// closedStream is what commands without a reply return.
func closedStream(cid string) *MessageStream {
	s := newStream(0)
	s.cid = cid
	s.finish(nil)
	return s
}
