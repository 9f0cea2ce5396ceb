package ampserver

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"ampsflume/ampserver/options"
)

// SOW expiration: a record of a SOW topic with expiration enabled leaves
// the SOW when its lifetime ends.
//
//   - <Expiration> in a SOW <Topic> is `disabled` (the default), `enabled`
//     (records expire only when their publish says so), or a default
//     lifetime: a number with a unit (`500ms`, `30s`, `5m`, `1h`, `1d`,
//     `1w`) or a bare number of seconds. `0` is `disabled`.
//   - A publish's `e` header (whole seconds) overrides the default for the
//     record it stores; `e` = 0 means the record never expires. It is
//     honoured only on a topic with expiration enabled, as in AMPS, and is
//     ignored on any other topic. A value that is not a non-negative
//     integer is ignored (the topic's default applies): AMPS documents no
//     failure for it, and a publish is not refused over a header.
//   - Every publish (and delta_publish) sets the record's lifetime again,
//     counted from that publish: an update without `e` takes the topic's
//     default, not what is left of the previous version's lifetime.
//   - An expired record is removed as a delete is: observers and views see
//     the removal as a delete, and a subscription with the `oof` option
//     that holds the record receives an oof with reason `expired` and the
//     record's last state (under conflation, the last state it received). A
//     view record removed because its group lost its last record is
//     reported with reason `deleted`: the view record was deleted, not
//     expired. Subscriptions without `oof` receive nothing.
//   - Removal runs from one server timer armed for the earliest expiry of
//     all topics, so it happens at the expiry time plus scheduling latency.
//     In between, SOW queries already leave the record out (it is neither
//     returned nor counted in topic_matches), and a publish to its key is
//     an insert: the expired version is removed (with its oof) first.
//   - A sow query result record with an expiration carries the `e` header:
//     the seconds left, rounded up (so a live record never shows 0, which a
//     publish would read as "never"). Live deliveries do not carry it.
//   - The query part of an aggregated subscription, and a view rebuilt at
//     start, read the stored records: in the moment between a record's
//     expiry and the sweep they still count it, and the sweep then removes
//     it from them as a delete. A sow_delete by message data (not by filter
//     or sow_keys) of such a record deletes it.
//   - Persistent SOW files keep each record's expiry time; at start records
//     that expired while the server was down are removed before anything
//     else sees them. Records rebuilt from the transaction log, and records
//     replicated from a peer, expire after the topic's default lifetime
//     counted from their publish time: neither the journal nor the
//     replication link carries the `e` header, so a per-message override is
//     not kept there. An expiration is not journaled or replicated: each
//     instance removes its records on its own clock.
//   - Started with expiration disabled, a topic keeps its records and drops
//     their stored expiry times (also from its file): enabled again later,
//     those records do not expire. Likewise records stored while
//     expiration was off never expire, whatever the topic's default.
//
// Cost: a topic's records with an expiration are indexed in a min-heap by
// expiry time with a map from key to heap entry, so an update or delete
// moves or drops the record's entry (the heap never holds more entries than
// the SOW has records) and each expiry costs O(log n). The expiry time lives
// there, not in the record, so a topic without expiration pays nothing per
// record and one branch per publish.

// sweepBatch bounds the records one sweep expires under a topic's lock
// before it lets publishers in.
const sweepBatch = 256

// parseExpiration reads an <Expiration> value.
func parseExpiration(v string) (ttl time.Duration, enabled bool, err error) {
	v = strings.TrimSpace(v)
	switch strings.ToLower(v) {
	case "", "disabled":
		return 0, false, nil
	case "enabled":
		return 0, true, nil
	}
	d, err := options.ParseDuration(v, time.Second) // bare seconds, as the `e` header
	switch {
	case errors.Is(err, options.ErrOutOfRange):
		return 0, false, fmt.Errorf("Expiration %q is out of range", v)
	case err != nil:
		return 0, false, fmt.Errorf("Expiration %q: want disabled, enabled, or a lifetime such as 30s, 5m, 1h or 1d", v)
	case d == 0:
		return 0, false, nil // 0s: disabled
	}
	return d, true, nil
}

// expiresOn reports whether the configuration turns expiration on.
func (sc *SOWTopicConfig) expiresOn() bool {
	return sc.ExpirationEnabled || sc.Expiration > 0
}

// expiry is a topic's expiration state, guarded by the topic lock: its
// settings and the min-heap of its records that expire.
type expiry struct {
	enabled  bool
	ttl      time.Duration  // default lifetime; 0: none
	clock    Clock          // nil until enabled
	schedule func(at int64) // arms the server's timer for at (Unix ns)
	heap     []*expEntry    // by at
	byKey    map[string]*expEntry
}

type expEntry struct {
	at  int64 // Unix nanoseconds
	key string
	idx int // position in heap
}

