package memory

import (
	"strconv"
	"testing"

	"ampsflume/flume"
)

// A steady stream of batches reuses the transactions' event lists: a
// put-commit or take-commit cycle allocates only its transaction, not lists
// growing from empty each time.
func TestBatchesReuseLists(t *testing.T) {
	const batch = 500
	c := newTest(t, testConfig(batch, batch))
	events := make([]*flume.Event, batch)
	for i := range events {
		events[i] = flume.NewEvent([]byte(strconv.Itoa(i)), nil)
	}
	cycle := func() {
		tx := c.NewTransaction()
		if err := tx.Begin(); err != nil {
			t.Fatal(err)
		}
		for _, e := range events {
			if err := tx.Put(e); err != nil {
				t.Fatal(err)
			}
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		_ = tx.Close()
		tx = c.NewTransaction()
		if err := tx.Begin(); err != nil {
			t.Fatal(err)
		}
		for range batch {
			if e, err := tx.Take(); e == nil || err != nil {
				t.Fatalf("take: %v, %v", e, err)
			}
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		_ = tx.Close()
	}
	cycle() // the first cycle makes the lists
	if allocs := testing.AllocsPerRun(10, cycle); allocs > 2 {
		t.Fatalf("%v allocations per put and take cycle of %d events, want at most 2 (the transactions)", allocs, batch)
	}
}

// Spare lists hold no event: an ended transaction's events can be collected
// once delivered, whether it committed or rolled back.
func TestSpareListsHoldNoEvents(t *testing.T) {
	tests := []struct {
		name string
		end  func(flume.Transaction) error
	}{
		{"commit", flume.Transaction.Commit},
		{"rollback", flume.Transaction.Rollback},
		{"close while open", flume.Transaction.Close},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newTest(t, testConfig(10, 10))
			if err := put(t, c, "a", "b", "c"); err != nil {
				t.Fatal(err)
			}
			tx := c.NewTransaction()
			if err := tx.Begin(); err != nil {
				t.Fatal(err)
			}
			if err := tx.Put(flume.NewEvent([]byte("d"), nil)); err != nil {
				t.Fatal(err)
			}
			if e, err := tx.Take(); e == nil || err != nil {
				t.Fatalf("take: %v, %v", e, err)
			}
			_ = tt.end(tx)
			_ = tx.Close()
			c.mu.Lock()
			defer c.mu.Unlock()
			if len(c.spare) == 0 {
				t.Fatal("no list kept for reuse")
			}
			for i, b := range c.spare {
				if len(b) != 0 {
					t.Fatalf("spare list %d has length %d", i, len(b))
				}
				for j, e := range b[:cap(b)] {
					if e != nil {
						t.Fatalf("spare list %d still holds event %q at %d", i, e.Body, j)
					}
				}
			}
		})
	}
}

// Attempt counts reach the channel's counter however the transaction ends,
// including the failed attempts beyond transactionCapacity.
func TestAttemptCounts(t *testing.T) {
	c := newTest(t, testConfig(10, 2))
	if err := put(t, c, "a", "b"); err != nil {
		t.Fatal(err)
	}
	tx := c.NewTransaction()
	_ = tx.Begin()
	_ = tx.Put(flume.NewEvent([]byte("x"), nil))
	_ = tx.Put(flume.NewEvent([]byte("y"), nil))
	if err := tx.Put(flume.NewEvent([]byte("z"), nil)); err == nil {
		t.Fatal("a put beyond transactionCapacity succeeded")
	}
	_, _ = tx.Take()
	_ = tx.Close() // open: rolled back
	tx = c.NewTransaction()
	_ = tx.Begin()
	_, _ = tx.Take()
	_, _ = tx.Take()
	_, _ = tx.Take() // beyond transactionCapacity
	_ = tx.Rollback()
	_ = tx.Close()
	cnt := c.Counter()
	for _, tc := range []struct {
		name      string
		got, want int64
	}{
		{"EventPutAttempt", cnt.EventPutAttempt.Load(), 5},
		{"EventPutSuccess", cnt.EventPutSuccess.Load(), 2},
		{"EventPutError", cnt.EventPutError.Load(), 1},
		{"EventTakeAttempt", cnt.EventTakeAttempt.Load(), 4},
		{"EventTakeSuccess", cnt.EventTakeSuccess.Load(), 0},
		{"EventTakeError", cnt.EventTakeError.Load(), 1},
		{"Rollback", cnt.Rollback.Load(), 2},
	} {
		if tc.got != tc.want {
			t.Errorf("%s = %d, want %d", tc.name, tc.got, tc.want)
		}
	}
}
