package kafka

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"ampsflume/avrorpc"
	"ampsflume/flume"
)

type txState int

const (
	txNew txState = iota
	txOpen
	txDone
	txClosed
)

var errState = errors.New("illegal transaction state")

type transaction struct {
	ch    *Channel
	state txState
	puts  []*flume.Event
	takes []*kgo.Record
	// taken counts the records handed out as events (takes also holds
	// undecodable records, skipped but committed past).
	taken int
	// interrupts is the channel's interrupt count at Begin.
	interrupts uint64
}

func (t *transaction) check(op string) error {
	t.ch.mu.Lock()
	stopped := t.ch.stopped
	t.ch.mu.Unlock()
	if stopped {
		return t.ch.errorf(op, flume.ErrChannelClosed)
	}
	if t.state != txOpen {
		return t.ch.errorf(op, fmt.Errorf("%w: transaction is not open", errState))
	}
	return nil
}

func (t *transaction) Begin() error {
	if t.state != txNew {
		return t.ch.errorf("begin", fmt.Errorf("%w: Begin called twice", errState))
	}
	t.ch.mu.Lock()
	stopped := t.ch.stopped
	t.interrupts = t.ch.interrupts
	t.ch.mu.Unlock()
	if stopped {
		return t.ch.errorf("begin", flume.ErrChannelClosed)
	}
	t.state = txOpen
	return nil
}

func (t *transaction) Put(e *flume.Event) error {
	if err := t.check("put"); err != nil {
		return err
	}
	t.ch.counter.EventPutAttempt.Add(1)
	if tc := t.ch.cfg.TransactionCapacity; tc > 0 && len(t.puts) >= tc {
		return t.ch.errorf("put", fmt.Errorf("%w (%d)", flume.ErrTransactionFull, tc))
	}
	t.puts = append(t.puts, e)
	return nil
}

func (t *transaction) Take() (*flume.Event, error) {
	if err := t.check("take"); err != nil {
		return nil, err
	}
	c := t.ch
	if tc := c.cfg.TransactionCapacity; tc > 0 && t.taken >= tc {
		return nil, c.errorf("take", fmt.Errorf("%w (%d)", flume.ErrTransactionFull, tc))
	}
	c.counter.EventTakeAttempt.Add(1)
	timer := time.NewTimer(c.cfg.PollTimeout)
	defer timer.Stop()
	for {
		c.mu.Lock()
		for len(c.buf) == 0 {
			if c.stopped {
				c.mu.Unlock()
				return nil, c.errorf("take", flume.ErrChannelClosed)
			}
			if t.interrupts != c.interrupts {
				// Its sink is being stopped: do not wait for records.
				c.mu.Unlock()
				return nil, nil
			}
			arrived := c.arrived
			c.mu.Unlock()
			select {
			case <-arrived:
			case <-timer.C:
				return nil, nil
			}
			c.mu.Lock()
		}
		r := c.buf[0]
		c.buf[0] = nil
		c.buf = c.buf[1:]
		if len(c.buf) == maxBuffered-1 || len(c.buf) == 0 {
			close(c.room)
			c.room = make(chan struct{})
		}
		c.mu.Unlock()
		t.takes = append(t.takes, r)
		e, err := t.decode(r)
		if err != nil {
			// A record that is not an event can never be delivered: skip
			// it (its offset is committed with this transaction) rather
			// than fail every take after it.
			c.counter.EventTakeError.Add(1)
			c.log.Error("skipping undecodable record", "partition", r.Partition, "offset", r.Offset, "err", err)
			continue
		}
		t.taken++
		return e, nil
	}
}

func (t *transaction) decode(r *kgo.Record) (*flume.Event, error) {
	if !t.ch.cfg.ParseAsFlumeEvent {
		return flume.NewEvent(r.Value, nil), nil
	}
	e, err := avrorpc.UnmarshalEvent(r.Value)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errDecode, err)
	}
	return e, nil
}

func (t *transaction) Commit() error {
	if err := t.check("commit"); err != nil {
		if t.state == txOpen {
			t.rollback()
		}
		return err
	}
	c := t.ch
	if len(t.puts) > 0 {
		if err := t.produce(); err != nil {
			c.counter.EventPutError.Add(int64(len(t.puts)))
			t.rollback()
			return c.errorf("commit", err)
		}
	}
	if len(t.takes) > 0 {
		if err := t.commitOffsets(); err != nil {
			c.counter.EventTakeError.Add(int64(t.taken))
			t.rollback()
			return c.errorf("commit", err)
		}
	}
	c.counter.EventPutSuccess.Add(int64(len(t.puts)))
	c.counter.EventTakeSuccess.Add(int64(t.taken))
	t.finish()
	return nil
}

