package dedupe

import (
	"maps"

	"ampsflume/amps/bookmark"
)

// Verdict is what a Filter says about one event.
type Verdict int

const (
	// Write: the event is new; write it.
	Write Verdict = iota
	// Duplicate: the event's sequence is at or below the highest written
	// for its publisher; skip it.
	Duplicate
	// NoBookmark: the header is missing or is not one message's bookmark;
	// the event cannot be judged and is written.
	NoBookmark
)

// Filter judges the events of one batch against the highest sequences
// written so far. Admitted sequences are pending until Commit (the batch is
// on disk and recorded) or Abort (the batch failed and will be retried).
// A Filter is not safe for concurrent use; sinks call it under their lock.
type Filter struct {
	committed map[uint64]uint64
	pending   map[uint64]uint64
}

// NewFilter starts from the recorded highest sequences (nil for none). The
// map is copied.
func NewFilter(highs map[uint64]uint64) *Filter {
	return &Filter{committed: maps.Clone(highs), pending: map[uint64]uint64{}}
}

// Judge returns the verdict for an event whose bookmark header is value
// (present reports whether the header was set), and marks new sequences
// pending.
func (f *Filter) Judge(value string, present bool) Verdict {
	if !present {
		return NoBookmark
	}
	b, err := bookmark.Parse(value)
	if err != nil {
		return NoBookmark
	}
	high, ok := f.pending[b.Publisher]
	if !ok {
		high, ok = f.committed[b.Publisher]
	}
	if ok && b.Seq <= high {
		return Duplicate
	}
	f.pending[b.Publisher] = b.Seq
	return Write
}

// Highs returns the highest sequences including the pending ones: what to
// record once the batch is on disk. The map is the caller's.
func (f *Filter) Highs() map[uint64]uint64 {
	out := maps.Clone(f.committed)
	if out == nil {
		out = make(map[uint64]uint64, len(f.pending))
	}
	maps.Copy(out, f.pending)
	return out
}

// Commit makes the pending sequences the committed ones.
func (f *Filter) Commit() {
	if f.committed == nil {
		f.committed = map[uint64]uint64{}
	}
	maps.Copy(f.committed, f.pending)
	clear(f.pending)
}

// Abort forgets the pending sequences.
func (f *Filter) Abort() { clear(f.pending) }
