package amps

import (
	"context"
	"log/slog"
	"sync"

	"ampsflume/flume"
)

// pauseMessage is logged once each time the buffer fills up.
const pauseMessage = "Pausing AMPS message processing to let Flume source polling catch-up. Consider increasing maxBuffers; or maxBatch and the transaction capacity of your Flume channel(s)."

// item is one buffered event and the bookmark to discard once it commits.
type item struct {
	ev       *flume.Event
	bookmark string
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
	pauses   int64
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

// put appends it, waiting for room; it fails only when ctx ends.
func (b *multiBuffer) put(ctx context.Context, it item) error {
	for {
		b.mu.Lock()
		if b.held < b.capacity {
			wasEmpty := b.head == len(b.q)
			b.q = append(b.q, it)
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

// take removes up to maxBatch queued items, oldest first. Their room stays
// held until release.
func (b *multiBuffer) take() []item {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := min(len(b.q)-b.head, b.maxBatch)
	if n == 0 {
		return nil
	}
	out := make([]item, n)
	copy(out, b.q[b.head:b.head+n])
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

// stats returns the number of messages held and the pauses so far.
func (b *multiBuffer) stats() (held int, queued int, pauses int64, paused bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.held, len(b.q) - b.head, b.pauses, b.paused
}
