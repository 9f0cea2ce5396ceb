package flume

import (
	"errors"
	"fmt"
)

// ErrChannelFull is matched (errors.Is) by the error a Put or Commit returns
// when the channel has no room for the transaction's events. It is Flume's
// ChannelFullException: back-pressure, not data loss. The caller keeps its
// events and retries later.
var ErrChannelFull = errors.New("channel full")

// ErrTransactionFull is matched by the error a Put or Take returns when the
// transaction already holds transactionCapacity events.
var ErrTransactionFull = errors.New("transaction capacity exceeded")

// ErrChannelClosed is matched by the error returned when a channel is used
// after Stop.
var ErrChannelClosed = errors.New("channel stopped")

// ChannelError wraps a channel failure with the channel's name, the way Flume's
// ChannelException carries the context of a failed put, take or commit.
type ChannelError struct {
	Channel string
	Op      string // "put", "take", "commit", "rollback"
	Err     error
}

func (e *ChannelError) Error() string {
	return fmt.Sprintf("channel %q: %s: %v", e.Channel, e.Op, e.Err)
}

func (e *ChannelError) Unwrap() error { return e.Err }

// Channel is a queue of events between sources and sinks. Every access goes
// through a Transaction.
type Channel interface {
	Lifecycle
	// NewTransaction returns a transaction in the NEW state; call Begin before
	// using it and Close after Commit or Rollback.
	NewTransaction() Transaction
	// Capacity is the maximum number of events the channel holds.
	Capacity() int
	// TransactionCapacity is the maximum number of events one transaction may
	// put or take. Sources and sinks must not use batches larger than this.
	TransactionCapacity() int
	// Size is the number of committed events currently queued.
	Size() int
}

// Transaction is a unit of work against one channel: begin, any number of puts
// and takes, then commit or rollback, then close. A transaction must not be
// shared between goroutines.
type Transaction interface {
	Begin() error
	// Put stages an event; it becomes visible to takers only at Commit.
	Put(e *Event) error
	// Take removes the event at the head of the channel. The first Take of a
	// transaction waits up to the channel's keep-alive for an event to arrive;
	// later ones return at once when the channel is empty, so that a sink
	// writes a partial batch without delay instead of waiting for it to fill.
	// It returns (nil, nil) when no event is available. Taken events are gone
	// for good only at Commit.
	Take() (*Event, error)
	// Commit makes the puts visible and the takes final. On error the
	// transaction is rolled back as if Rollback had been called.
	Commit() error
	// Rollback discards the puts and returns the taken events to the head of
	// the channel in the order they were taken.
	Rollback() error
	// Close ends the transaction. Closing an open (begun but neither committed
	// nor rolled back) transaction rolls it back and returns an error.
	Close() error
}

// Reconfigurable is implemented by channels whose contents survive a
// configuration reload (Flume's "recyclable" channels, such as memory): the
// engine keeps the same instance and hands it the new configuration instead
// of recreating it.
type Reconfigurable interface {
	Reconfigure(cfg *Context) error
}

// TakeInterrupter is implemented by channels whose Take waits for events to
// arrive. The engine calls InterruptTakes on the channel of every sink it
// stops, so that stopping does not wait out the keep-alive of a take already
// in progress (Flume interrupts the sink runner's thread for the same
// reason). Normal operation is unchanged: only transactions begun before the
// call are affected.
type TakeInterrupter interface {
	// InterruptTakes makes every Take of a transaction begun before the
	// call return (nil, nil) at once instead of waiting for an event: the
	// takes waiting now end, and later first takes of those transactions do
	// not wait. Events already queued are still handed out. Safe from any
	// goroutine.
	InterruptTakes()
}
