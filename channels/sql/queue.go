package sql

import "slices"

// idQueue is the SQLite store's index of the rows not claimed by any
// transaction: their ids in ascending order. It holds ids only, rebuilt from
// the table at open, so it caches nothing a crash could lose.
type idQueue struct {
	ids  []int64
	head int
}

func (q *idQueue) len() int { return len(q.ids) - q.head }

// push appends ids larger than every id held, as a commit allocates them.
func (q *idQueue) push(ids []int64) {
	if q.head > 0 && q.head >= len(q.ids)/2 {
		// Reclaim the consumed front before growing.
		n := copy(q.ids, q.ids[q.head:])
		q.ids = q.ids[:n]
		q.head = 0
	}
	q.ids = append(q.ids, ids...)
}

// pop removes and returns the smallest id.
func (q *idQueue) pop() (int64, bool) {
	if q.head == len(q.ids) {
		return 0, false
	}
	id := q.ids[q.head]
	q.head++
	if q.head == len(q.ids) {
		q.ids, q.head = q.ids[:0], 0
	}
	return id, true
}

// giveBack returns claimed ids, which are not in the queue, to their places.
// In the usual case (one taker) they all precede the head and go in front
// without moving anything.
func (q *idQueue) giveBack(ids []int64) {
	if len(ids) == 0 {
		return
	}
	ids = slices.Clone(ids)
	slices.Sort(ids)
	if q.len() == 0 || ids[len(ids)-1] < q.ids[q.head] {
		if q.head >= len(ids) {
			q.head -= len(ids)
			copy(q.ids[q.head:], ids)
			return
		}
		q.ids = append(ids, q.ids[q.head:]...)
		q.head = 0
		return
	}
	merged := make([]int64, 0, q.len()+len(ids))
	rest := q.ids[q.head:]
	for len(ids) > 0 && len(rest) > 0 {
		if ids[0] < rest[0] {
			merged = append(merged, ids[0])
			ids = ids[1:]
		} else {
			merged = append(merged, rest[0])
			rest = rest[1:]
		}
	}
	merged = append(append(merged, ids...), rest...)
	q.ids, q.head = merged, 0
}
