package ampserver

import (
	"bufio"
	"errors"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"ampsflume/amps/wire"
)

// transportConn is one client connection as the session sees it: frames in,
// frames out. Frames written carry their 4-byte length prefix.
type transportConn interface {
	readFrame() ([]byte, error)
	writeFrames(frames [][]byte) error
	close() error
	remoteAddr() string
	// inputReady tells whether the next frame is already buffered (reading
	// it will not wait for the peer).
	inputReady() bool
	// readAt is when the read that brought the frames being processed
	// returned (the zero Time when the transport does not say).
	readAt() time.Time
}

// streamConn is the amps protocol over a byte stream (TCP or TLS).
type streamConn struct {
	nc  net.Conn
	rc  readClock
	r   *wire.Reader
	bw  *bufio.Writer
	buf net.Buffers
	br  *bufio.Reader
	// z compresses the output of a compressed transport (compress.go);
	// sniffed is set once the start of an uncompressed stream was checked.
	z        *deflater
	sniffed  bool
	maxFrame int
}

func newStreamConn(nc net.Conn, maxFrame int) *streamConn {
	c := &streamConn{nc: nc, rc: readClock{Conn: nc}, maxFrame: maxFrame}
	c.br = bufio.NewReaderSize(&c.rc, 64<<10)
	c.r = wire.NewReader(c.br, maxFrame)
	return c
}

// readClock notes when each read from the connection returns: publishes
// are stamped with the time their frame was read, one clock reading per
// read instead of one per publish (a clock reading cost as much as a
// tenth of a fanned-out publish). Reading goroutine only.
type readClock struct {
	net.Conn
	at time.Time
}

func (r *readClock) Read(p []byte) (int, error) {
	n, err := r.Conn.Read(p)
	if n > 0 {
		r.at = time.Now()
	}
	return n, err
}

func (c *streamConn) readFrame() ([]byte, error) {
	if !c.sniffed {
		c.sniffed = true
		if c.z == nil {
			if err := sniffUncompressed(c.br, c.maxFrame); err != nil {
				return nil, err
			}
		}
	}
	return c.r.Next()
}
func (c *streamConn) writeFrames(frames [][]byte) error {
	if c.z != nil {
		return c.z.writeFrames(frames)
	}
	c.buf = append(c.buf[:0], frames...)
	_, err := c.buf.WriteTo(c.nc)
	return err
}
func (c *streamConn) close() error       { return c.nc.Close() }
func (c *streamConn) remoteAddr() string { return c.nc.RemoteAddr().String() }
func (c *streamConn) inputReady() bool   { return c.r.Ready() }
func (c *streamConn) readAt() time.Time  { return c.rc.at }

// client is one connected session.
type client struct {
	srv       *Server
	conn      transportConn
	id        uint64
	transport string
	remote    string

	// Session state, touched only by the reading goroutine (except name,
	// read by the admin interface under srv.mu).
	name     string
	user     string
	loggedOn bool
	// logName mirrors name for log lines written from other goroutines
	// (shutdown, slow-consumer disconnects) without taking srv.mu.
	logName atomic.Pointer[string]
	subs    map[string]*subscription

	// Outbound queue: bounded by bytes; the writer goroutine drains it.
	outMu    sync.Mutex
	out      [][]byte
	block    []byte // where sendFrame encodes small frames
	outBytes int
	closed   bool
	wake     chan struct{}
	done     chan struct{}
	// coalesce: the transport takes any split of the byte stream (not a
	// websocket, which sends each queued frame as messages of its own), so
	// frames encoded one after the other into block are queued as one
	// slice: out[len(out)-1] is block[tailStart:] while tailOpen.
	coalesce  bool
	tailOpen  bool
	tailStart int
	// Blocks are recycled (blockPool) once every frame in them has been
	// written: queuedTotal and sentTotal count the bytes ever queued and
	// written, and a block retired when queuedTotal was q is free once
	// sentTotal reaches q, since frames are written in queue order.
	queuedTotal int64
	sentTotal   int64
	retired     []retiredBlock
	// writing is the part of outBytes the writer has taken and is writing.
	// drained, when set, is closed by the writer once at most drainAt
	// bytes wait behind what it is writing: a producer that paces itself on
	// the queue (bookmark replay, waitQueued) sleeps on it instead of
	// polling.
	writing int
	drained chan struct{}
	drainAt int

	// Reader goroutine only: the topic of the last publish (topics are
	// never removed), and where publish copies small payloads.
	lastTopic *topic
	inBlock   []byte
	// wakes are the subscribers whose writers this client's publishes gave
	// work: they are woken once the frames already read are processed, not
	// once per delivery, so that a burst of publishes reaches each
	// subscriber's socket in a few large writes (see flushWakes).
	wakes  []*client
	strs   wire.Arena  // header values that change per frame (cid, s), timestamps
	hcache wire.Header // header values of earlier frames (wire.Arena.ParseInto)

	// Heartbeat state. Reading the clock for every inbound frame cost as
	// much as the rest of a publish, so the reader stamps lastRecv only with
	// the first frame after each heartbeat tick (recvSeen), which is what
	// the tick needs to tell silence from traffic.
	lastRecv   atomic.Int64 // clock nanoseconds of an inbound frame since the previous tick
	recvSeen   atomic.Bool  // lastRecv was stamped since the previous tick
	hbMu       sync.Mutex
	hbInterval time.Duration
	hbTimer    Timer

	msgsIn, msgsOut atomic.Uint64
}

