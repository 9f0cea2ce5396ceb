package ampserver

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"regexp"
	"strconv"
	"sync"

	"ampsflume/amps/wire"
	"ampsflume/ampserver/txlog"
)

// journal is the server side of the transaction log: which topics are
// journaled, the persisted acks waiting for the disk, and the bookmark
// subscriptions that asked for persisted acks.
type journal struct {
	log    *txlog.Log
	topics []*regexp.Regexp
	marks  map[string]uint64 // SOW topic -> last journal record applied, read at start

	match sync.Map // topic name -> bool

	mu      sync.Mutex
	pending map[*client][]pendingAck
	bsubs   map[*subscription]struct{}

	// afterAppend, if set (by tests, before Start), runs under the topic
	// lock between a publish's journal append and its live fan-out.
	afterAppend func(topic string, seq uint64)
}

// pendingAck is a publish waiting for the journal to be on disk up to seq.
type pendingAck struct {
	seq       uint64 // journal position that must be durable
	clientSeq uint64
	duplicate bool
}

// opSOWMark is a SOW file entry recording the last journal record applied
// to the SOW (key = its sequence number in decimal). Older readers of the
// SOW file skip entries they do not know.
const opSOWMark byte = 3

// prepareJournal reads, before the SOW stores are opened (which compacts
// their files), the journal position each persistent SOW file reflects.
func (s *Server) prepareJournal() error {
	tl := s.cfg.TransactionLog
	if tl == nil {
		return nil
	}
	j := &journal{marks: map[string]uint64{}, pending: map[*client][]pendingAck{}, bsubs: map[*subscription]struct{}{}}
	for _, tr := range tl.Topics {
		re, err := regexp.Compile("^(?:" + tr.Name + ")$")
		if err != nil {
			return fmt.Errorf("transaction log topic %q: %w", tr.Name, err)
		}
		j.topics = append(j.topics, re)
	}
	for _, sc := range s.cfg.SOW {
		if sc.FileName == "" || !j.journaled(sc.Name) {
			continue
		}
		m, err := readSOWMark(sowFileName(sc.FileName, sc.Name))
		if err != nil {
			return err
		}
		j.marks[sc.Name] = m
	}
	s.jr = j
	return nil
}

// journaled tells whether publishes to the topic are journaled.
func (j *journal) journaled(name string) bool {
	if v, ok := j.match.Load(name); ok {
		return v.(bool)
	}
	ok := false
	for _, re := range j.topics {
		if re.MatchString(name) {
			ok = true
			break
		}
	}
	j.match.Store(name, ok)
	return ok
}

// readSOWMark returns the last journal mark of a SOW file (0 if none).
func readSOWMark(path string) (uint64, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("sow store %s: %w", path, err)
	}
	defer f.Close()
	r := bufio.NewReader(f)
	var mark uint64
	var hdr [8]byte
	for {
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			return mark, nil
		}
		n := binary.LittleEndian.Uint32(hdr[4:])
		if n > 1<<30 {
			return mark, nil
		}
		body := make([]byte, n)
		if _, err := io.ReadFull(r, body); err != nil || crc32.ChecksumIEEE(body) != binary.LittleEndian.Uint32(hdr[:]) {
			return mark, nil
		}
		if op, key, _, _, ok := decodeEntry(body); ok && op == opSOWMark {
			if v, err := strconv.ParseUint(key, 10, 64); err == nil {
				mark = v
			}
		}
	}
}

