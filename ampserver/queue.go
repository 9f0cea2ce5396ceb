package ampserver

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"ampsflume/amps/wire"
	"ampsflume/ampserver/txlog"
)

// Message queues (<Queue> in <SOW>). A queue holds the journaled messages
// published to its underlying topic and hands each one to one subscriber
// at a time, under a lease, until a subscriber acknowledges it. Decisions
// where AMPS leaves room, or where this server does less:
//
//   - A message is handed out only once its journal record is durable
//     (fsynced by the transaction log's group commit, every FlushInterval):
//     until then it waits in the queue, in its place, not deliverable, not
//     shown by a sow query and not acknowledgeable. A server killed before
//     the group commit loses the record, and the restarted journal gives
//     its sequence number, and so its bookmark, to the next message; since
//     no bookmark of a message that was not durable ever left the server,
//     a bookmark a consumer acknowledges always names a message that
//     survived, never its successor. The release waits for the local disk
//     only, not for sync replication destinations as persisted acks do:
//     replicated messages do not enter a peer's queues, so a peer's copy
//     does not make a queue message any safer, and waiting for it would
//     only add the peer's round trip to every delivery.
//   - Delivery is at least once. A delivery carries `bm` (the message's
//     bookmark, the name it is acknowledged by) and `lp`, the time its
//     lease ends as an AMPS timestamp. The message stays in the queue,
//     leased, until a `sow_delete` on the queue's topic whose `bm` is a
//     comma list of bookmarks acknowledges it. A lease that ends, an
//     unsubscribe and a disconnect put the subscriber's unacknowledged
//     messages back, ahead of newer ones, and they are delivered again
//     (possibly to the same subscriber).
//   - Messages go out in journal order. Each message goes to the next
//     subscription, round-robin, that has room in its backlog and whose
//     filter matches it; a message no subscription can take waits, and
//     does not hold back the ones behind it.
//   - max_backlog=N (subscribe option; 1 without it, as AMPS documents)
//     bounds a subscription's leased, unacknowledged messages; the
//     processed ack of the subscribe carries `max_backlog=N` in its opts.
//   - An acknowledgement counts from the connection holding the lease or
//     for a message that is not leased; the acknowledgement of a message
//     whose lease ended and passed to another connection is ignored (that
//     one will process it). The stats ack reports records_deleted.
//     `sow_delete` options: `cancel` returns the messages to the queue at
//     once, `expire` removes them as an acknowledgement does, and
//     `lease_extension=<interval>` pushes their lease end that far from
//     now.
//   - Leases end by one server timer, armed for the earliest lease end of
//     all queues: within a queue every lease is as long as the others, so
//     its leases end in the order they were given and the earliest is the
//     oldest one still held.
//   - A `sow` query on the queue returns its durable messages, leased or
//     not, in queue order, with their bookmarks and without leasing them;
//     the messages still waiting for the journal's group commit are not
//     in it (their bookmarks could be acknowledged, see above).
//     sow_and_subscribe on a queue is refused ("not supported").
//   - Durability: the messages are the transaction log's; acknowledgements
//     are appended to <JournalDirectory>/queue-acks (queue name and journal
//     sequence number, one a line), written to the operating system before
//     the acknowledgement is answered and synced at Shutdown. A restart
//     rebuilds each queue from the journal less the acknowledged messages
//     and rewrites the file with the acknowledgements still needed. Leases
//     are not kept: after a restart every unacknowledged message is
//     available again. A machine crash can lose the last acknowledgements
//     (the messages come again), never a message.
//   - Messages replicated from a peer instance do not enter queues, and a
//     queue message does not expire.

// queueMsg is one message in a queue.
type queueMsg struct {
	seq   uint64 // journal sequence number
	bm    string
	topic string // the topic it was published to
	key   string
	ts    string
	data  []byte

	owner *queueSub // nil: available
	until int64     // lease end, Unix nanoseconds, while owned
	gen   uint64    // lease generation, to recognise stale lease entries
	gone  bool      // acknowledged
	// held: its journal record is not durable yet; it is not deliverable,
	// not counted in avail and not in byBM (so not acknowledgeable).
	held bool
}

// queueSub is a subscription to a queue.
type queueSub struct {
	sub     *subscription
	backlog int // 0 until the subscribe is acknowledged
	leased  int
}