func (s *Server) serveConn(tc transportConn, transport string) {
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		tc.close()
		return
	}
	s.nextID++
	c := &client{
		srv: s, conn: tc, id: s.nextID, transport: transport, remote: tc.remoteAddr(),
		subs: map[string]*subscription{},
		wake: make(chan struct{}, 1), done: make(chan struct{}),
	}
	s.clients[c] = struct{}{}
	s.wg.Add(2)
	s.mu.Unlock()
	_, c.coalesce = tc.(*streamConn)
	c.lastRecv.Store(s.clock.Now().UnixNano())
	go c.writeLoop()
	go c.readLoop()
}

func (c *client) logAttrs() []any {
	name := ""
	if p := c.logName.Load(); p != nil {
		name = *p
	}
	return []any{"client", name, "remote", c.remote, "transport", c.transport}
}

func (c *client) readLoop() {
	defer c.srv.wg.Done()
	defer c.flushWakes()
	var h wire.Header
	for {
		if len(c.wakes) > 0 && !c.conn.inputReady() {
			c.flushWakes() // the next read may wait: deliver what is queued
		}
		frame, err := c.conn.readFrame()
		if err != nil {
			var fe *wire.FrameError
			switch {
			case errors.As(err, &fe):
				c.srv.log.Warn("malformed frame; closing connection", append(c.logAttrs(), "err", err)...)
				c.close("malformed frame: " + fe.Reason)
			case errors.Is(err, io.EOF):
				c.close("disconnected")
			default:
				c.close("read: " + err.Error())
			}
			return
		}
		if !c.recvSeen.Load() {
			c.lastRecv.Store(c.srv.clock.Now().UnixNano())
			c.recvSeen.Store(true)
		}
		h.Reset()
		payload, err := c.strs.ParseInto(frame, &h, &c.hcache)
		if err != nil {
			c.srv.log.Warn("malformed header; closing connection", append(c.logAttrs(), "err", err)...)
			c.close("malformed header")
			return
		}
		c.msgsIn.Add(1)
		if !c.dispatch(&h, payload) {
			return
		}
	}
}

// dispatch runs one command; it returns false when the connection must end.
func (c *client) dispatch(h *wire.Header, payload []byte) bool {
	cmd := h.Command
	if cmd != "logon" && !c.loggedOn {
		if c.srv.cfg.Authentication != nil {
			acks := parseAcks(h.AckType)
			c.ackReceived(h, acks)
			c.sendAck(h, "processed", "failure", "logon required")
			return true
		}
		c.implicitLogon()
	}
	switch cmd {
	case "logon":
		c.logon(h)
	case "publish", "p", "delta_publish":
		c.publish(h, payload)
	case "subscribe", "delta_subscribe":
		c.subscribe(h, false)
	case "sow_and_subscribe", "sow_and_delta_subscribe":
		c.subscribe(h, true)
	case "sow":
		if !c.queueQuery(h) { // queue.go
			c.sow(h)
		}
	case "sow_delete":
		c.sowDelete(h, payload)
	case "unsubscribe":
		c.unsubscribe(h)
	case "flush":
		c.flush(h)
	case "heartbeat":
		c.heartbeat(h)
	case "start_timer", "stop_timer":
		acks := parseAcks(h.AckType)
		c.ackReceived(h, acks)
		if acks&ackProcessed != 0 {
			c.sendAck(h, "processed", "failure", "not supported")
		}
	default:
		c.srv.log.Warn("unknown command; closing connection", append(c.logAttrs(), "command", cmd)...)
		c.sendAck(h, "processed", "failure", "not supported")
		c.closeAfterFlush("unknown command " + strconv.Quote(cmd))
		return false
	}
	return true
}