// startJournal opens the journal and brings the SOW topics up to date with
// it: records after each SOW's mark are applied in order.
func (s *Server) startJournal() error {
	j := s.jr
	if j == nil {
		return nil
	}
	tl := s.cfg.TransactionLog
	l, err := txlog.Open(txlog.Options{
		Dir:           tl.JournalDirectory,
		SegmentSize:   tl.MinJournalSize,
		FlushInterval: tl.FlushInterval,
		OnDurable:     s.onDurable,
		Logger:        s.log,
	})
	if err != nil {
		return fmt.Errorf("transaction log: %w", err)
	}
	j.log = l
	s.mu.Lock()
	for name, seq := range l.ClientSeqs() {
		if seq > s.lastSeq[name] {
			s.lastSeq[name] = seq
		}
	}
	s.mu.Unlock()
	// SOW topics fed by the journal, and where each one stands.
	from := ^uint64(0)
	sows := map[string]*topic{}
	for _, t := range s.sowTopics() {
		if j.journaled(t.name) {
			sows[t.name] = t
			if m := j.marks[t.name]; m+1 < from {
				from = m + 1
			}
		}
	}
	if len(sows) == 0 {
		return nil
	}
	r := l.NewReader(from)
	defer r.Close()
	applied := 0
	last := l.NextSeq() - 1
	for {
		rec, err := r.Next(^uint64(0))
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("transaction log: rebuilding the SOW: %w", err)
		}
		t := sows[rec.Topic]
		if t == nil || rec.Seq <= j.marks[t.name] {
			continue
		}
		switch rec.Command {
		case txlog.SowDelete:
			_, err = t.sow.del(rec.SowKey)
		default:
			_, _, err = t.sow.put(rec.SowKey, timestamp(rec.Time()), append([]byte(nil), rec.Data...))
		}
		if err != nil {
			return fmt.Errorf("SOW topic %q: %w", t.name, err)
		}
		applied++
	}
	for _, t := range sows {
		if err := t.sow.log(opSOWMark, strconv.FormatUint(last, 10), "", nil); err != nil {
			return fmt.Errorf("SOW topic %q: %w", t.name, err)
		}
		if err := t.sow.flush(); err != nil {
			return fmt.Errorf("SOW topic %q: %w", t.name, err)
		}
	}
	if applied > 0 {
		s.log.Info("SOW brought up to date from the transaction log", "records", applied, "from", from)
	}
	return nil
}

func (s *Server) closeJournal() error {
	if s.jr == nil || s.jr.log == nil {
		return nil
	}
	return s.jr.log.Close()
}

// dropDuplicate handles a republished message: with a transaction log, a
// publish whose `s` is not above the highest seen for its client name was
// already processed. It is dropped and, if asked, acknowledged as a
// duplicate. It reports whether the publish was dropped.
func (s *Server) dropDuplicate(c *client, h *wire.Header, acks ackSet) bool {
	j := s.jr
	if j == nil || !h.HasSeq || c.name == "" {
		return false
	}
	s.mu.Lock()
	last := s.lastSeq[c.name]
	s.reserveSeq(c.name, h.Seq) // replication.go
	s.mu.Unlock()
	if h.Seq > last {
		return false
	}
	if acks&ackProcessed != 0 {
		c.sendAck(h, "processed", "success", "duplicate")
	}
	if acks&ackPersisted != 0 {
		j.queueAck(c, pendingAck{seq: j.log.NextSeq() - 1, clientSeq: h.Seq, duplicate: true})
		s.flushAcks(c)
	}
	return true
}

// journalPublish appends a publish (under the topic lock, after the SOW was
// updated) and stamps the delivery with its bookmark. It returns the
// journal position (0: not journaled) or the AMPS failure reason.
func (s *Server) journalPublish(c *client, h *wire.Header, t *topic, d *Delivery) (uint64, string) {
	j := s.jr
	if j == nil || !j.journaled(t.name) {
		return 0, ""
	}
	cmd := txlog.Publish
	if h.Command == "delta_publish" {
		cmd = txlog.DeltaPublish
	}
	at := d.at // the delivery's own timestamp, so a replay shows the same
	if at == 0 {
		at = s.clock.Now().UnixMicro()
	}
	rec := txlog.Record{
		Publisher:  txlog.PublisherID(c.name),
		Timestamp:  at,
		Command:    cmd,
		Topic:      t.name,
		ClientName: c.name,
		SowKey:     d.SowKey,
		Data:       d.Data,
	}
	if h.HasSeq {
		rec.ClientSeq = h.Seq
	} else {
		rec.ClientSeq = s.stampPublish(c.name) // replication.go
	}
	seq, err := j.log.Append(&rec)
	if err != nil {
		s.log.Error("transaction log append failed", "topic", t.name, "err", err)
		return 0, "tx store failure"
	}
	d.Bookmark = s.journaled(&rec) // replication.go
	d.seq = seq
	s.markSOW(t, seq)
	if j.afterAppend != nil {
		j.afterAppend(t.name, seq)
	}
	return seq, ""
}