// leaseEntry is a lease in the order leases were given.
type leaseEntry struct {
	m   *queueMsg
	gen uint64
}

// msgQueue is one queue; mu is taken inside a topic's lock (publish) and
// never the other way round.
type msgQueue struct {
	cfg   *QueueConfig
	re    *regexp.Regexp // underlying topic
	lease time.Duration

	mu     sync.Mutex
	msgs   []*queueMsg          // in journal order; acknowledged ones are removed
	byBM   map[string]*queueMsg // deliverable (durable) messages only
	subs   []*queueSub
	bySub  map[*subscription]*queueSub
	next   int          // round-robin position in subs
	leases []leaseEntry // oldest first
	gen    uint64
	avail  int // durable messages neither leased nor acknowledged
	// durable is the journal's durable point as last seen; a message above
	// it enters held and waits in waiting (in arrival order) for onDurable.
	durable uint64
	waiting []*queueMsg
	// removed counts the acknowledged messages still in msgs.
	removed int
}

// queues is the server's set of queues and the lease timer.
type queues struct {
	srv    *Server
	list   []*msgQueue
	byName map[string]*msgQueue

	tmu     sync.Mutex
	timer   Timer
	timerAt int64 // Unix nanoseconds; 0: no timer
	stopped bool

	fmu  sync.Mutex
	acks *os.File // queue-acks, append only
}

const queueAckFile = "queue-acks"

// initQueues builds the queues from the journal and the acknowledgement
// file; it runs in New after the journal is open.
func (s *Server) initQueues() error {
	if len(s.cfg.Queues) == 0 {
		return nil
	}
	if err := checkQueues(s.cfg); err != nil {
		return err
	}
	if s.jr == nil || s.jr.log == nil {
		return fmt.Errorf("queues need a transaction log")
	}
	qs := &queues{srv: s, byName: map[string]*msgQueue{}}
	for i := range s.cfg.Queues {
		qc := &s.cfg.Queues[i]
		re, err := regexp.Compile("^(?:" + qc.underlying() + ")$")
		if err != nil {
			return fmt.Errorf("queue %q: UnderlyingTopic: %w", qc.Name, err)
		}
		q := &msgQueue{cfg: qc, re: re, lease: qc.LeasePeriod, byBM: map[string]*queueMsg{}, bySub: map[*subscription]*queueSub{}}
		if q.lease <= 0 {
			q.lease = DefaultLeasePeriod
		}
		// Everything the journal recovered at Open is on disk.
		q.durable = s.jr.log.Durable()
		qs.list = append(qs.list, q)
		qs.byName[qc.Name] = q
	}
	path := filepath.Join(s.cfg.TransactionLog.JournalDirectory, queueAckFile)
	acked, err := readQueueAcks(path)
	if err != nil {
		return err
	}
	l := s.jr.log
	r := l.NewReader(l.FirstSeq())
	defer r.Close()
	for {
		rec, err := r.Next(^uint64(0))
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("transaction log: rebuilding the queues: %w", err)
		}
		if rec.Command != txlog.Publish && rec.Command != txlog.DeltaPublish {
			continue
		}
		for _, q := range qs.list {
			if !q.re.MatchString(rec.Topic) {
				continue
			}
			if _, ok := acked[q.cfg.Name][rec.Seq]; ok {
				acked[q.cfg.Name][rec.Seq] = true // still needed
				continue
			}
			q.add(&queueMsg{seq: rec.Seq, bm: s.bookmarkOf(rec), topic: rec.Topic, key: rec.SowKey,
				ts: timestamp(rec.Time()), data: append([]byte(nil), rec.Data...)})
		}
	}
	if err := rewriteQueueAcks(path, acked); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("queue acknowledgements: %w", err)
	}
	qs.acks = f
	s.queues = qs
	return nil
}

// readQueueAcks reads the acknowledgement file: queue name -> journal
// sequence numbers (value false until the journal shows them still needed).
// A torn last line (a crash in the middle of a write) is ignored.
func readQueueAcks(path string) (map[string]map[uint64]bool, error) {
	acked := map[string]map[uint64]bool{}
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return acked, nil
	}
	if err != nil {
		return nil, fmt.Errorf("queue acknowledgements: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, num, ok := strings.Cut(sc.Text(), "\t")
		if !ok {
			continue
		}
		seq, err := strconv.ParseUint(num, 10, 64)
		if err != nil {
			continue
		}
		if acked[name] == nil {
			acked[name] = map[uint64]bool{}
		}
		acked[name][seq] = false
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("queue acknowledgements %s: %w", path, err)
	}
	return acked, nil
}