// Outbound frames of small messages are encoded one after the other into
// blocks of frameBlock bytes instead of an allocation each: a frame is
// never written to again once queued, and a block is garbage once the
// writer has sent every frame in it.
const (
	frameBlock   = 64 << 10
	frameReserve = 512     // room kept for a delivery's header
	frameShared  = 4 << 10 // larger payloads get a frame of their own
)

// blockPool holds free frame blocks of frameBlock bytes.
var blockPool sync.Pool

// retiredBlock is a block no longer encoded into, waiting for the writer
// to send its frames.
type retiredBlock struct {
	buf   *[frameBlock]byte
	until int64 // the queuedTotal at retirement
}

// sendFrame queues one message. It never blocks: a client whose queue
// would exceed its limit is disconnected as a slow consumer.
func (c *client) sendFrame(h *wire.Header, payload []byte) {
	if len(payload) > frameShared {
		c.enqueue(wire.AppendFrame(make([]byte, 0, 160+len(payload)), h, payload))
		return
	}
	c.outMu.Lock()
	if c.closed {
		c.outMu.Unlock()
		return
	}
	c.reserveLocked(frameReserve + len(payload))
	off := len(c.block)
	c.block = wire.AppendFrame(c.block, h, payload)
	c.queueBlockLocked(off, nil)
}

// sendDelivery queues one delivery for the subscription whose encoded ids
// are idPart (deliver.go).
func (c *client) sendDelivery(d *Delivery, idPart []byte) {
	if len(d.Data) > frameShared {
		c.enqueue(appendDeliveryFrame(make([]byte, 0, 160+len(idPart)+len(d.Data)), d, idPart))
		return
	}
	c.outMu.Lock()
	if c.closed {
		c.outMu.Unlock()
		return
	}
	c.reserveLocked(frameReserve + len(idPart) + len(d.Data))
	off := len(c.block)
	c.block = appendDeliveryFrame(c.block, d, idPart)
	c.queueBlockLocked(off, nil)
}

// sendEncoded queues one delivery of a fan-out whose header was encoded
// once for all subscribers (deliver.go). The writer is not woken here: the
// publishing client pub wakes it later (flushWakes).
func (c *client) sendEncoded(e *deliveryEnc, idPart []byte, pub *client) {
	n := e.frameLen(idPart)
	c.outMu.Lock()
	if c.closed {
		c.outMu.Unlock()
		return
	}
	if len(e.data) > frameShared {
		c.tailOpen = false
		c.enqueueLocked(e.appendFrame(make([]byte, 0, n), idPart), pub)
		return
	}
	c.reserveLocked(n)
	off := len(c.block)
	c.block = e.appendFrame(c.block, idPart)
	c.queueBlockLocked(off, pub)
}

// flushWakes wakes the writers of the subscribers this client's publishes
// queued frames for; reader goroutine only.
func (c *client) flushWakes() {
	for i, w := range c.wakes {
		w.signal()
		c.wakes[i] = nil
	}
	c.wakes = c.wakes[:0]
}

// signal wakes the writer goroutine.
func (c *client) signal() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// reserveLocked makes room for n bytes in the block; outMu is held.
func (c *client) reserveLocked(n int) {
	if cap(c.block)-len(c.block) >= n {
		return
	}
	c.tailOpen = false
	if cap(c.block) == frameBlock {
		// Every frame encoded into the block is queued by now.
		c.retired = append(c.retired, retiredBlock{buf: (*[frameBlock]byte)(c.block[:frameBlock]), until: c.queuedTotal})
	}
	if n <= frameBlock {
		if b, ok := blockPool.Get().(*[frameBlock]byte); ok {
			c.block = b[:0]
			return
		}
	}
	c.block = make([]byte, 0, max(frameBlock, n))
}

