package amps

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"ampsflume/amps/wire"
)

// conn is one network connection of a Client: a reader goroutine that routes
// inbound messages, a writer goroutine that drains the output buffer, and an
// optional heartbeat goroutine.
type conn struct {
	c   *Client
	nc  net.Conn
	uri *URI

	// Output: frames are appended to wbuf and the writer is woken; senders
	// wait on wcond while more than maxPendingWrite bytes are queued.
	wmu     sync.Mutex
	wcond   *sync.Cond
	wbuf    []byte
	wspare  []byte
	wake    chan struct{}
	written uint64 // frames queued, under wmu; the heartbeat timer reads it

	rmu     sync.Mutex
	byCID   map[string]*route
	bySub   map[string]*route
	byQuery map[string]*route
	// tables counts changes to the maps above, so that the reader can
	// route a stream of deliveries for the same sids without a lookup.
	tables atomic.Uint64
	last   struct {
		tables uint64
		sids   string
		route  *route
	} // reader goroutine only

	readTimeout atomic.Int64
	hbOnce      sync.Once

	alloc  msgAlloc    // reader goroutine only
	strs   wire.Arena  // reader goroutine only: header values that change per message
	hcache wire.Header // reader goroutine only: the header values seen last (ParseInto)
	routes []*route    // reader goroutine only: lookup's result

	// stop is closed by close(): it releases a reader blocked on a stalled
	// consumer. done is closed when the connection is down, err says why.
	stop        chan struct{}
	stopOnce    sync.Once
	done        chan struct{}
	downOnce    sync.Once
	err         error
	intentional atomic.Bool
	wg          sync.WaitGroup
}

func newConn(c *Client, nc net.Conn, u *URI) *conn {
	cn := &conn{
		c: c, nc: nc, uri: u,
		wake:    make(chan struct{}, 1),
		byCID:   map[string]*route{},
		bySub:   map[string]*route{},
		byQuery: map[string]*route{},
		stop:    make(chan struct{}),
		done:    make(chan struct{}),
	}
	cn.wcond = sync.NewCond(&cn.wmu)
	return cn
}

func (cn *conn) start() {
	cn.wg.Add(2)
	go cn.writeLoop()
	go cn.readLoop()
}

// down marks the connection dead with err (the first cause wins) and closes
// the socket, which ends the reader and the writer.
func (cn *conn) down(err error) {
	cn.downOnce.Do(func() {
		cn.err = err
		close(cn.done)
		_ = cn.nc.Close()
		cn.wmu.Lock()
		cn.wcond.Broadcast()
		cn.wmu.Unlock()
	})
}

// close is an intentional disconnect; it waits for the goroutines.
func (cn *conn) close(err error) {
	cn.intentional.Store(true)
	cn.stopOnce.Do(func() { close(cn.stop) })
	cn.down(err)
	cn.wg.Wait()
}

// failure is the error commands see once the connection is down.
func (cn *conn) failure() error {
	<-cn.done
	return cn.err
}

// send queues one frame. It blocks while too much output is pending.
func (cn *conn) send(h *wire.Header, data []byte) error {
	wasEmpty, err := cn.reserve()
	if err != nil {
		return err
	}
	b := cn.wbuf
	off := len(b)
	b = append(b, 0, 0, 0, 0)
	b = wire.AppendHeader(b, h)
	cn.queued(b, off, data, wasEmpty)
	return nil
}

// sendPublish queues a publish without acks: what send writes for the
// header {c, cid, t}, written directly since every publish goes this way.
// The frame is built in a local slice stored back once, rather than
// through cn.wbuf at every append.
func (cn *conn) sendPublish(cmd string, cid uint64, topic string, data []byte) error {
	wasEmpty, err := cn.reserve()
	if err != nil {
		return err
	}
	b := cn.wbuf
	off := len(b)
	b = append(b, 0, 0, 0, 0)
	b = append(b, `{"c":`...)
	b = wire.AppendQuoted(b, cmd)
	b = append(b, `,"cid":"`...)
	b = strconv.AppendUint(b, cid, 10)
	b = append(b, `","t":`...)
	b = wire.AppendQuoted(b, topic)
	b = append(b, '}')
	cn.queued(b, off, data, wasEmpty)
	return nil
}