// rewriteQueueAcks replaces the file with the acknowledgements of messages
// still in the journal (it is renamed into place, synced first).
func rewriteQueueAcks(path string, acked map[string]map[uint64]bool) error {
	var b []byte
	for name, seqs := range acked {
		for seq, needed := range seqs {
			if needed {
				b = appendQueueAck(b, name, seq)
			}
		}
	}
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return fmt.Errorf("queue acknowledgements: %w", err)
	}
	_, werr := f.Write(b)
	if err := errors.Join(werr, f.Sync(), f.Close()); err != nil {
		return fmt.Errorf("queue acknowledgements: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("queue acknowledgements: %w", err)
	}
	return nil
}

func appendQueueAck(b []byte, name string, seq uint64) []byte {
	b = append(b, name...)
	b = append(b, '\t')
	b = strconv.AppendUint(b, seq, 10)
	return append(b, '\n')
}

// close syncs the acknowledgement file and stops the lease timer.
func (qs *queues) close() error {
	qs.tmu.Lock()
	qs.stopped = true
	if qs.timer != nil {
		qs.timer.Stop()
		qs.timer = nil
	}
	qs.tmu.Unlock()
	qs.fmu.Lock()
	defer qs.fmu.Unlock()
	if qs.acks == nil {
		return nil
	}
	err := errors.Join(qs.acks.Sync(), qs.acks.Close())
	qs.acks = nil
	if err != nil {
		return fmt.Errorf("queue acknowledgements: %w", err)
	}
	return nil
}

// add appends a message, held if its journal record is not durable yet;
// q.mu is held (or the queue is not shared yet).
func (q *msgQueue) add(m *queueMsg) {
	q.msgs = append(q.msgs, m)
	if m.seq > q.durable {
		m.held = true
		q.waiting = append(q.waiting, m)
		return
	}
	q.byBM[m.bm] = m
	q.avail++
}

// releaseDurable makes the held messages up to the journal position
// durable deliverable; q.mu is held. Queues over several topics can
// receive them slightly out of journal order, so every waiting message is
// looked at; they are few (those of one group commit).
func (q *msgQueue) releaseDurable(durable uint64) bool {
	if durable <= q.durable {
		return false
	}
	q.durable = durable
	keep := q.waiting[:0]
	released := false
	for _, m := range q.waiting {
		if m.seq > durable {
			keep = append(keep, m)
			continue
		}
		m.held = false
		q.byBM[m.bm] = m
		q.avail++
		released = true
	}
	clear(q.waiting[len(keep):])
	q.waiting = keep
	if len(keep) == 0 {
		q.waiting = nil // let the array go once empty
	}
	return released
}

// onDurable runs after each group commit of the journal (onDurable, txlog.go)
// with the local durable point: it delivers the messages it made durable,
// in queue order.
func (qs *queues) onDurable(durable uint64) {
	for _, q := range qs.list {
		q.mu.Lock()
		if !q.releaseDurable(durable) {
			q.mu.Unlock()
			continue
		}
		out, at := q.dispatch(qs.srv)
		q.mu.Unlock()
		qs.arm(at) // before the deliveries: a lease seen by its holder has its timer
		sendQueued(out)
	}
}

// publish enqueues a journaled publish to topic in every queue over it;
// the topic's lock is held, so each queue sees its topics' messages in
// journal order. A message whose record is not durable yet is held, and
// delivered by onDurable.
func (qs *queues) publish(topic string, d *Delivery) {
	for _, q := range qs.list {
		if !q.re.MatchString(topic) {
			continue
		}
		q.mu.Lock()
		m := &queueMsg{seq: d.seq, bm: d.Bookmark, topic: topic, key: d.SowKey, ts: d.Timestamp, data: d.Data}
		q.add(m)
		if m.held {
			// Nothing became deliverable: onDurable delivers it.
			q.mu.Unlock()
			continue
		}
		out, at := q.dispatch(qs.srv)
		q.mu.Unlock()
		qs.arm(at)
		sendQueued(out)
	}
}

// queueSend is a delivery decided under the queue's lock and written
// after it is released: writing can close a slow consumer, whose close
// takes the queue's lock again.
type queueSend struct {
	sub *subscription
	h   wire.Header
	m   *queueMsg
}

