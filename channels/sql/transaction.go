package sql

import (
	"context"
	dbsql "database/sql"
	"errors"
	"fmt"
	"time"

	"ampsflume/flume"
)

type txState uint8

const (
	txNew txState = iota
	txOpen
	txCommitted
	txRolledBack // by Rollback, Close, or a failed Commit
	txClosed
)

func (s txState) String() string {
	return [...]string{"NEW", "OPEN", "COMMITTED", "ROLLED BACK", "CLOSED"}[s]
}

// transaction stages its puts in memory until commit (they are not durable
// before then, so nothing is lost by keeping them here) and claims rows for
// its takes.
type transaction struct {
	ch    *Channel
	state txState
	puts  []*flume.Event
	// claims are the ids of the rows taken, in take order.
	claims []int64
	// db is the PostgreSQL transaction holding the row locks of the claims;
	// nil with SQLite, whose claims live in the store.
	db *dbsql.Tx
	// ctx is the channel's context when the transaction began: once it is
	// cancelled, the store this transaction worked with is gone.
	ctx context.Context
	// interrupts is the channel's interrupt count at Begin.
	interrupts uint64
}

func (t *transaction) stateError(op string) error {
	return t.ch.errorf(op, fmt.Errorf("transaction is %s", t.state))
}

func (t *transaction) Begin() error {
	if t.state != txNew {
		return t.stateError("begin")
	}
	ctx, interrupts, ok := t.ch.begin()
	if !ok {
		return t.ch.errorf("begin", flume.ErrChannelClosed)
	}
	t.ctx, t.interrupts = ctx, interrupts
	t.state = txOpen
	return nil
}

func (t *transaction) Put(e *flume.Event) error {
	if t.state != txOpen {
		return t.stateError("put")
	}
	c := t.ch
	c.counter.EventPutAttempt.Add(1)
	if t.ctx.Err() != nil {
		c.counter.EventPutError.Add(1)
		return c.errorf("put", flume.ErrChannelClosed)
	}
	if len(t.puts) >= c.cfg.TransactionCapacity {
		c.counter.EventPutError.Add(1)
		return c.errorf("put", fmt.Errorf("%w: put list of capacity %d is full; commit more often or raise transactionCapacity",
			flume.ErrTransactionFull, c.cfg.TransactionCapacity))
	}
	t.puts = append(t.puts, e)
	return nil
}

func (t *transaction) Take() (*flume.Event, error) {
	if t.state != txOpen {
		return nil, t.stateError("take")
	}
	c := t.ch
	c.counter.EventTakeAttempt.Add(1)
	if len(t.claims) >= c.cfg.TransactionCapacity {
		c.counter.EventTakeError.Add(1)
		return nil, c.errorf("take", fmt.Errorf("%w: take list of capacity %d is full; take fewer events per transaction or raise transactionCapacity",
			flume.ErrTransactionFull, c.cfg.TransactionCapacity))
	}
	var deadline time.Time
	for {
		ctx := t.ctx
		wake, ok := c.arm(&c.notEmpty)
		if !ok || ctx.Err() != nil {
			return nil, c.errorf("take", flume.ErrChannelClosed)
		}
		e, err := c.store.take(ctx, t)
		if err != nil {
			c.counter.EventTakeError.Add(1)
			if ctx.Err() != nil {
				return nil, c.errorf("take", flume.ErrChannelClosed)
			}
			return nil, c.errorf("take", err)
		}
		if e != nil {
			return e, nil
		}
		// Only the first take of a transaction waits for events to arrive
		// (a partial batch is written at once rather than held back), and
		// not even that one once its sink is being stopped.
		if len(t.claims) > 0 || c.interruptedSince(t.interrupts) {
			return nil, nil
		}
		if deadline.IsZero() {
			deadline = time.Now().Add(c.cfg.KeepAlive)
		}
		if !c.sleep(ctx, wake, deadline) {
			if ctx.Err() != nil {
				return nil, c.errorf("take", flume.ErrChannelClosed)
			}
			return nil, nil
		}
	}
}

func (t *transaction) Commit() error {
	if t.state != txOpen {
		return t.stateError("commit")
	}
	c := t.ch
	var deadline time.Time
	for {
		ctx := t.ctx
		wake, ok := c.arm(&c.hasRoom)
		if !ok || ctx.Err() != nil {
			t.rollback()
			return c.errorf("commit", flume.ErrChannelClosed)
		}
		err := c.store.commit(ctx, t)
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			t.rollback()
			return c.errorf("commit", flume.ErrChannelClosed)
		}
		if !errors.Is(err, errNoRoom) {
			t.rollback()
			return c.errorf("commit", err)
		}
		if deadline.IsZero() {
			deadline = time.Now().Add(c.cfg.KeepAlive)
		}
		if !c.sleep(ctx, wake, deadline) {
			t.rollback()
			if ctx.Err() != nil {
				return c.errorf("commit", flume.ErrChannelClosed)
			}
			return c.errorf("commit", errFull)
		}
	}
	c.counter.EventPutSuccess.Add(int64(len(t.puts)))
	c.counter.EventTakeSuccess.Add(int64(len(t.claims)))
	c.wake(len(t.puts) > 0, len(t.claims) > 0)
	t.state = txCommitted
	t.release()
	return nil
}

// rollback releases the claims, which return to the head of the channel in
// id order, and drops the staged puts.
func (t *transaction) rollback() {
	c := t.ch
	freed := len(t.claims) > 0
	if t.ctx.Err() == nil {
		c.store.rollback(t)
	} else if t.db != nil {
		// The database already rolled it back when the context ended;
		// this only returns the connection.
		_ = t.db.Rollback()
	}
	c.counter.Rollback.Add(1)
	t.state = txRolledBack
	t.release()
	// Returned events are takeable again; waiting committers do not gain
	// room (the claims held it), but takers do gain events.
	c.wake(freed, false)
}

func (t *transaction) release() {
	clear(t.puts)
	t.puts, t.claims, t.db = t.puts[:0], t.claims[:0], nil
}

// Rollback discards the puts and returns the takes. After a Commit that
// failed (and so already rolled back) it does nothing, so the usual
// "commit; on error rollback" pattern is safe.
func (t *transaction) Rollback() error {
	switch t.state {
	case txOpen:
		t.rollback()
		return nil
	case txRolledBack:
		return nil
	}
	return t.stateError("rollback")
}

var errCloseOpen = errors.New("transaction closed while open; it was rolled back")

// Close ends the transaction. Closing an open transaction rolls it back and
// reports the misuse; closing twice is harmless.
func (t *transaction) Close() error {
	switch t.state {
	case txOpen:
		t.rollback()
		t.state = txClosed
		return t.ch.errorf("close", errCloseOpen)
	case txNew, txCommitted, txRolledBack:
		t.state = txClosed
	}
	return nil
}
