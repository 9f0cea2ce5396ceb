package memory

import (
	"errors"
	"fmt"
	"time"

	"ampsflume/flume"
)

var _ flume.BatchTaker = (*transaction)(nil)

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

// transaction stages puts locally, so a commit enters the whole batch into
// the queue under one lock.
type transaction struct {
	ch    *Channel
	state txState
	// txCap is the channel's transactionCapacity when the transaction
	// began: a reconfiguration does not change open transactions.
	txCap     int
	keepAlive time.Duration
	// interrupts is the channel's interrupt count at Begin.
	interrupts uint64
	puts       []*flume.Event
	putSlots   int64
	takes      []*flume.Event
	takeSlots  int64
	// spare is an empty list borrowed from the channel at Begin, under the
	// lock Begin takes anyway, for the first of puts and takes to need one.
	spare []*flume.Event
	// putAttempts and takeAttempts count the calls of this transaction;
	// they reach the channel's counter when it ends, so that a batch costs
	// one atomic add per counter instead of one per event (the counters
	// are shared with the goroutines at the other end of the channel).
	putAttempts, takeAttempts int64
}

func (t *transaction) stateError(op string) error {
	return t.ch.errorf(op, fmt.Errorf("transaction is %s", t.state))
}

func (t *transaction) Begin() error {
	if t.state != txNew {
		return t.stateError("begin")
	}
	c := t.ch
	c.mu.Lock()
	stopped := c.stopped
	t.txCap, t.keepAlive = c.cfg.TransactionCapacity, c.cfg.KeepAlive
	t.interrupts = c.interrupts
	if !stopped {
		t.spare = c.spareLocked()
	}
	c.mu.Unlock()
	if stopped {
		return c.errorf("begin", flume.ErrChannelClosed)
	}
	t.state = txOpen
	return nil
}

func (t *transaction) Put(e *flume.Event) error {
	if t.state != txOpen {
		return t.stateError("put")
	}
	c := t.ch
	t.putAttempts++
	if len(t.puts) >= t.txCap {
		c.counter.EventPutError.Add(1)
		return c.errorf("put", fmt.Errorf("%w: put list of capacity %d is full; commit more often or raise transactionCapacity",
			flume.ErrTransactionFull, t.txCap))
	}
	if t.puts == nil {
		t.puts = t.list()
	}
	t.puts = append(t.puts, e)
	t.putSlots += slots(e)
	return nil
}

// list returns an empty event list: the one borrowed at Begin, or a new one.
func (t *transaction) list() []*flume.Event {
	if b := t.spare; b != nil {
		t.spare = nil
		return b
	}
	// Small transactions are common (batchSize 1 sources); let those lists
	// grow as needed rather than reserve transactionCapacity up front.
	return make([]*flume.Event, 0, min(t.txCap, 64))
}

// takeFull counts and reports a take beyond transactionCapacity.
func (t *transaction) takeFull() error {
	t.ch.counter.EventTakeError.Add(1)
	return t.ch.errorf("take", fmt.Errorf("%w: take list of capacity %d is full; take fewer events per transaction or raise transactionCapacity",
		flume.ErrTransactionFull, t.txCap))
}

func (t *transaction) Take() (*flume.Event, error) {
	if t.state != txOpen {
		return nil, t.stateError("take")
	}
	c := t.ch
	t.takeAttempts++
	if len(t.takes) >= t.txCap {
		return nil, t.takeFull()
	}
	c.mu.Lock()
	var deadline time.Time
	for c.queue.len() == 0 {
		if c.stopped {
			c.mu.Unlock()
			return nil, c.errorf("take", flume.ErrChannelClosed)
		}
		if len(t.takes) > 0 || t.interrupts != c.interrupts {
			// A partial batch is worth more now than a full one later: only
			// the first take of a transaction waits for events to arrive,
			// and not even that one once its sink is being stopped.
			c.mu.Unlock()
			return nil, nil
		}
		if deadline.IsZero() {
			deadline = time.Now().Add(t.keepAlive)
		}
		if !c.waitLocked(&c.notEmpty, deadline) {
			stopped := c.stopped
			c.mu.Unlock()
			if stopped {
				return nil, c.errorf("take", flume.ErrChannelClosed)
			}
			return nil, nil
		}
	}
	if c.stopped {
		c.mu.Unlock()
		return nil, c.errorf("take", flume.ErrChannelClosed)
	}
	e := c.queue.popFront()
	if t.takes == nil {
		t.takes = t.list()
	}
	c.mu.Unlock()
	t.takes = append(t.takes, e)
	t.takeSlots += slots(e)
	return e, nil
}

