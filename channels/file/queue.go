package file

// queue is a ring-buffer deque of pointers: the whole in-memory cost of the
// backlog, 8 bytes per queued event.
type queue struct {
	buf        []ptr
	head, size int
}

func (q *queue) len() int { return q.size }

func (q *queue) grow() {
	n := 2 * len(q.buf)
	if n == 0 {
		n = 64
	}
	nb := make([]ptr, n)
	q.copyTo(nb)
	q.buf, q.head = nb, 0
}

// copyTo copies the queue in order into dst, which must be large enough.
func (q *queue) copyTo(dst []ptr) {
	if q.size == 0 {
		return
	}
	end := q.head + q.size
	if end <= len(q.buf) {
		copy(dst, q.buf[q.head:end])
		return
	}
	n := copy(dst, q.buf[q.head:])
	copy(dst[n:], q.buf[:end-len(q.buf)])
}

func (q *queue) pushBack(p ptr) {
	if q.size == len(q.buf) {
		q.grow()
	}
	q.buf[(q.head+q.size)%len(q.buf)] = p
	q.size++
}

func (q *queue) pushFront(p ptr) {
	if q.size == len(q.buf) {
		q.grow()
	}
	q.head = (q.head - 1 + len(q.buf)) % len(q.buf)
	q.buf[q.head] = p
	q.size++
}

func (q *queue) popFront() (ptr, bool) {
	if q.size == 0 {
		return 0, false
	}
	p := q.buf[q.head]
	q.head = (q.head + 1) % len(q.buf)
	q.size--
	if q.size == 0 {
		q.head = 0
	}
	return p, true
}

func (q *queue) peekFront() (ptr, bool) {
	if q.size == 0 {
		return 0, false
	}
	return q.buf[q.head], true
}

// snapshot returns the queue's pointers in order.
func (q *queue) snapshot() []ptr {
	out := make([]ptr, q.size)
	q.copyTo(out)
	return out
}
