package file

import (
	"errors"
	"fmt"
	"sync"
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

// txn buffers its records and writes them with its commit record in one
// append. A transaction whose records outgrow the spill size writes them
// early ("spills"); its commit or rollback record then settles them.
type txn struct {
	c     *Channel
	state txState
	id    uint64
	// interrupts is the channel's interrupt count at Begin.
	interrupts uint64

	buf     []byte  // records not yet in the log
	bufPuts []int   // offsets in buf of its PUT records
	bufs    *txBufs // where buf and bufPuts came from, to recycle them
	puts    []ptr   // PUT records already in the log (spilled)
	nputs   int     // puts staged, each holding a unit of capacity
	takes   []ptr   // taken, in order; guarded by c.mu
	probed  bool    // free space checked for this transaction
	spilled bool    // some records are in the log; guarded by c.mu
	// spilledTakes counts the leading takes whose records are in the log.
	spilledTakes int
}

func (t *txn) stateError(op string) error {
	return t.c.errorf(op, fmt.Errorf("transaction is %s", t.state))
}

func (t *txn) Begin() error {
	if t.state != txNew {
		return t.stateError("begin")
	}
	c := t.c
	c.mu.Lock()
	err := c.healthLocked()
	if err == nil {
		t.id = c.nextTxid
		c.nextTxid++
		t.interrupts = c.interrupts
	}
	c.mu.Unlock()
	if err != nil {
		return c.errorf("begin", err)
	}
	t.state = txOpen
	return nil
}

// wait blocks until ch is closed, the channel stops, or keep-alive passes.
func (c *Channel) wait(ch, stopped chan struct{}) {
	timer := time.NewTimer(c.cfg.KeepAlive)
	defer timer.Stop()
	select {
	case <-ch:
	case <-stopped:
	case <-timer.C:
	}
}

func (t *txn) Put(e *flume.Event) error {
	if t.state != txOpen {
		return t.stateError("put")
	}
	c := t.c
	c.counter.EventPutAttempt.Add(1)
	err := t.put(e)
	if err != nil {
		c.counter.EventPutError.Add(1)
		return c.errorf("put", err)
	}
	return nil
}

func (t *txn) put(e *flume.Event) error {
	c := t.c
	if t.nputs >= c.cfg.TransactionCapacity {
		return fmt.Errorf("%w: put list of capacity %d is full; commit more often or raise transactionCapacity",
			flume.ErrTransactionFull, c.cfg.TransactionCapacity)
	}
	t.getBufs()
	mark := len(t.buf)
	t.buf = appendPut(t.buf, t.id, e)
	size := len(t.buf) - mark
	undo := func() { t.buf = t.buf[:mark] }
	if int64(size)+segHeaderSize+2*recordHeaderSize+minPayload > c.cfg.MaxFileSize {
		undo()
		return fmt.Errorf("event of %d bytes does not fit in a log segment (maxFileSize %d)", size, c.cfg.MaxFileSize)
	}
	if err := c.checkSpace(size, !t.probed); err != nil {
		undo()
		return err
	}
	t.probed = true
	if err := c.reserve(); err != nil {
		undo()
		return err
	}
	if mark > 0 && len(t.buf) > c.cfg.spillBytes {
		// Write what was staged before this event; keep the event itself
		// buffered, so a failed spill leaves the transaction intact.
		rec := append([]byte(nil), t.buf[mark:]...)
		t.buf = t.buf[:mark]
		if err := t.spill(); err != nil {
			c.unreserve(1)
			return err
		}
		t.buf = append(t.buf, rec...)
		mark = 0
	}
	t.bufPuts = append(t.bufPuts, mark)
	t.nputs++
	return nil
}

// reserve takes a unit of capacity for a put, waiting up to keep-alive.
func (c *Channel) reserve() error {
	// The deadline is read from the clock only once the channel is full:
	// a clock read per put was a tenth of a small event's cost.
	var deadline time.Time
	c.mu.Lock()
	defer c.mu.Unlock()
	for {
		if err := c.healthLocked(); err != nil {
			return err
		}
		if c.reserved < c.cfg.Capacity {
			c.reserved++
			return nil
		}
		if deadline.IsZero() {
			deadline = time.Now().Add(c.cfg.KeepAlive)
		}
		if !time.Now().Before(deadline) {
			return fmt.Errorf("%w: capacity %d reached; sinks are likely not keeping up, or raise capacity",
				flume.ErrChannelFull, c.cfg.Capacity)
		}
		ch, stopped := c.roomFreed, c.stopped
		c.mu.Unlock()
		c.wait(ch, stopped)
		c.mu.Lock()
	}
}

func (c *Channel) unreserve(n int) {
	if n == 0 {
		return
	}
	c.mu.Lock()
	c.reserved -= n
	broadcast(&c.roomFreed)
	c.mu.Unlock()
}

// spill writes the buffered records to the log ahead of the commit.
func (t *txn) spill() error {
	c := t.c
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.healthLocked(); err != nil {
		return err
	}
	base, _, err := c.w.append(t.buf)
	if err != nil {
		return err
	}
	for _, off := range t.bufPuts {
		t.puts = append(t.puts, base+ptr(off))
	}
	t.spilledTakes = len(t.takes)
	t.buf, t.bufPuts = t.buf[:0], t.bufPuts[:0]
	t.spilled = true
	c.inflight[t] = struct{}{}
	return nil
}

func (t *txn) Take() (*flume.Event, error) {
	if t.state != txOpen {
		return nil, t.stateError("take")
	}
	c := t.c
	c.counter.EventTakeAttempt.Add(1)
	e, err := t.take()
	if err != nil {
		c.counter.EventTakeError.Add(1)
		return nil, c.errorf("take", err)
	}
	return e, nil
}

func (t *txn) take() (*flume.Event, error) {
	c := t.c
	if len(t.takes) >= c.cfg.TransactionCapacity {
		return nil, fmt.Errorf("%w: take list of capacity %d is full; use a smaller batch or raise transactionCapacity",
			flume.ErrTransactionFull, c.cfg.TransactionCapacity)
	}
	deadline := time.Now().Add(c.cfg.KeepAlive)
	c.mu.Lock()
	var p ptr
	for {
		if err := c.healthLocked(); err != nil {
			c.mu.Unlock()
			return nil, err
		}
		var ok bool
		if p, ok = c.q.popFront(); ok {
			break
		}
		// Only the first take of a transaction waits for events to arrive:
		// a partial batch is written at once rather than held back. Nor
		// does it wait once its sink is being stopped.
		if len(t.takes) > 0 || t.interrupts != c.interrupts || !time.Now().Before(deadline) {
			c.mu.Unlock()
			return nil, nil
		}
		ch, stopped := c.notEmpty, c.stopped
		c.mu.Unlock()
		c.wait(ch, stopped)
		c.mu.Lock()
	}
	t.takes = append(t.takes, p)
	c.inflight[t] = struct{}{}
	c.mu.Unlock()

	e, err := c.w.read(p)
	if err != nil {
		c.mu.Lock()
		t.takes = t.takes[:len(t.takes)-1]
		c.q.pushFront(p)
		c.mu.Unlock()
		if errors.Is(err, errBadRecord) {
			// A committed event that no longer reads back: stop rather
			// than skip it silently or hand out garbage.
			c.fail(err)
		}
		return nil, err
	}
	t.getBufs()
	t.buf = appendTake(t.buf, t.id, p)
	if len(t.buf) > c.cfg.spillBytes {
		if err := t.spill(); err != nil {
			// The take record is still buffered; the event stays taken.
			c.log.Warn("writing a large transaction ahead of its commit failed", "err", err)
		}
	}
	return e, nil
}

func (t *txn) Commit() error {
	if t.state != txOpen {
		return t.stateError("commit")
	}
	c := t.c
	if err := t.commit(); err != nil {
		return c.errorf("commit", err)
	}
	return nil
}

func (t *txn) commit() error {
	c := t.c
	if t.nputs == 0 && len(t.takes) == 0 && !t.spilled {
		t.state = txCommitted
		return nil
	}
	t.buf = appendMarker(t.buf, recCommit, t.id)
	c.mu.Lock()
	if err := c.healthLocked(); err != nil {
		c.mu.Unlock()
		t.rollback()
		return err
	}
	base, end, err := c.w.append(t.buf)
	if err != nil {
		c.mu.Unlock()
		t.rollback()
		return err
	}
	// The queue takes the puts in log order, so replay rebuilds the same
	// order.
	for _, p := range t.puts {
		c.q.pushBack(p)
	}
	for _, off := range t.bufPuts {
		c.q.pushBack(base + ptr(off))
	}
	ntakes := len(t.takes)
	c.reserved -= ntakes
	delete(c.inflight, t)
	if t.nputs > 0 {
		broadcast(&c.notEmpty)
	}
	if ntakes > 0 {
		broadcast(&c.roomFreed)
	}
	c.mu.Unlock()
	t.state = txCommitted
	c.counter.EventPutSuccess.Add(int64(t.nputs))
	c.counter.EventTakeSuccess.Add(int64(ntakes))
	t.release()
	if c.cfg.FsyncPerTransaction {
		if err := c.w.waitSynced(end); err != nil {
			// The records may or may not have reached the disk; the log
			// refuses further work and a restart settles what is there.
			return fmt.Errorf("fsync failed, the commit may or may not be durable: %w", err)
		}
	}
	return nil
}

// txBufs are a transaction's record buffer and put offsets, recycled
// through bufPool: a batch of 1000 1 KB events is a megabyte that would
// otherwise be allocated, grown and faulted in anew for every transaction,
// and its offsets a slice grown ten times.
type txBufs struct {
	buf  []byte
	puts []int
}

var bufPool = sync.Pool{New: func() any { return new(txBufs) }}

// getBufs takes recycled buffers for the transaction's first record.
func (t *txn) getBufs() {
	if t.bufs == nil && t.buf == nil {
		t.bufs = bufPool.Get().(*txBufs)
		t.buf, t.bufPuts = t.bufs.buf[:0], t.bufs.puts[:0]
	}
}

// release drops the transaction's buffers once it is settled.
func (t *txn) release() {
	if t.buf != nil && cap(t.buf) <= 2*t.c.cfg.spillBytes {
		b := t.bufs
		if b == nil {
			b = new(txBufs)
		}
		b.buf, b.puts = t.buf[:0], t.bufPuts[:0]
		bufPool.Put(b)
	}
	t.bufs = nil
	t.buf, t.bufPuts, t.puts, t.takes = nil, nil, nil, nil
	t.nputs, t.spilledTakes = 0, 0
}

func (t *txn) Rollback() error {
	if t.state != txOpen {
		return t.stateError("rollback")
	}
	t.rollback()
	return nil
}

// rollback returns the taken events to the head of the queue in the order
// they were taken and gives back the capacity of the staged puts.
func (t *txn) rollback() {
	c := t.c
	c.mu.Lock()
	for i := len(t.takes) - 1; i >= 0; i-- {
		c.q.pushFront(t.takes[i])
	}
	c.reserved -= t.nputs
	delete(c.inflight, t)
	if len(t.takes) > 0 {
		broadcast(&c.notEmpty)
	}
	if t.nputs > 0 {
		broadcast(&c.roomFreed)
	}
	if t.spilled && c.healthLocked() == nil {
		// Lets replay forget the spilled records at once; without it they
		// are dropped anyway for lack of a commit.
		if _, _, err := c.w.append(appendMarker(nil, recRollback, t.id)); err != nil {
			c.log.Warn("writing a rollback record failed", "err", err)
		}
	}
	c.mu.Unlock()
	c.counter.Rollback.Add(1)
	t.state = txRolledBack
	t.release()
}

func (t *txn) Close() error {
	switch t.state {
	case txOpen:
		t.rollback()
		t.state = txClosed
		return t.c.errorf("close", errors.New("transaction closed while open; it was rolled back"))
	default:
		t.state = txClosed
		return nil
	}
}