// TakeBatch is Take up to max times under one lock: the first take follows
// Take's rules (it may wait for events), the others take what is queued.
func (t *transaction) TakeBatch(dst []*flume.Event, max int) ([]*flume.Event, error) {
	if max <= 0 {
		return dst, nil
	}
	e, err := t.Take()
	if err != nil || e == nil {
		return dst, err
	}
	dst = append(dst, e)
	c := t.ch
	var fail error
	c.mu.Lock()
	for range max - 1 {
		// The checks of Take, in its order, for each further take.
		t.takeAttempts++
		if len(t.takes) >= t.txCap {
			fail = flume.ErrTransactionFull
			break
		}
		if c.stopped {
			fail = flume.ErrChannelClosed
			break
		}
		if c.queue.len() == 0 {
			break
		}
		e := c.queue.popFront()
		t.takes = append(t.takes, e)
		t.takeSlots += slots(e)
		dst = append(dst, e)
	}
	c.mu.Unlock()
	switch fail {
	case nil:
		return dst, nil
	case flume.ErrTransactionFull:
		return dst, t.takeFull()
	default:
		return dst, c.errorf("take", fail)
	}
}

func (t *transaction) Commit() error {
	if t.state != txOpen {
		return t.stateError("commit")
	}
	c := t.ch
	net := len(t.puts) - len(t.takes)
	netSlots := t.putSlots - t.takeSlots
	c.mu.Lock()
	var deadline time.Time
	for {
		if c.stopped {
			t.rollbackLocked()
			c.mu.Unlock()
			return c.errorf("commit", flume.ErrChannelClosed)
		}
		ok, why := c.fits(net, netSlots)
		if ok {
			break
		}
		if deadline.IsZero() {
			deadline = time.Now().Add(t.keepAlive)
		}
		if !c.waitLocked(&c.hasRoom, deadline) && !c.stopped {
			t.rollbackLocked()
			c.mu.Unlock()
			return c.errorf("commit", why)
		}
	}
	if len(t.puts) > 0 {
		c.queue.pushBack(t.puts)
		c.notEmpty.notify()
	}
	c.used += net
	c.usedSlots += netSlots
	if net < 0 || netSlots < 0 {
		c.hasRoom.notify()
	}
	if n := len(t.puts); n > 0 {
		c.counter.EventPutSuccess.Add(int64(n))
	}
	if n := len(t.takes); n > 0 {
		c.counter.EventTakeSuccess.Add(int64(n))
	}
	t.state = txCommitted
	t.releaseLocked()
	c.mu.Unlock()
	return nil
}

// rollbackLocked returns the taken events to the head of the queue; their
// places were never given up. Staged puts are simply dropped.
func (t *transaction) rollbackLocked() {
	c := t.ch
	if len(t.takes) > 0 {
		c.queue.pushFront(t.takes)
		c.notEmpty.notify()
	}
	c.counter.Rollback.Add(1)
	t.state = txRolledBack
	t.releaseLocked()
}

// releaseLocked hands the transaction's attempt counts to the channel's
// counter and its event lists back to the channel for later transactions.
// The transaction is over: it never touches the lists again.
func (t *transaction) releaseLocked() {
	c := t.ch
	if t.putAttempts > 0 {
		c.counter.EventPutAttempt.Add(t.putAttempts)
	}
	if t.takeAttempts > 0 {
		c.counter.EventTakeAttempt.Add(t.takeAttempts)
	}
	t.putAttempts, t.takeAttempts = 0, 0
	c.recycleLocked(t.puts)
	c.recycleLocked(t.takes)
	c.recycleLocked(t.spare)
	t.puts, t.takes, t.spare = nil, nil, nil
	t.putSlots, t.takeSlots = 0, 0
}

// Rollback discards the puts and returns the takes. After a Commit that
// failed (and so already rolled back) it does nothing, so the usual
// "commit; on error rollback" pattern is safe.
func (t *transaction) Rollback() error {
	switch t.state {
	case txOpen:
		t.ch.mu.Lock()
		t.rollbackLocked()
		t.ch.mu.Unlock()
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
		_ = t.Rollback()
		t.state = txClosed
		return t.ch.errorf("close", errCloseOpen)
	case txNew, txCommitted, txRolledBack:
		t.state = txClosed
	}
	return nil
}
