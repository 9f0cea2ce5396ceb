package flume

// BatchTaker is implemented by transactions that can take several events at
// once, paying their locking and bookkeeping once per batch instead of once
// per event. It is optional: sinks call TakeBatch, which falls back to Take.
type BatchTaker interface {
	// TakeBatch appends up to max events to dst and returns it. It behaves
	// exactly as calling Take up to max times and stopping at the first
	// call that returns no event or an error, counters included: only the
	// first take of the transaction waits for events to arrive, and events
	// taken before an error stay taken by the transaction (a rollback
	// returns them).
	TakeBatch(dst []*Event, max int) ([]*Event, error)
}

// TakeBatch appends up to max events taken in tx to dst, through the
// transaction's BatchTaker when it has one and by calling Take otherwise.
// Fewer than max events means the channel had no more at the time.
func TakeBatch(tx Transaction, dst []*Event, max int) ([]*Event, error) {
	if bt, ok := tx.(BatchTaker); ok {
		return bt.TakeBatch(dst, max)
	}
	for range max {
		e, err := tx.Take()
		if err != nil || e == nil {
			return dst, err
		}
		dst = append(dst, e)
	}
	return dst, nil
}
