package conflate

import (
	"sync"
	"time"
)

// Clock is the source of time; the server injects its own so that tests can
// drive conflation with a fake clock.
type Clock interface {
	Now() time.Time
	// AfterFunc calls f, in any goroutine, once d has elapsed.
	AfterFunc(d time.Duration, f func()) Timer
}

// Timer is a pending AfterFunc call.
type Timer interface {
	Stop() bool
}

// Item is one conflated update on its way out.
type Item[T any] struct {
	Key   string
	Value T
	// First is when the first update of the interval was held: the
	// timestamp AMPS reports for a conflated message.
	First time.Time
	// Count is how many updates were conflated into Value.
	Count int
}

// Config configures a Conflater.
type Config[T any] struct {
	Interval time.Duration // > 0
	Clock    Clock
	// Deliver receives each update when its interval ends.
	Deliver func(Item[T])
	// Merge combines a held update with a newer one; nil means the newer
	// replaces the held one (full-message subscriptions). Delta
	// subscriptions merge deltas.
	Merge func(held, next T) T
	// Slack widens "the instant a key falls due": an update arriving at
	// most Slack before its key's held update is due is treated as
	// arriving at that instant, so the held update is delivered at once
	// (up to Slack early) and the new one starts a new interval. Updates
	// paced at exactly the interval then alternate hold and delivery
	// whatever the scheduling jitter between two readings of the clock.
	// Zero means exact instants.
	Slack time.Duration
}

type entry[T any] struct {
	item Item[T]
	due  time.Time
	next *entry[T]
}

// Conflater holds updates per key for one subscription.
type Conflater[T any] struct {
	cfg Config[T]

	mu      sync.Mutex
	pending map[string]*entry[T]
	head    *entry[T] // FIFO by due time: every hold lasts one interval
	tail    *entry[T]
	timer   Timer
	timerAt time.Time // due time the armed timer targets; zero when none
	closed  bool

	// deliverMu serialises deliveries. It is taken while mu is held and mu
	// is then released, so deliveries happen in the order updates were
	// taken off the queue.
	deliverMu sync.Mutex
}

// New returns a Conflater. It panics on a non-positive interval or a
// missing Clock or Deliver, which are programming errors.
func New[T any](cfg Config[T]) *Conflater[T] {
	if cfg.Interval <= 0 || cfg.Clock == nil || cfg.Deliver == nil || cfg.Slack < 0 || cfg.Slack >= cfg.Interval {
		panic("conflate: Interval, Clock and Deliver are required, and Slack must be in [0, Interval)")
	}
	return &Conflater[T]{cfg: cfg, pending: make(map[string]*entry[T])}
}

// Offer submits an update for key.
func (c *Conflater[T]) Offer(key string, v T) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	now := c.cfg.Clock.Now()
	due := c.popDue(now.Add(c.cfg.Slack))
	if e, ok := c.pending[key]; ok {
		if c.cfg.Merge != nil {
			e.item.Value = c.cfg.Merge(e.item.Value, v)
		} else {
			e.item.Value = v
		}
		e.item.Count++
	} else {
		e := &entry[T]{item: Item[T]{Key: key, Value: v, First: now, Count: 1}, due: now.Add(c.cfg.Interval)}
		c.pending[key] = e
		if c.tail == nil {
			c.head = e
		} else {
			c.tail.next = e
		}
		c.tail = e
	}
	c.arm(now)
	c.deliverLocked(due)
}

// popDue removes and returns the entries due at now. Called with mu held.
func (c *Conflater[T]) popDue(now time.Time) []Item[T] {
	var due []Item[T]
	for c.head != nil && !c.head.due.After(now) {
		e := c.head
		c.head = e.next
		if c.head == nil {
			c.tail = nil
		}
		delete(c.pending, e.item.Key)
		due = append(due, e.item)
	}
	return due
}

// arm makes sure a timer targets the head's due time. Called with mu held.
func (c *Conflater[T]) arm(now time.Time) {
	if c.head == nil {
		return
	}
	if c.timer != nil && c.timerAt.Equal(c.head.due) {
		return
	}
	if c.timer != nil {
		c.timer.Stop()
	}
	at := c.head.due
	c.timerAt = at
	c.timer = c.cfg.Clock.AfterFunc(at.Sub(now), func() { c.fire(at) })
}

func (c *Conflater[T]) fire(at time.Time) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	if c.timerAt.Equal(at) {
		c.timer, c.timerAt = nil, time.Time{}
	}
	now := c.cfg.Clock.Now()
	if now.Before(at) {
		// A clock that fires early (or jumps back) must not cut an
		// interval short.
		now = at
	}
	due := c.popDue(now)
	c.arm(c.cfg.Clock.Now())
	c.deliverLocked(due)
}

// deliverLocked hands due items to Deliver in order and releases mu.
func (c *Conflater[T]) deliverLocked(due []Item[T]) {
	if len(due) == 0 {
		c.mu.Unlock()
		return
	}
	c.deliverMu.Lock()
	c.mu.Unlock()
	defer c.deliverMu.Unlock()
	for _, it := range due {
		c.cfg.Deliver(it)
	}
}

// Pending returns the number of keys currently held.
func (c *Conflater[T]) Pending() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.pending)
}

// Held returns the update held for key, if any.
func (c *Conflater[T]) Held(key string) (T, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.pending[key]; ok {
		return e.item.Value, true
	}
	var zero T
	return zero, false
}

// Drop discards the update held for key (for example when its record goes
// out of focus and the subscriber must not receive it afterwards). It
// reports whether something was held.
func (c *Conflater[T]) Drop(key string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.pending[key]
	if !ok {
		return false
	}
	delete(c.pending, key)
	var prev *entry[T]
	for p := c.head; p != nil; prev, p = p, p.next {
		if p == e {
			if prev == nil {
				c.head = p.next
			} else {
				prev.next = p.next
			}
			if c.tail == p {
				c.tail = prev
			}
			break
		}
	}
	return true
}

// Close stops the timer and discards held updates. Deliver is not called
// after Close returns, except by a delivery already under way.
func (c *Conflater[T]) Close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	if c.timer != nil {
		c.timer.Stop()
		c.timer = nil
	}
	c.pending = map[string]*entry[T]{}
	c.head, c.tail = nil, nil
}