// sentLocked records that the writer has written n more bytes, and
// recycles the blocks whose frames are all written; outMu is held.
func (c *client) sentLocked(n int) {
	c.outBytes -= n
	c.sentTotal += int64(n)
	free := 0
	for free < len(c.retired) && c.retired[free].until <= c.sentTotal {
		blockPool.Put(c.retired[free].buf)
		c.retired[free].buf = nil
		free++
	}
	if free > 0 {
		c.retired = append(c.retired[:0], c.retired[free:]...)
	}
}

// queueBlockLocked queues the frame just encoded at block[off:]; outMu is
// held and is released. by is as for enqueueLocked.
func (c *client) queueBlockLocked(off int, by *client) {
	end := len(c.block)
	frame := c.block[off:end:end]
	if !c.coalesce || c.outBytes+len(frame) > c.srv.cfg.MaxOutboundBytes {
		c.enqueueLocked(frame, by) // a refused frame ends the session there
		return
	}
	if c.tailOpen && len(c.out) > 0 {
		// The frame follows the last queued one in the same block: extend it.
		c.out[len(c.out)-1] = c.block[c.tailStart:end:end]
		c.outBytes += len(frame)
		c.queuedTotal += int64(len(frame))
		c.outMu.Unlock()
		c.msgsOut.Add(1)
		return
	}
	c.tailOpen, c.tailStart = true, off
	c.enqueueLocked(frame, by)
}

func (c *client) enqueue(frame []byte) {
	c.outMu.Lock()
	if c.closed {
		c.outMu.Unlock()
		return
	}
	c.tailOpen = false
	c.enqueueLocked(frame, nil)
}

// enqueueLocked queues frame; outMu is held and is released. The writer is
// woken only when the queue was empty: otherwise it has a wake-up pending,
// is about to take the queue, or a publisher will wake it. With by set
// (the publishing client, on its reader goroutine) the wake-up is left to
// by.flushWakes.
func (c *client) enqueueLocked(frame []byte, by *client) {
	if c.outBytes+len(frame) > c.srv.cfg.MaxOutboundBytes {
		queued := c.outBytes
		c.outMu.Unlock()
		c.srv.log.Warn("slow consumer; disconnecting", append(c.logAttrs(), "queued_bytes", queued, "limit", c.srv.cfg.MaxOutboundBytes)...)
		c.close("slow consumer")
		return
	}
	wasEmpty := len(c.out) == 0
	c.out = append(c.out, frame)
	c.outBytes += len(frame)
	c.queuedTotal += int64(len(frame))
	c.outMu.Unlock()
	c.msgsOut.Add(1)
	if wasEmpty {
		if by != nil {
			by.wakes = append(by.wakes, c)
		} else {
			c.signal()
		}
	}
}

// queuedBytes is the size of messages queued or being written.
func (c *client) queuedBytes() int {
	c.outMu.Lock()
	defer c.outMu.Unlock()
	return c.outBytes
}

// waitingBytes is the size of the messages queued behind those the writer
// is writing.
func (c *client) waitingBytes() int {
	c.outMu.Lock()
	defer c.outMu.Unlock()
	return c.outBytes - c.writing
}

// waitQueued blocks until at most n bytes wait behind what the writer is
// writing (so that it finds a full batch when it is done, and no more); it
// reports false if the session ended first.
func (c *client) waitQueued(n int) bool {
	for {
		c.outMu.Lock()
		if c.closed {
			c.outMu.Unlock()
			return false
		}
		if c.outBytes-c.writing <= n {
			c.outMu.Unlock()
			return true
		}
		// Waiters share one channel, closed at the lowest of their marks;
		// each checks its own again.
		if c.drained == nil {
			c.drained, c.drainAt = make(chan struct{}), n
		}
		c.drainAt = min(c.drainAt, n)
		ch := c.drained
		c.outMu.Unlock()
		select {
		case <-ch:
		case <-c.done:
			return false
		}
	}
}