// journalDelete records a SOW delete of a journaled topic (topic lock held).
func (s *Server) journalDelete(c *client, t *topic, key string) {
	j := s.jr
	if j == nil || !j.journaled(t.name) {
		return
	}
	rec := txlog.Record{
		Publisher:  txlog.PublisherID(c.name),
		Timestamp:  s.clock.Now().UnixMicro(),
		Command:    txlog.SowDelete,
		Topic:      t.name,
		ClientName: c.name,
		SowKey:     key,
	}
	seq, err := j.log.Append(&rec)
	if err != nil {
		s.log.Error("transaction log append failed", "topic", t.name, "err", err)
		return
	}
	s.journaled(&rec) // replication.go
	s.markSOW(t, seq)
}

// markSOW records in a persistent SOW file that it reflects the journal up
// to seq, so that a restart replays only what follows.
func (s *Server) markSOW(t *topic, seq uint64) {
	if t.sow == nil || t.sow.w == nil {
		return
	}
	if err := t.sow.log(opSOWMark, strconv.FormatUint(seq, 10), "", nil); err != nil {
		s.log.Error("SOW store failed", "topic", t.name, "err", err)
	}
}

// persistedAck acknowledges a publish as persisted: at once when nothing
// is journaled, else once the journal is on disk up to it (conflated acks:
// one ack naming the highest sequence number).
func (s *Server) persistedAck(c *client, h *wire.Header, journalSeq uint64) {
	j := s.jr
	if j == nil {
		c.sendFrame(&wire.Header{Command: "ack", AckType: "persisted", Status: "success", Seq: h.Seq, HasSeq: true}, nil)
		return
	}
	if journalSeq == 0 {
		// Not journaled itself, but it must not be acknowledged ahead of
		// this client's earlier journaled publishes.
		journalSeq = j.log.NextSeq() - 1
	}
	j.queueAck(c, pendingAck{seq: journalSeq, clientSeq: h.Seq})
	s.flushAcks(c)
}

func (j *journal) queueAck(c *client, a pendingAck) {
	j.mu.Lock()
	j.pending[c] = append(j.pending[c], a)
	j.mu.Unlock()
}

// flushAcks sends c's persisted acks that the disk now covers.
func (s *Server) flushAcks(c *client) {
	s.sendDurableAcks(c, s.jr.log.Durable())
}

func (s *Server) sendDurableAcks(c *client, durable uint64) {
	durable = s.ackPoint(durable) // replication.go: sync destinations too
	j := s.jr
	j.mu.Lock()
	q := j.pending[c]
	n := 0
	for n < len(q) && q[n].seq <= durable {
		n++
	}
	if n == 0 {
		j.mu.Unlock()
		return
	}
	top := q[n-1]
	if n == len(q) {
		delete(j.pending, c)
	} else {
		// Moved down in place: a publisher at full speed always has acks
		// past the durable point, and copying them to a new array at each
		// group commit was the largest allocation of a durable publish.
		j.pending[c] = q[:copy(q, q[n:])]
	}
	j.mu.Unlock()
	h := wire.Header{Command: "ack", AckType: "persisted", Status: "success", Seq: top.clientSeq, HasSeq: true}
	if top.duplicate {
		h.Reason = "duplicate"
	}
	c.sendFrame(&h, nil)
}

// onDurable runs after each group commit.
func (s *Server) onDurable(durable uint64) {
	if s.queues != nil {
		// Queue messages wait for the local disk only (queue.go).
		s.queues.onDurable(durable)
	}
	durable = s.ackPoint(durable) // replication.go: sync destinations too
	j := s.jr
	j.mu.Lock()
	clients := make([]*client, 0, len(j.pending))
	for c := range j.pending {
		clients = append(clients, c)
	}
	subs := make([]*subscription, 0, len(j.bsubs))
	for sub := range j.bsubs {
		subs = append(subs, sub)
	}
	j.mu.Unlock()
	for _, c := range clients {
		if c.isClosed() {
			j.mu.Lock()
			delete(j.pending, c)
			j.mu.Unlock()
			continue
		}
		s.sendDurableAcks(c, durable)
	}
	for _, sub := range subs {
		sub.replay.persisted(sub, durable)
	}
}

func (c *client) isClosed() bool {
	c.outMu.Lock()
	defer c.outMu.Unlock()
	return c.closed
}