// now is the server's time in Unix nanoseconds, or 0 when the topic does
// not expire records (queries then skip the expiry check).
func (x *expiry) now() int64 {
	if !x.enabled {
		return 0
	}
	return x.clock.Now().UnixNano()
}

// at is the expiry time of key's record, or 0.
func (x *expiry) at(key string) int64 {
	if e := x.byKey[key]; e != nil {
		return e.at
	}
	return 0
}

// expired tells whether key's record is past its expiry at now (from
// x.now()); it returns the expiry time too.
func (x *expiry) expired(key string, now int64) (at int64, gone bool) {
	if now == 0 {
		return 0, false
	}
	at = x.at(key)
	return at, at != 0 && at <= now
}

// defaultFrom is the expiry time of a record published at ts (an AMPS
// timestamp) without an `e` header: ts plus the default lifetime, or 0.
func (x *expiry) defaultFrom(ts string) int64 {
	if !x.enabled || x.ttl <= 0 {
		return 0
	}
	at, err := time.Parse(timestampLayout, ts)
	if err != nil {
		at = x.clock.Now()
	}
	return addExpiry(at.UnixNano(), x.ttl)
}

// expiresAt is the expiry time of a record published now with the `e`
// header e ("" when absent).
func (x *expiry) expiresAt(e string, now time.Time) int64 {
	if !x.enabled {
		return 0
	}
	ttl := x.ttl
	if e != "" {
		if secs, err := strconv.ParseUint(e, 10, 64); err == nil {
			if secs == 0 {
				return 0 // the publisher asks for no expiration
			}
			ttl = time.Duration(math.MaxInt64)
			if secs < uint64(math.MaxInt64/int64(time.Second)) {
				ttl = time.Duration(secs) * time.Second
			}
		}
	}
	if ttl <= 0 {
		return 0
	}
	return addExpiry(now.UnixNano(), ttl)
}

// addExpiry is at+d, saturating instead of overflowing (an expiry centuries
// away is as good as never, and must not wrap into the past).
func addExpiry(at int64, d time.Duration) int64 {
	if int64(d) > math.MaxInt64-at {
		return math.MaxInt64
	}
	return at + int64(d)
}

// set makes at the expiry time of key (0: key does not expire).
func (x *expiry) set(key string, at int64) {
	e := x.byKey[key]
	switch {
	case at == 0 && e == nil:
		return
	case at == 0:
		x.remove(e)
		delete(x.byKey, key)
		return
	case e == nil:
		e = &expEntry{at: at, key: key, idx: len(x.heap)}
		x.byKey[key] = e
		x.heap = append(x.heap, e)
		x.up(e.idx)
	default:
		old := e.at
		e.at = at
		if at < old {
			x.up(e.idx)
		} else {
			x.down(e.idx)
		}
	}
	if x.schedule != nil {
		x.schedule(at)
	}
}

// next is the earliest expiry time, or 0 when nothing expires.
func (x *expiry) next() (at int64, key string) {
	if len(x.heap) == 0 {
		return 0, ""
	}
	return x.heap[0].at, x.heap[0].key
}

// clear forgets every expiry (expiration disabled).
func (x *expiry) clear() {
	x.heap = nil
	x.byKey = map[string]*expEntry{}
}

func (x *expiry) remove(e *expEntry) {
	last := len(x.heap) - 1
	i := e.idx
	if i != last {
		x.swap(i, last)
	}
	x.heap[last] = nil
	x.heap = x.heap[:last]
	if i != last {
		x.down(i)
		x.up(i)
	}
}

func (x *expiry) swap(i, j int) {
	x.heap[i], x.heap[j] = x.heap[j], x.heap[i]
	x.heap[i].idx = i
	x.heap[j].idx = j
}

func (x *expiry) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if x.heap[p].at <= x.heap[i].at {
			return
		}
		x.swap(i, p)
		i = p
	}
}

func (x *expiry) down(i int) {
	n := len(x.heap)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		m := l
		if r := l + 1; r < n && x.heap[r].at < x.heap[l].at {
			m = r
		}
		if x.heap[i].at <= x.heap[m].at {
			return
		}
		x.swap(i, m)
		i = m
	}
}

// expirer runs the server's one expiry timer, armed for the earliest
// expiry time over the topics with expiration enabled.
type expirer struct {
	s      *Server
	topics []*topic // fixed in New

	// armed is the deadline of the pending timer (Unix ns; 0: none). It
	// lets a publish whose record expires after it skip the mutex: with a
	// default lifetime, almost every publish does.
	armed atomic.Int64

	mu      sync.Mutex
	timer   Timer
	gen     uint64 // which timer is current; a stopped one may still run
	stopped bool
}