func sendQueued(out []queueSend) {
	for i := range out {
		out[i].sub.client.sendFrame(&out[i].h, out[i].m.data)
	}
}

// dispatch leases available messages to subscriptions with room. It
// returns the deliveries to write and the earliest lease end of the queue
// (0: none); q.mu is held.
func (q *msgQueue) dispatch(s *Server) ([]queueSend, int64) {
	var out []queueSend
	if len(q.subs) > 0 && q.avail > 0 {
		now := s.clock.Now()
		until := now.Add(q.lease)
		lp := timestamp(until)
		for _, m := range q.msgs {
			if m.owner != nil || m.gone || m.held {
				continue
			}
			room := false
			n := len(q.subs)
			for i := 0; i < n; i++ {
				qsub := q.subs[(q.next+i)%n]
				if qsub.leased >= qsub.backlog || qsub.sub.client.isClosed() {
					continue
				}
				room = true
				if f := qsub.sub.filter; f != nil && !f.Match(m.data) {
					continue
				}
				q.next = (q.next + i + 1) % n
				q.gen++
				m.owner, m.until, m.gen = qsub, until.UnixNano(), q.gen
				qsub.leased++
				q.avail--
				q.leases = append(q.leases, leaseEntry{m, m.gen})
				out = append(out, queueSend{sub: qsub.sub, m: m, h: wire.Header{
					Command: "p", Topic: q.cfg.Name, SubID: qsub.sub.id, SubIDs: qsub.sub.id,
					Bookmark: m.bm, Timestamp: m.ts, SowKey: m.key, LeasePeriod: lp,
				}})
				break
			}
			if !room || q.avail == 0 {
				break
			}
		}
	}
	return out, q.earliest()
}

// earliest drops stale lease entries and returns the oldest lease end.
func (q *msgQueue) earliest() int64 {
	for len(q.leases) > 0 {
		e := q.leases[0]
		if !e.m.gone && e.m.owner != nil && e.m.gen == e.gen {
			return e.m.until
		}
		q.leases[0] = leaseEntry{}
		q.leases = q.leases[1:]
	}
	q.leases = nil // let the array go once empty
	return 0
}

// release puts a leased message back; q.mu is held.
func (q *msgQueue) release(m *queueMsg) {
	if m.owner != nil {
		m.owner.leased--
		m.owner = nil
		q.avail++
	}
}

// remove takes an acknowledged message out; q.mu is held. The slot is
// reclaimed later, in bulk, so that acknowledging n messages costs O(n).
func (q *msgQueue) remove(m *queueMsg) {
	if m.owner != nil {
		m.owner.leased--
		m.owner = nil
	} else {
		q.avail--
	}
	m.gone = true
	delete(q.byBM, m.bm)
	q.removed++
	if q.removed > 64 && q.removed > len(q.msgs)/2 {
		live := q.msgs[:0]
		for _, x := range q.msgs {
			if !x.gone {
				live = append(live, x)
			}
		}
		clear(q.msgs[len(live):])
		q.msgs, q.removed = live, 0
	}
}

// arm makes the lease timer fire no later than at (Unix nanoseconds; 0:
// nothing to do).
func (qs *queues) arm(at int64) {
	if at == 0 {
		return
	}
	qs.tmu.Lock()
	defer qs.tmu.Unlock()
	if qs.stopped || (qs.timer != nil && qs.timerAt <= at) {
		return
	}
	if qs.timer != nil {
		qs.timer.Stop()
	}
	d := time.Duration(at - qs.srv.clock.Now().UnixNano())
	qs.timerAt = at
	qs.timer = qs.srv.clock.AfterFunc(max(d, 0), qs.expire)
}

// expire ends the leases that are due and delivers their messages again.
func (qs *queues) expire() {
	qs.tmu.Lock()
	if qs.stopped {
		qs.tmu.Unlock()
		return
	}
	qs.timer, qs.timerAt = nil, 0
	qs.tmu.Unlock()
	now := qs.srv.clock.Now().UnixNano()
	for _, q := range qs.list {
		q.mu.Lock()
		for {
			at := q.earliest()
			if at == 0 || at > now {
				break
			}
			q.release(q.leases[0].m)
		}
		out, at := q.dispatch(qs.srv)
		q.mu.Unlock()
		qs.arm(at) // before the deliveries: a lease seen by its holder has its timer
		sendQueued(out)
	}
}

