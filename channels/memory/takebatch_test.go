package memory

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"testing"

	"ampsflume/flume"
)

// takeOneByOne is the behaviour TakeBatch promises: Take up to max times,
// stopping at the first nil event or error.
func takeOneByOne(tx flume.Transaction, dst []*flume.Event, max int) ([]*flume.Event, error) {
	for range max {
		e, err := tx.Take()
		if err != nil || e == nil {
			return dst, err
		}
		dst = append(dst, e)
	}
	return dst, nil
}

// TakeBatch matches Take called in a loop: the same events, errors, queue
// and counters, then the same state after commit or rollback.
func TestTakeBatchMatchesTake(t *testing.T) {
	tests := []struct {
		name           string
		queued, txCap  int
		before         int // events taken one by one first
		max            int
		stop, rollback bool
	}{
		{name: "fewer queued than asked", queued: 3, txCap: 10, max: 8},
		{name: "more queued than asked", queued: 9, txCap: 10, max: 4},
		{name: "exactly the queue", queued: 5, txCap: 10, max: 5},
		{name: "beyond transactionCapacity", queued: 10, txCap: 4, max: 6},
		{name: "after takes, beyond transactionCapacity", queued: 10, txCap: 4, before: 2, max: 3},
		{name: "after takes, queue drained", queued: 3, txCap: 10, before: 3, max: 2},
		{name: "empty queue", queued: 0, txCap: 10, max: 3},
		{name: "nothing asked", queued: 3, txCap: 10, max: 0},
		{name: "stopped channel", queued: 3, txCap: 10, max: 2, stop: true},
		{name: "rolled back", queued: 6, txCap: 10, before: 1, max: 3, rollback: true},
	}
	type outcome struct {
		got, rest   []string
		err         string
		size        int
		counters    [5]int64
		errIsFull   bool
		errIsClosed bool
	}
	run := func(t *testing.T, tt struct {
		name           string
		queued, txCap  int
		before         int
		max            int
		stop, rollback bool
	}, take func(flume.Transaction, []*flume.Event, int) ([]*flume.Event, error)) outcome {
		cfg := testConfig(20, tt.txCap)
		c := newTest(t, cfg)
		bodies := make([]string, tt.queued)
		for i := range bodies {
			bodies[i] = strconv.Itoa(i)
		}
		if tt.queued > 0 {
			for i := 0; i < tt.queued; i += tt.txCap {
				if err := put(t, c, bodies[i:min(i+tt.txCap, tt.queued)]...); err != nil {
					t.Fatal(err)
				}
			}
		}
		tx := c.NewTransaction()
		if err := tx.Begin(); err != nil {
			t.Fatal(err)
		}
		before, err := takeOneByOne(tx, nil, tt.before)
		if err != nil || len(before) != tt.before {
			t.Fatalf("takes before: %d, %v", len(before), err)
		}
		if tt.stop {
			_ = c.Stop()
		}
		var o outcome
		dst, err := take(tx, []*flume.Event{flume.NewEvent([]byte("kept"), nil)}, tt.max)
		for _, e := range dst {
			o.got = append(o.got, string(e.Body))
		}
		if err != nil {
			o.err = err.Error()
			o.errIsFull = errors.Is(err, flume.ErrTransactionFull)
			o.errIsClosed = errors.Is(err, flume.ErrChannelClosed)
		}
		o.size = c.Size()
		if tt.stop {
			_ = tx.Rollback()
			_ = c.Start(t.Context())
		} else if tt.rollback || err != nil {
			_ = tx.Rollback()
		} else if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		_ = tx.Close()
		o.rest = takeAll(t, c)
		cnt := c.Counter()
		// takeAll's own takes are the same in both runs.
		o.counters = [5]int64{cnt.EventTakeAttempt.Load(), cnt.EventTakeSuccess.Load(), cnt.EventTakeError.Load(), cnt.Rollback.Load(), cnt.EventPutSuccess.Load()}
		return o
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := run(t, tt, takeOneByOne)
			got := run(t, tt, func(tx flume.Transaction, dst []*flume.Event, max int) ([]*flume.Event, error) {
				return tx.(flume.BatchTaker).TakeBatch(dst, max)
			})
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("TakeBatch:\n got  %+v\n want %+v", got, want)
			}
			if !slices.Equal(got.got[:1], []string{"kept"}) {
				t.Fatalf("dst's first element lost: %v", got.got)
			}
		})
	}
}

// plainTx is a transaction without TakeBatch.
type plainTx struct{ flume.Transaction }

// flume.TakeBatch works with any transaction, using TakeBatch when there is
// one.
func TestFlumeTakeBatch(t *testing.T) {
	for _, wrap := range []bool{false, true} {
		t.Run(fmt.Sprintf("plain=%v", wrap), func(t *testing.T) {
			c := newTest(t, testConfig(10, 10))
			if err := put(t, c, "a", "b", "c"); err != nil {
				t.Fatal(err)
			}
			var tx flume.Transaction = c.NewTransaction()
			if wrap {
				tx = plainTx{tx}
			}
			if err := tx.Begin(); err != nil {
				t.Fatal(err)
			}
			dst, err := flume.TakeBatch(tx, nil, 2)
			if err != nil || len(dst) != 2 || string(dst[0].Body) != "a" || string(dst[1].Body) != "b" {
				t.Fatalf("first batch: %v, %v", dst, err)
			}
			dst, err = flume.TakeBatch(tx, dst[:0], 5)
			if err != nil || len(dst) != 1 || string(dst[0].Body) != "c" {
				t.Fatalf("second batch: %v, %v", dst, err)
			}
			if err := tx.Commit(); err != nil {
				t.Fatal(err)
			}
			_ = tx.Close()
			if n := c.Counter().EventTakeAttempt.Load(); n != 4 {
				t.Fatalf("EventTakeAttempt = %d, want 4 (3 events and the empty take)", n)
			}
		})
	}
}