// reserve takes wmu, waiting while too much output is pending; it tells
// whether the output buffer was empty. On error wmu is not held.
func (cn *conn) reserve() (wasEmpty bool, err error) {
	cn.wmu.Lock()
	for {
		select {
		case <-cn.done:
			err := cn.err
			cn.wmu.Unlock()
			return false, err
		default:
		}
		if len(cn.wbuf) < maxPendingWrite {
			return len(cn.wbuf) == 0, nil
		}
		cn.wcond.Wait()
	}
}

// queued completes the frame started at b[off:] (b extends wbuf) with data,
// stores b as wbuf and releases wmu. The writer is woken only when the
// buffer was empty: otherwise a wake-up is pending or the writer is about
// to take the buffer.
func (cn *conn) queued(b []byte, off int, data []byte, wasEmpty bool) {
	b = append(b, data...)
	binary.BigEndian.PutUint32(b[off:], uint32(len(b)-off-4))
	cn.wbuf = b
	cn.written++
	cn.wmu.Unlock()
	if wasEmpty {
		select {
		case cn.wake <- struct{}{}:
		default:
		}
	}
}

// queuedFrames is the number of frames queued so far.
func (cn *conn) queuedFrames() uint64 {
	cn.wmu.Lock()
	defer cn.wmu.Unlock()
	return cn.written
}

func (cn *conn) writeLoop() {
	defer cn.wg.Done()
	for {
		select {
		case <-cn.wake:
		case <-cn.done:
			return
		}
		cn.wmu.Lock()
		if len(cn.wbuf) == 0 {
			cn.wmu.Unlock()
			continue
		}
		// Swap buffers: senders fill the spare while this one is written.
		buf := cn.wbuf
		cn.wbuf, cn.wspare = cn.wspare[:0], nil
		cn.wcond.Broadcast()
		cn.wmu.Unlock()
		if _, err := cn.nc.Write(buf); err != nil {
			cn.down(fmt.Errorf("%w: write: %w", ErrDisconnected, err))
			return
		}
		cn.wmu.Lock()
		if cap(buf) <= maxPendingWrite*2 {
			cn.wspare = buf[:0]
		} else {
			cn.wspare = nil
		}
		cn.wmu.Unlock()
	}
}

func (cn *conn) readLoop() {
	rd := wire.NewReader(bufio.NewReaderSize(timeoutReader{cn.nc, &cn.readTimeout}, 64<<10), cn.c.opts.maxFrame)
	var err error
	for {
		var frame []byte
		frame, err = rd.Next()
		if err != nil {
			break
		}
		var payload []byte
		m := cn.alloc.next()
		if payload, err = cn.strs.ParseInto(frame, &m.Header, &cn.hcache); err != nil {
			break
		}
		if err = cn.dispatch(m, payload); err != nil {
			break
		}
	}
	switch {
	case cn.intentional.Load():
		// close() already set the cause.
	case errors.Is(err, io.EOF):
		err = fmt.Errorf("%w: connection closed by server", ErrDisconnected)
	case errors.Is(err, ErrHeartbeatTimeout):
		err = fmt.Errorf("%w: %w", ErrDisconnected, err)
	default:
		err = fmt.Errorf("%w: %w", ErrDisconnected, err)
	}
	cn.down(err)
	cause := cn.failure()
	cn.endAll(cause)
	intentional := cn.intentional.Load()
	cn.wg.Done()
	cn.c.detach(cn, cause, intentional)
}