// queueSubscribe handles a subscribe to a queue; it reports false when
// the topic is not a queue.
func (c *client) queueSubscribe(req *wire.Header, acks ackSet, sub *subscription, withSOW bool) bool {
	qs := c.srv.queues
	if qs == nil || sub.re != nil {
		return false
	}
	q := qs.byName[sub.topic]
	if q == nil {
		return false
	}
	if withSOW || req.Bookmark != "" {
		c.fail(req, acks, "not supported")
		return true
	}
	backlog := 1
	if sub.opts.HasMaxBacklog {
		if sub.opts.MaxBacklog < 1 {
			c.fail(req, acks, "invalid options")
			return true
		}
		backlog = sub.opts.MaxBacklog
	}
	c.subs[sub.id] = sub
	// Registered before the ack, so that a publish the subscriber makes
	// after the ack finds it, and taking messages only after the ack, so
	// that the ack comes first.
	q.mu.Lock()
	qsub := &queueSub{sub: sub}
	q.subs = append(q.subs, qsub)
	q.bySub[sub] = qsub
	q.mu.Unlock()
	if acks&ackProcessed != 0 {
		h := ackHeader(req, "processed", "success", "")
		h.Options = "max_backlog=" + strconv.Itoa(backlog)
		c.sendFrame(&h, nil)
	}
	q.mu.Lock()
	qsub.backlog = backlog
	out, at := q.dispatch(c.srv)
	q.mu.Unlock()
	qs.arm(at) // before the deliveries: a lease seen by its holder has its timer
	sendQueued(out)
	if c.isClosed() {
		// The client closed while subscribing: its close may have run
		// before the subscription was registered.
		c.srv.queueUnsubscribe(sub)
	}
	return true
}

// queueUnsubscribe returns a queue subscription's leased messages to its
// queue and delivers them again.
func (s *Server) queueUnsubscribe(sub *subscription) {
	qs := s.queues
	if qs == nil || sub.re != nil {
		return
	}
	q := qs.byName[sub.topic]
	if q == nil {
		return
	}
	q.mu.Lock()
	qsub := q.bySub[sub]
	if qsub == nil {
		q.mu.Unlock()
		return
	}
	delete(q.bySub, sub)
	for i, x := range q.subs {
		if x == qsub {
			q.subs = append(q.subs[:i], q.subs[i+1:]...)
			break
		}
	}
	if q.next >= len(q.subs) {
		q.next = 0
	}
	for _, m := range q.msgs {
		if !m.gone && m.owner == qsub {
			q.release(m)
		}
	}
	out, at := q.dispatch(s)
	q.mu.Unlock()
	qs.arm(at) // before the deliveries: a lease seen by its holder has its timer
	sendQueued(out)
}

// queueDisconnect releases the queue subscriptions of a closed client.
func (s *Server) queueDisconnect(c *client) {
	qs := s.queues
	if qs == nil {
		return
	}
	for _, q := range qs.list {
		q.mu.Lock()
		var mine []*subscription
		for sub := range q.bySub {
			if sub.client == c {
				mine = append(mine, sub)
			}
		}
		q.mu.Unlock()
		for _, sub := range mine {
			s.queueUnsubscribe(sub)
		}
	}
}

