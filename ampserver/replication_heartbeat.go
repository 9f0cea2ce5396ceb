package ampserver

import (
	"sync"
	"sync/atomic"
	"time"

	"ampsflume/ampserver/repl"
)

// linkBeat keeps one replication connection (either end) honest about
// its peer. TCP alone does not notice a peer that stops without closing
// (a partition, a frozen machine, a stopped process): a sender would keep
// a sync destination counted as connected, and so hold persisted acks,
// forever. So each end sends a Heartbeat every interval in which it wrote
// nothing else, and each end declares the link dead after
// ReplicationHeartbeatMisses of the peer's announced intervals with no
// frame at all from it.
//
// Any frame counts as life; the reader only sets a flag (no clock read per
// frame), and the tick, which runs every interval on the server's clock,
// turns the flag into the time last heard. The silence is therefore
// measured from the first tick after the last frame: a link is declared
// dead between misses×peer interval and that plus one interval of ours
// after the peer went quiet.
type linkBeat struct {
	clock    Clock
	interval time.Duration // ours
	// writeBeat writes (and flushes) a heartbeat; it is called only with
	// the connection's write lock held.
	writeBeat func(frame []byte) error
	wmu       *sync.Mutex // the connection's write lock
	dead      func(silent time.Duration)

	peer  atomic.Int64 // the peer's interval, as it announced it
	heard atomic.Bool  // a frame arrived since the last tick
	wrote atomic.Bool  // this end wrote since the last tick
	beats atomic.Uint64

	mu        sync.Mutex
	lastHeard time.Time
	timer     Timer
	stopped   bool
	frame     []byte
}

// newLinkBeat starts watching a connection: until the peer announces its
// interval, ours stands for it.
func newLinkBeat(clock Clock, interval time.Duration, wmu *sync.Mutex, writeBeat func([]byte) error, dead func(time.Duration)) *linkBeat {
	b := &linkBeat{clock: clock, interval: interval, wmu: wmu, writeBeat: writeBeat, dead: dead}
	b.peer.Store(int64(interval))
	b.frame = repl.AppendHeartbeat(nil, interval)
	b.mu.Lock()
	b.lastHeard = clock.Now()
	b.timer = clock.AfterFunc(interval, b.tick)
	b.mu.Unlock()
	return b
}

// received notes a frame from the peer. A heartbeat's body is the peer's
// interval; other frames pass a nil body.
func (b *linkBeat) received(typ repl.Type, body []byte) error {
	b.heard.Store(true)
	if typ != repl.THeartbeat {
		return nil
	}
	d, err := repl.DecodeHeartbeat(body)
	if err != nil {
		return err
	}
	b.peer.Store(int64(d))
	b.beats.Add(1)
	return nil
}

// sent notes that this end wrote a frame, which makes a heartbeat in the
// same interval unnecessary.
func (b *linkBeat) sent() { b.wrote.Store(true) }

// stop ends the watch (the connection is over).
func (b *linkBeat) stop() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.stopped = true
	if b.timer != nil {
		b.timer.Stop()
	}
}

func (b *linkBeat) tick() {
	b.mu.Lock()
	if b.stopped {
		b.mu.Unlock()
		return
	}
	now := b.clock.Now()
	if b.heard.Swap(false) {
		b.lastHeard = now
	}
	silent := now.Sub(b.lastHeard)
	if silent >= ReplicationHeartbeatMisses*time.Duration(b.peer.Load()) {
		b.stopped = true
		b.mu.Unlock()
		b.dead(silent)
		return
	}
	b.timer = b.clock.AfterFunc(b.interval, b.tick)
	b.mu.Unlock()
	if b.wrote.Swap(false) {
		return
	}
	// A writer holding the lock is writing anyway, or is blocked on a
	// peer that does not read: then the peer's own watch decides, and
	// ours closes the connection when the peer stays silent too.
	if b.wmu.TryLock() {
		b.writeBeat(b.frame)
		b.wmu.Unlock()
	}
}