// dispatch routes one inbound message, whose header was parsed into m
// (payload not yet copied). Only a malformed frame is an error.
func (cn *conn) dispatch(m *Message, payload []byte) error {
	h := &m.Header
	switch h.Command {
	case MsgHeartbeat:
		cn.alloc.release(m)
		// Answer every server heartbeat so the server sees traffic even if
		// our own timer has not fired yet.
		return cn.beat()
	case MsgSow:
		routes := cn.lookup(h)
		base := *h
		cn.alloc.release(m) // one Message per record instead
		return wire.ForEachRecord(payload, func(rh *wire.Header, data []byte) error {
			m := cn.alloc.message(rh, data)
			m.Command = MsgSow
			m.QueryID = base.QueryID
			if m.Topic == "" {
				m.Topic = base.Topic
			}
			if m.SubID == "" {
				m.SubID = base.SubID
			}
			if m.SubIDs == "" {
				m.SubIDs = base.SubIDs
			}
			m.BatchSize = base.BatchSize
			cn.deliver(routes, m)
			return nil
		})
	case MsgAck:
		if h.AckType == AckPersisted && h.CommandID == "" && h.SubID == "" && h.QueryID == "" && h.HasSeq {
			seq := h.Seq
			cn.alloc.release(m)
			cn.c.mu.Lock()
			fn := cn.c.onPersisted
			cn.c.mu.Unlock()
			if fn != nil {
				fn(seq)
			}
			return nil
		}
		cn.alloc.complete(m, payload)
		routes := cn.lookup(h)
		for _, r := range routes {
			cn.ack(r, m)
		}
		if len(routes) == 0 {
			cn.unhandled(m)
		}
		return nil
	default:
		routes := cn.lookup(h)
		if lendable(routes) {
			// Lent: the payload stays in the read buffer, and the Message
			// serves again once the handler is done with it.
			if m.Command == "p" {
				m.Command = MsgPublish
			}
			if len(payload) > 0 {
				m.Data = payload
			}
			routes[0].handler(m)
			cn.alloc.release(m)
			return nil
		}
		cn.alloc.complete(m, payload)
		cn.deliver(routes, m)
		return nil
	}
}

// lendable tells whether a delivery goes to exactly one handler that
// borrows its messages. A delivery for several routes is copied: one of
// them may keep it.
func lendable(routes []*route) bool {
	return len(routes) == 1 && routes[0].borrowed && routes[0].handler != nil
}

// lookup finds the routes of a message: by query_id, else by each id of
// sids, else by sub_id, else by cid. The result is valid until the next
// call (reader goroutine only).
func (cn *conn) lookup(h *wire.Header) []*route {
	if h.QueryID == "" && h.SubIDs != "" && h.SubIDs == cn.last.sids && cn.tables.Load() == cn.last.tables {
		// The same single subscription as the previous message, and no
		// route registered or ended since.
		cn.routes = append(cn.routes[:0], cn.last.route)
		return cn.routes
	}
	cn.rmu.Lock()
	tables := cn.tables.Load()
	out := cn.lookupLocked(h, cn.routes[:0])
	if h.QueryID == "" && len(out) == 1 && h.SubIDs != "" && out[0] == cn.bySub[h.SubIDs] {
		cn.last.tables, cn.last.sids, cn.last.route = tables, h.SubIDs, out[0]
	}
	cn.rmu.Unlock()
	cn.routes = out
	return out
}

// lookupLocked is lookup's search, appending to out; rmu is held.
func (cn *conn) lookupLocked(h *wire.Header, out []*route) []*route {
	if h.QueryID != "" {
		if r := cn.byQuery[h.QueryID]; r != nil {
			return append(out, r)
		}
	}
	for ids := h.SubIDs; ids != ""; {
		var id string
		id, ids, _ = strings.Cut(ids, ",")
		if r := cn.bySub[id]; r != nil && !containsRoute(out, r) {
			out = append(out, r)
		}
	}
	if len(out) > 0 {
		return out
	}
	if h.SubID != "" {
		if r := cn.bySub[h.SubID]; r != nil {
			return append(out, r)
		}
	}
	if h.CommandID != "" {
		if r := cn.byCID[h.CommandID]; r != nil {
			return append(out, r)
		}
	}
	return out
}