// queueAck handles a sow_delete by bookmark on a queue topic.
func (c *client) queueAck(req *wire.Header, acks ackSet) {
	s := c.srv
	qs := s.queues
	var q *msgQueue
	if qs != nil {
		q = qs.byName[req.Topic]
	}
	if q == nil {
		c.fail(req, acks, "invalid topic")
		return
	}
	var cancel, expire bool
	var extend time.Duration
	for _, o := range strings.Split(req.Options, ",") {
		o = strings.TrimSpace(o)
		switch {
		case o == "":
		case o == "cancel":
			cancel = true
		case o == "expire":
			expire = true
		case strings.HasPrefix(o, "lease_extension="):
			d, err := parseLeaseExtension(strings.TrimPrefix(o, "lease_extension="))
			if err != nil {
				c.fail(req, acks, "invalid options")
				return
			}
			extend = d
		default:
			c.fail(req, acks, "invalid options")
			return
		}
	}
	var journal []byte
	deleted, matches := 0, 0
	q.mu.Lock()
	now := s.clock.Now()
	for _, bm := range strings.Split(req.Bookmark, ",") {
		m := q.byBM[strings.TrimSpace(bm)]
		if m == nil || (m.owner != nil && m.owner.sub.client != c) {
			continue
		}
		matches++
		switch {
		case cancel:
			q.release(m)
		case extend > 0 && !expire:
			if m.owner != nil {
				// A new lease entry at the back keeps the entries in lease
				// end order only if every extension is at least the lease;
				// shorter ones are still found, a timer round later.
				q.gen++
				m.until, m.gen = now.Add(extend).UnixNano(), q.gen
				q.leases = append(q.leases, leaseEntry{m, m.gen})
			}
		default:
			q.remove(m)
			journal = appendQueueAck(journal, q.cfg.Name, m.seq)
			deleted++
		}
	}
	var err error
	if len(journal) > 0 {
		err = qs.writeAcks(journal)
	}
	out, at := q.dispatch(s)
	if extend > 0 {
		at = q.earliestScan()
	}
	q.mu.Unlock()
	// The acknowledgement is answered before the messages it made room
	// for are delivered.
	defer sendQueued(out)
	defer qs.arm(at) // runs first: the leases' timer is set before they are seen
	if err != nil {
		s.log.Error("queue acknowledgement not recorded", "queue", q.cfg.Name, "err", err)
		c.fail(req, acks, "tx store failure")
		return
	}
	if acks&ackProcessed != 0 {
		c.sendAck(req, "processed", "success", "")
	}
	if acks&ackCompleted != 0 {
		c.sendAck(req, "completed", "success", "")
	}
	if acks&ackStats != 0 {
		st := ackHeader(req, "stats", "success", "")
		st.HasStats = true
		st.Matches = matches
		st.RecordsDeleted = deleted
		c.sendFrame(&st, nil)
	}
}

// earliestScan is the earliest lease end over every leased message, for
// when extensions may have put the lease entries out of order; q.mu is held.
func (q *msgQueue) earliestScan() int64 {
	at := int64(0)
	for _, m := range q.msgs {
		if !m.gone && m.owner != nil && (at == 0 || m.until < at) {
			at = m.until
		}
	}
	return at
}

// parseLeaseExtension reads an interval such as 30s, or whole seconds.
func parseLeaseExtension(v string) (time.Duration, error) {
	if n, err := strconv.ParseUint(v, 10, 32); err == nil {
		return time.Duration(n) * time.Second, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("lease_extension %q", v)
	}
	return d, nil
}

// writeAcks appends acknowledgements to the file (to the operating system;
// it is synced at Shutdown).
func (qs *queues) writeAcks(b []byte) error {
	qs.fmu.Lock()
	defer qs.fmu.Unlock()
	if qs.acks == nil {
		return errors.New("queue acknowledgement file closed")
	}
	_, err := qs.acks.Write(b)
	return err
}

// queueQuery answers a sow query on a queue; it reports false when the
// topic is not a queue.
func (c *client) queueQuery(h *wire.Header) bool {
	qs := c.srv.queues
	if qs == nil {
		return false
	}
	q := qs.byName[h.Topic]
	if q == nil {
		return false
	}
	acks := parseAcks(h.AckType)
	req := *h
	if req.QueryID == "" {
		req.QueryID = req.SubID
	}
	if req.QueryID == "" {
		req.QueryID = req.CommandID
	}
	c.ackReceived(&req, acks)
	pq, reason := parseQuery(&req, "", 0)
	if reason != "" {
		c.fail(&req, acks, reason)
		return true
	}
	if acks&ackProcessed != 0 {
		c.sendAck(&req, "processed", "success", "")
	}
	var res queryResult
	q.mu.Lock()
	for _, m := range q.msgs {
		if m.gone || m.held {
			continue // a held message's bookmark must not leave the server
		}
		res.topicMatches++
		if pq.filter != nil && !pq.filter.Match(m.data) {
			continue
		}
		res.records = append(res.records, resultRecord{topic: q.cfg.Name, rec: &record{key: m.key, data: m.data, ts: m.ts}})
	}
	q.mu.Unlock()
	res.matches = len(res.records)
	c.sendResults(&req, pq, res)
	if acks&ackCompleted != 0 {
		c.sendAck(&req, "completed", "success", "")
	}
	if acks&ackStats != 0 {
		c.sendStats(&req, res, 0)
	}
	return true
}