func (c *client) writeLoop() {
	defer c.srv.wg.Done()
	var batch [][]byte
	for {
		select {
		case <-c.wake:
		case <-c.done:
			return
		}
		for {
			c.outMu.Lock()
			batch, c.out = c.out, batch[:0]
			c.tailOpen = false
			n := 0
			for _, f := range batch {
				n += len(f)
			}
			c.writing = n
			if c.drained != nil && c.outBytes-c.writing <= c.drainAt {
				close(c.drained)
				c.drained = nil
			}
			c.outMu.Unlock()
			if len(batch) == 0 {
				break
			}
			if err := c.conn.writeFrames(batch); err != nil {
				c.close("write: " + err.Error())
				return
			}
			clear(batch)
			c.outMu.Lock()
			if !c.closed {
				c.sentLocked(n)
				c.writing = 0
			}
			c.outMu.Unlock()
		}
	}
}

// closeAfterFlush ends the session once what is queued has been written
// (bounded by a short grace period).
func (c *client) closeAfterFlush(reason string) {
	c.flushWakes() // reader goroutine: its own deliveries may be among them
	deadline := time.Now().Add(time.Second)
	for c.queuedBytes() > 0 && time.Now().Before(deadline) {
		select {
		case <-c.done:
			return
		case <-time.After(time.Millisecond):
		}
	}
	c.close(reason)
}

// close ends the session once; later calls do nothing.
func (c *client) close(reason string) {
	c.outMu.Lock()
	if c.closed {
		c.outMu.Unlock()
		return
	}
	c.closed = true
	c.out = nil
	c.tailOpen = false
	c.block = nil
	c.retired = nil // the writer may still be writing from them: not recycled
	c.outBytes = 0
	c.outMu.Unlock()
	close(c.done)
	c.conn.close()
	c.stopHeartbeat()
	s := c.srv
	s.removeSubs(func(sub *subscription) bool { return sub.client == c })
	s.queueDisconnect(c) // queue.go
	s.mu.Lock()
	delete(s.clients, c)
	if c.name != "" && s.byName[c.name] == c {
		delete(s.byName, c.name)
	}
	s.mu.Unlock()
	s.log.Info("client disconnected", append(c.logAttrs(), "reason", reason)...)
}

// Acknowledgements.

type ackSet uint8

const (
	ackReceived ackSet = 1 << iota
	ackParsed
	ackProcessed
	ackPersisted
	ackCompleted
	ackStats
)

func parseAcks(s string) ackSet {
	var a ackSet
	for s != "" {
		var part string
		part, s, _ = strings.Cut(s, ",")
		switch strings.TrimSpace(part) {
		case "received":
			a |= ackReceived
		case "parsed":
			a |= ackParsed
		case "processed":
			a |= ackProcessed
		case "persisted":
			a |= ackPersisted
		case "completed":
			a |= ackCompleted
		case "stats":
			a |= ackStats
		}
	}
	return a
}

// ackReceived sends the received and parsed acks if requested; they come
// before any work is done.
func (c *client) ackReceived(req *wire.Header, acks ackSet) {
	if acks&ackReceived != 0 {
		c.sendAck(req, "received", "success", "")
	}
	if acks&ackParsed != 0 {
		c.sendAck(req, "parsed", "success", "")
	}
}

func ackHeader(req *wire.Header, typ, status, reason string) wire.Header {
	return wire.Header{
		Command:   "ack",
		CommandID: req.CommandID,
		SubID:     req.SubID,
		QueryID:   req.QueryID,
		AckType:   typ,
		Status:    status,
		Reason:    reason,
	}
}

func (c *client) sendAck(req *wire.Header, typ, status, reason string) {
	h := ackHeader(req, typ, status, reason)
	c.sendFrame(&h, nil)
}

// fail reports a command failure on the acks the command asked for; with
// none requested it still sends a processed failure, since the client would
// otherwise never learn why nothing happened.
func (c *client) fail(req *wire.Header, acks ackSet, reason string) {
	c.srv.log.Debug("command failed", append(c.logAttrs(), "command", req.Command, "reason", reason)...)
	sent := false
	for _, t := range []struct {
		bit  ackSet
		name string
	}{{ackProcessed, "processed"}, {ackCompleted, "completed"}, {ackStats, "stats"}} {
		if acks&t.bit != 0 {
			c.sendAck(req, t.name, "failure", reason)
			sent = true
		}
	}
	if !sent {
		c.sendAck(req, "processed", "failure", reason)
	}
}