func containsRoute(rs []*route, r *route) bool {
	for _, x := range rs {
		if x == r {
			return true
		}
	}
	return false
}

func (cn *conn) deliver(routes []*route, m *Message) {
	if len(routes) == 0 {
		cn.unhandled(m)
		return
	}
	for _, r := range routes {
		r.deliver(m, cn.stop)
	}
}

func (cn *conn) unhandled(m *Message) {
	cn.c.mu.Lock()
	fn := cn.c.onUnhandled
	cn.c.mu.Unlock()
	if fn != nil {
		fn(m)
		return
	}
	cn.c.opts.logger.Debug("amps: message matches no command or subscription",
		"command", m.Command, "cid", m.CommandID, "sub_id", m.SubID, "query_id", m.QueryID)
}

// ack applies one ack to its route, on the reader goroutine.
func (cn *conn) ack(r *route, m *Message) {
	bit := ackBits[m.AckType]
	if r.userAcks&bit != 0 {
		r.deliver(m, cn.stop)
	}
	if m.AckType == AckStats {
		r.setStats(m)
	}
	failed := m.Error()
	if m.AckType == AckProcessed || failed != nil {
		r.decideWith(m, failed)
	}
	r.pending &^= bit
	switch {
	case failed != nil:
		cn.end(r, failed, false)
	case !r.persistent && r.pending == 0:
		cn.end(r, nil, false)
	case r.endsAtCompleted && m.AckType == AckCompleted:
		cn.end(r, nil, false)
	}
}

// register adds r to the routing tables. A sub_id already in use is refused
// unless the command carries the replace option, which AMPS defines for
// changing a live subscription.
func (cn *conn) register(r *route, replace bool) error {
	cn.rmu.Lock()
	defer cn.rmu.Unlock()
	select {
	case <-cn.done:
		return cn.err
	default:
	}
	if r.subID != "" {
		if old := cn.bySub[r.subID]; old != nil {
			if !replace {
				return fmt.Errorf("amps: %s: sub_id %q: %w", r.name, r.subID, ErrSubIDInUse)
			}
			r.replaced = old
		}
	}
	if _, dup := cn.byCID[r.cid]; dup {
		return fmt.Errorf("amps: %s: cid %q is already pending", r.name, r.cid)
	}
	cn.tables.Add(1)
	cn.byCID[r.cid] = r
	if r.subID != "" {
		cn.bySub[r.subID] = r
	}
	if r.queryID != "" {
		cn.byQuery[r.queryID] = r
	}
	return nil
}

// end removes r from the tables and finishes its stream. fromUser is true
// when a goroutine other than the reader ends it: the stream is then
// abandoned first so that a reader blocked on it lets go.
func (cn *conn) end(r *route, err error, fromUser bool) {
	cn.rmu.Lock()
	cn.tables.Add(1)
	if cn.byCID[r.cid] == r {
		delete(cn.byCID, r.cid)
	}
	if r.subID != "" && cn.bySub[r.subID] == r {
		delete(cn.bySub, r.subID)
	}
	if r.queryID != "" && cn.byQuery[r.queryID] == r {
		delete(cn.byQuery, r.queryID)
	}
	cn.rmu.Unlock()
	r.finish(err, fromUser)
}

// endAll finishes every route after the connection went down.
func (cn *conn) endAll(err error) {
	cn.rmu.Lock()
	var all []*route
	for _, m := range []map[string]*route{cn.byCID, cn.bySub, cn.byQuery} {
		for _, r := range m {
			if !containsRoute(all, r) {
				all = append(all, r)
			}
		}
	}
	cn.rmu.Unlock()
	for _, r := range all {
		cn.end(r, err, false)
	}
}
