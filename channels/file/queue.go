package file

// queue is the deque of queued events' pointers: the whole in-memory cost
// of the backlog. It is a list of chunks, each holding the offsets of
// events in one segment, so an event costs 4 bytes (ten million queued
// events are 40 MB) and the queue never doubles and copies itself the way
// a growing ring buffer does — a transient 1.5× of the whole backlog.
//
// A checkpoint reads the queue without holding the channel's lock for the
// seconds it takes to write ten million pointers: freeze returns a view
// that shares the chunks. That is safe because chunks are only ever written
// outside the ranges a view covers (pushBack writes past a chunk's end,
// popFront writes nothing), except by pushFront, which copies a chunk that
// a view still reads before writing into it, and by the reuse of an
// emptied chunk, which skips chunks a view reads.
type queue struct {
	chunks []*chunk // chunks[first:] hold the queue, head first
	first  int
	size   int
	spare  *chunk // an emptied chunk kept for reuse

	gen    uint64 // incremented by each freeze
	frozen bool   // a view of generation gen is being read
}

// Chunk capacities: a segment's first chunk is small, so that the many
// short runs of tests with tiny segments (and the interleaving of spilled
// transactions' segments) cost little; later chunks of the same segment
// double up to maxChunk.
const (
	minChunk = 64
	maxChunk = 8192 // 32 KiB of offsets
)

type chunk struct {
	seg    uint32
	off    []uint32
	lo, hi int    // the live offsets are off[lo:hi]
	gen    uint64 // the queue's generation when a view last took it
}

func (q *queue) len() int { return q.size }

// shared reports whether a view being read may cover part of ch.
func (q *queue) shared(ch *chunk) bool { return q.frozen && ch.gen == q.gen }

func (q *queue) newChunk(seg uint32, capacity int) *chunk {
	if s := q.spare; s != nil && len(s.off) == capacity && !q.shared(s) {
		q.spare = nil
		s.seg, s.lo, s.hi = seg, 0, 0
		return s
	}
	return &chunk{seg: seg, off: make([]uint32, capacity)}
}

// drop forgets an emptied chunk, keeping it for reuse if no view reads it.
func (q *queue) drop(ch *chunk) {
	if !q.shared(ch) && len(ch.off) == maxChunk {
		q.spare = ch
	}
}

func (q *queue) pushBack(p ptr) {
	var tail *chunk
	if q.first < len(q.chunks) {
		tail = q.chunks[len(q.chunks)-1]
	}
	switch {
	case tail != nil && tail.lo == tail.hi && !q.shared(tail):
		// An empty queue: restart its only chunk.
		tail.seg, tail.lo, tail.hi = p.seg(), 0, 0
	case tail == nil || tail.seg != p.seg() || tail.hi == len(tail.off):
		capacity := minChunk
		if tail != nil && tail.seg == p.seg() {
			capacity = min(2*len(tail.off), maxChunk)
		}
		tail = q.newChunk(p.seg(), capacity)
		if q.first > 0 && q.first >= len(q.chunks)/2 {
			// Slide the live chunks down rather than grow the slice.
			n := copy(q.chunks, q.chunks[q.first:])
			clear(q.chunks[n:])
			q.chunks, q.first = q.chunks[:n], 0
		}
		q.chunks = append(q.chunks, tail)
	}
	tail.off[tail.hi] = uint32(p.off())
	tail.hi++
	q.size++
}

func (q *queue) pushFront(p ptr) {
	var head *chunk
	if q.first < len(q.chunks) {
		head = q.chunks[q.first]
	}
	if head != nil && head.lo == head.hi && !q.shared(head) {
		// An empty queue: restart its only chunk from the end, where
		// pushFront has room.
		head.seg, head.lo, head.hi = p.seg(), len(head.off), len(head.off)
	}
	if head == nil || head.seg != p.seg() || head.lo == 0 {
		head = q.newChunk(p.seg(), minChunk)
		head.lo, head.hi = len(head.off), len(head.off)
		if q.first == 0 {
			q.chunks = append(q.chunks, nil)
			copy(q.chunks[1:], q.chunks)
			q.first = 1
		}
		q.first--
		q.chunks[q.first] = head
	} else if q.shared(head) {
		// A view may read head.off[head.lo-1] (an event taken since the
		// view was made): write into a copy instead.
		cp := &chunk{seg: head.seg, off: append([]uint32(nil), head.off...), lo: head.lo, hi: head.hi}
		q.chunks[q.first] = cp
		head = cp
	}
	head.lo--
	head.off[head.lo] = uint32(p.off())
	q.size++
}

func (q *queue) popFront() (ptr, bool) {
	if q.size == 0 {
		return 0, false
	}
	head := q.chunks[q.first]
	for head.lo == head.hi {
		// An empty chunk left at the head by a restart that pushFront
		// did not fill; skip it.
		q.chunks[q.first] = nil
		q.first++
		q.drop(head)
		head = q.chunks[q.first]
	}
	p := mkptr(head.seg, int64(head.off[head.lo]))
	head.lo++
	q.size--
	if head.lo == head.hi && q.first < len(q.chunks)-1 {
		q.chunks[q.first] = nil
		q.first++
		q.drop(head)
	}
	return p, true
}

func (q *queue) peekFront() (ptr, bool) {
	if q.size == 0 {
		return 0, false
	}
	for _, ch := range q.chunks[q.first:] {
		if ch.lo < ch.hi {
			return mkptr(ch.seg, int64(ch.off[ch.lo])), true
		}
	}
	return 0, false
}

// snapshot returns the queue's pointers in order.
func (q *queue) snapshot() []ptr {
	out := make([]ptr, 0, q.size)
	for _, ch := range q.chunks[q.first:] {
		for _, o := range ch.off[ch.lo:ch.hi] {
			out = append(out, mkptr(ch.seg, int64(o)))
		}
	}
	return out
}

// view is a frozen image of the queue, readable without the channel's
// lock until thaw.
type view struct {
	parts []viewPart
	n     int
}

type viewPart struct {
	ch     *chunk
	lo, hi int
}

// freeze returns a view of the queue as it is now. One view at a time;
// thaw (under the same lock as freeze) ends it.
func (q *queue) freeze() view {
	q.gen++
	q.frozen = true
	v := q.view()
	for _, p := range v.parts {
		p.ch.gen = q.gen
	}
	return v
}

// view is a view of the queue valid until it next changes.
func (q *queue) view() view {
	v := view{n: q.size, parts: make([]viewPart, 0, len(q.chunks)-q.first)}
	for _, ch := range q.chunks[q.first:] {
		if ch.lo < ch.hi {
			v.parts = append(v.parts, viewPart{ch, ch.lo, ch.hi})
		}
	}
	return v
}

func (q *queue) thaw() { q.frozen = false }

// each calls fn with the view's pointers in order.
func (v view) each(fn func(ptr)) {
	for _, p := range v.parts {
		for _, o := range p.ch.off[p.lo:p.hi] {
			fn(mkptr(p.ch.seg, int64(o)))
		}
	}
}