// produce sends the puts and waits for every acknowledgement.
func (t *transaction) produce() error {
	c := t.ch
	recs := make([]*kgo.Record, len(t.puts))
	for i, e := range t.puts {
		value := e.Body
		if c.cfg.ParseAsFlumeEvent {
			var err error
			if value, err = avrorpc.MarshalEvent(e); err != nil {
				return err
			}
		}
		r, err := c.cfg.Placement.Record(c.cfg.Topic, e, value)
		if err != nil {
			return err
		}
		recs[i] = r
	}
	ctx := context.Background()
	if c.cfg.Capacity > 0 {
		c.capMu.Lock()
		defer c.capMu.Unlock()
		size, err := c.lag(ctx)
		if err != nil {
			return fmt.Errorf("checking capacity: %w", err)
		}
		// This transaction's own takes leave the channel with the commit.
		net := int64(len(t.puts) - len(t.takes))
		if size+net > int64(c.cfg.Capacity) {
			return fullError{size: size, puts: int64(len(t.puts)), capacity: int64(c.cfg.Capacity)}
		}
	}
	if err := c.client.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		return fmt.Errorf("produce %d records to %s: %w", len(recs), c.cfg.Topic, err)
	}
	return nil
}

// commitOffsets releases the takes and commits, per partition, the offset
// before which nothing is held any more.
func (t *transaction) commitOffsets() error {
	c := t.ch
	c.commitMu.Lock()
	defer c.commitMu.Unlock()
	c.mu.Lock()
	touched := map[int32]bool{}
	for _, r := range t.takes {
		if h := c.held[r.Partition]; h != nil {
			delete(h, r.Offset)
			touched[r.Partition] = true
		}
	}
	offsets := map[string]map[int32]kgo.EpochOffset{c.cfg.Topic: {}}
	for p := range touched {
		at := c.next[p]
		for o := range c.held[p] {
			at = min(at, o)
		}
		offsets[c.cfg.Topic][p] = kgo.EpochOffset{Epoch: -1, Offset: at}
	}
	c.mu.Unlock()
	if len(touched) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var cerr error
	c.client.CommitOffsetsSync(ctx, offsets, func(_ *kgo.Client, _ *kmsg.OffsetCommitRequest, resp *kmsg.OffsetCommitResponse, err error) {
		if err != nil {
			cerr = err
			return
		}
		for _, rt := range resp.Topics {
			for _, rp := range rt.Partitions {
				if e := kerr.ErrorForCode(rp.ErrorCode); e != nil && cerr == nil {
					cerr = fmt.Errorf("partition %d: %w", rp.Partition, e)
				}
			}
		}
	})
	if cerr != nil {
		// The records go back to held so that a rollback returns them.
		c.mu.Lock()
		for _, r := range t.takes {
			if h := c.held[r.Partition]; h != nil {
				h[r.Offset] = struct{}{}
			}
		}
		c.mu.Unlock()
		return fmt.Errorf("commit offsets of group %s: %w", c.cfg.Group, cerr)
	}
	return nil
}

func (t *transaction) Rollback() error {
	if t.state != txOpen {
		return t.ch.errorf("rollback", fmt.Errorf("%w: transaction is not open", errState))
	}
	t.rollback()
	return nil
}

// rollback discards the puts and returns the takes to the head of the
// channel.
func (t *transaction) rollback() {
	c := t.ch
	if len(t.takes) > 0 {
		c.mu.Lock()
		back := t.takes[:0]
		for _, r := range t.takes {
			// Records of partitions revoked meanwhile belong to the new
			// owner now.
			if h := c.held[r.Partition]; h != nil {
				if _, ok := h[r.Offset]; ok {
					back = append(back, r)
				}
			}
		}
		if len(back) > 0 && !c.stopped {
			c.buf = append(back, c.buf...)
			close(c.arrived)
			c.arrived = make(chan struct{})
		}
		c.mu.Unlock()
		c.counter.Rollback.Add(1)
	}
	t.finish()
}

func (t *transaction) finish() {
	t.puts, t.takes, t.taken = nil, nil, 0
	t.state = txDone
}

func (t *transaction) Close() error {
	switch t.state {
	case txOpen:
		t.rollback()
		t.state = txClosed
		return t.ch.errorf("close", fmt.Errorf("%w: closed while open; rolled back", errState))
	case txNew:
		t.state = txClosed
	case txDone:
		t.state = txClosed
	}
	return nil
}
