package amps

import (
	"context"
	"errors"
	"log/slog"
	"sync"
)

// pauseMessage is logged once each time the buffer fills up.
const pauseMessage = "Pausing AMPS message processing to let Flume source polling catch-up. Consider increasing maxBuffers; or maxBatch and the transaction capacity of your Flume channel(s)."

// item is one buffered message: what its event is built from, and whether
// its bookmark is to be discarded once it commits. Events are built at each
// commit attempt rather than on arrival, so a retry gets fresh events
// (interceptors may have changed the previous ones) without a copy being
// kept for it. Items are copied in and out of the buffer, so they stay small:
// the header fields are kept only when eventHeaders asks for them.
type item struct {
	data     []byte // the event body, shared by every attempt
	bookmark string
	discard  bool     // discard bookmark after the commit (bookmarkLog set)
	ack      bool     // a queue message: acknowledge bookmark after the commit
	received int64    // arrival time in Unix ms, for the timestamp header
	fields   *Message // nil unless eventHeaders names other AMPS fields
}

// multiBuffer holds at most maxBuffers × maxBatch messages between the
// reader goroutine and the polls, counting the batch being committed: its
// room is given back only once it commits, so the bound holds however long
// a batch keeps failing. put blocks when full; that is the back-pressure.
type multiBuffer struct {
	mu       sync.Mutex
	q        []item
	head     int
	held     int // queued + taken but not yet released
	capacity int
	maxBatch int
	paused   bool
	closed   bool // put refuses from now on (Stop)
	pauses   int64
	lastBM   string        // bookmark of the last message put, for StatusInfo
	space    chan struct{} // signalled when room is released
	wake     func()
	log      *slog.Logger
}

func newMultiBuffer(maxBuffers, maxBatch int, wake func(), log *slog.Logger) *multiBuffer {
	return &multiBuffer{
		capacity: maxBuffers * maxBatch,
		maxBatch: maxBatch,
		space:    make(chan struct{}, 1),
		wake:     wake,
		log:      log,
	}
}

// errBufferClosed is put's error once the source is stopping.
var errBufferClosed = errors.New("amps source: stopping")

// put appends it, waiting for room; it fails only when ctx ends or the
// buffer is closed. A message with a bookmark becomes the last bookmark seen.
func (b *multiBuffer) put(ctx context.Context, it *item) error {
	for {
		b.mu.Lock()
		if b.closed {
			b.mu.Unlock()
			return errBufferClosed
		}
		if b.held < b.capacity {
			wasEmpty := b.head == len(b.q)
			b.q = append(b.q, *it)
			if it.bookmark != "" {
				b.lastBM = it.bookmark
			}
			b.held++
			b.paused = false
			b.mu.Unlock()
			if wasEmpty {
				b.wake()
			}
			return nil
		}
		if !b.paused {
			b.paused = true
			b.pauses++
			b.log.Warn(pauseMessage)
		}
		b.mu.Unlock()
		select {
		case <-b.space:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// close makes every later put fail, so that what Stop drains is all there
// will be. Whoever waits for room is released by its context.
func (b *multiBuffer) close() {
	b.mu.Lock()
	b.closed = true
	b.mu.Unlock()
}

// take moves up to maxBatch queued items, oldest first, to dst and returns
// it. Their room stays held until release.
func (b *multiBuffer) take(dst []item) []item {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := min(len(b.q)-b.head, b.maxBatch)
	if n == 0 {
		return dst
	}
	out := append(dst, b.q[b.head:b.head+n]...)
	clear(b.q[b.head : b.head+n])
	b.head += n
	if b.head == len(b.q) {
		b.q, b.head = b.q[:0], 0
	} else if b.head > len(b.q)/2 {
		m := copy(b.q, b.q[b.head:])
		clear(b.q[m:])
		b.q, b.head = b.q[:m], 0
	}
	return out
}

// release gives back the room of n committed items.
func (b *multiBuffer) release(n int) {
	b.mu.Lock()
	b.held -= n
	b.mu.Unlock()
	select {
	case b.space <- struct{}{}:
	default:
	}
}

// lastBookmark is the bookmark of the last message put that had one.
func (b *multiBuffer) lastBookmark() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.lastBM
}

// stats returns the number of messages held and the pauses so far.
func (b *multiBuffer) stats() (held int, queued int, pauses int64, paused bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.held, len(b.q) - b.head, b.pauses, b.paused
}

// bodyAlloc copies the bodies of lent messages into shared blocks, so a
// stream of small messages costs one allocation per block instead of one
// per message. A block stays alive while any body carved from it does (an
// event held long after its neighbours were drained keeps up to
// bodyBlock bytes). It belongs to the goroutine that fills the buffer.
type bodyAlloc struct {
	buf []byte
}

const (
	bodyBlock = 16 << 10
	// Bodies above this size get an allocation of their own.
	bodyShared = 1 << 10
)

// copy returns a private copy of b, nil for an empty b. Its capacity ends
// with it, so an append by an interceptor reallocates instead of
// overwriting the next body.
func (a *bodyAlloc) copy(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	if len(b) > bodyShared {
		return append([]byte(nil), b...)
	}
	if cap(a.buf)-len(a.buf) < len(b) {
		a.buf = make([]byte, 0, bodyBlock)
	}
	off := len(a.buf)
	a.buf = append(a.buf, b...)
	return a.buf[off:len(a.buf):len(a.buf)]
}