// initExpiration applies each SOW topic's expiration settings to its store
// and removes the records that expired while the server was down. It runs
// in New after the stores are opened, before the transaction log and the
// views are applied.
func (s *Server) initExpiration() {
	e := &expirer{s: s}
	for _, t := range s.topics {
		if t.sow == nil || t.cfg == nil {
			continue
		}
		x := &t.sow.exp
		if !t.cfg.expiresOn() {
			if len(x.heap) > 0 {
				// Drop the stored expiry times for good: re-enabled later,
				// the topic must not expire records published while
				// expiration was off by times set before.
				x.clear()
				if t.sow.w != nil {
					if err := t.sow.rewrite(t.sow.path); err != nil {
						s.log.Error("SOW store failed dropping expiry times", "topic", t.name, "err", err)
					}
				}
			}
			continue
		}
		x.enabled, x.ttl, x.clock, x.schedule = true, t.cfg.Expiration, s.clock, e.schedule
		e.topics = append(e.topics, t)
	}
	if len(e.topics) == 0 {
		return
	}
	s.exp = e
	if next := e.sweep(); next != 0 {
		e.schedule(next)
	}
}

// stopExpiration stops the timer; a sweep under way finishes first
// (Shutdown waits for it with the server's other goroutines).
func (s *Server) stopExpiration() {
	e := s.exp
	if e == nil {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.stopped = true
	e.gen++
	if e.timer != nil {
		e.timer.Stop()
		e.timer = nil
	}
	e.armed.Store(0)
}

// schedule makes sure the timer fires no later than at. Called under a
// topic lock; it never takes one.
func (e *expirer) schedule(at int64) {
	if a := e.armed.Load(); a != 0 && a <= at {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.stopped {
		return
	}
	if a := e.armed.Load(); a != 0 && a <= at {
		return
	}
	if e.timer != nil {
		e.timer.Stop()
	}
	e.gen++
	gen := e.gen
	d := time.Duration(at - e.s.clock.Now().UnixNano())
	e.armed.Store(at)
	e.timer = e.s.clock.AfterFunc(max(d, 0), func() { e.fire(gen) })
}

// fire is the timer's call: expire what is due and arm for what is next.
func (e *expirer) fire(gen uint64) {
	e.mu.Lock()
	if e.stopped || gen != e.gen {
		e.mu.Unlock()
		return // stopped, or replaced by an earlier deadline
	}
	e.timer = nil
	e.armed.Store(0) // from here a new earliest expiry arms a timer itself
	e.s.wg.Add(1)    // before stopped can be set: Shutdown waits for the sweep
	e.mu.Unlock()
	defer e.s.wg.Done()
	if next := e.sweep(); next != 0 {
		e.schedule(next)
	}
}

// sweep expires every record that is due and returns the earliest expiry
// time left (0: none).
func (e *expirer) sweep() int64 {
	var next int64
	for _, t := range e.topics {
		for {
			t.mu.Lock()
			now := e.s.clock.Now().UnixNano()
			n := 0
			at, key := t.sow.exp.next()
			for at != 0 && at <= now && n < sweepBatch {
				e.s.expireRecord(t, key, now)
				n++
				at, key = t.sow.exp.next()
			}
			t.mu.Unlock()
			if at == 0 || at > now {
				if at != 0 && (next == 0 || at < next) {
					next = at
				}
				break
			}
		}
	}
	return next
}

// expireRecord removes the record key of t as expired at now (Unix ns) and
// reports it to observers, views and oof subscriptions. The caller holds
// t's lock.
func (s *Server) expireRecord(t *topic, key string, now int64) {
	old, err := t.sow.del(key)
	if err != nil {
		// The record stays until a restart, which expires it from the file;
		// without its heap entry the sweep moves on.
		s.log.Error("SOW store failed expiring a record", "topic", t.name, "err", err)
		t.sow.exp.set(key, 0)
		return
	}
	if old == nil {
		return
	}
	s.notify(RecordChange{Topic: t.name, SowKey: key, Timestamp: timestamp(time.Unix(0, now)), Old: old.data, Expired: true})
}

// sowPublish stores a published message under key with the expiration the
// publish asks for (e: its `e` header) and returns the previous record. The
// caller holds t's lock. A previous version past its expiry, which the
// timer has not removed yet, is expired first: the publish is an insert.
func (s *Server) sowPublish(t *topic, key, ts string, data []byte, e string, now time.Time) (*record, error) {
	x := &t.sow.exp
	if !x.enabled {
		old, _, err := t.sow.putExpiring(key, ts, data, 0)
		return old, err
	}
	n := now.UnixNano()
	if _, gone := x.expired(key, n); gone {
		s.expireRecord(t, key, n)
	}
	old, _, err := t.sow.putExpiring(key, ts, data, x.expiresAt(e, now))
	return old, err
}

// expirationHeader is the `e` header of a query result record: the whole
// seconds left before it expires, rounded up; "" for a record that does not
// expire.
func expirationHeader(expires, now int64) string {
	if expires == 0 {
		return ""
	}
	left := expires - now
	secs := left / int64(time.Second)
	if left%int64(time.Second) != 0 {
		secs++
	}
	// The query selected the record live; the clock may have moved on
	// since.
	return strconv.FormatInt(max(secs, 1), 10)
}
