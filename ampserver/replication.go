package ampserver

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"ampsflume/ampserver/repl"
	"ampsflume/ampserver/txlog"
)

// replicator is the replication state of a server: the outgoing links (one
// per destination), the incoming links, where each origin's stream stands,
// and the bookmark index that makes bookmarks mean the same message on every
// instance of a replicated group.
type replicator struct {
	srv  *Server
	cfg  *ReplicationConfig
	name string
	log  *slog.Logger

	links []*outLink

	mu      sync.Mutex
	idx     map[uint64][]idxEntry // publisher -> records in journal order
	firsts  map[uint64][]topicFirst
	origins map[string]*originState
	inbound map[*inLink]struct{}
}

// idxEntry locates one message of a publisher: its publisher sequence
// number (the bookmark's second part) and its journal position here.
type idxEntry struct {
	cseq, seq uint64
}

// originState is where the stream from one origin instance stands here.
type originState struct {
	mu        sync.Mutex // held while a record of the origin is applied
	applied   uint64     // highest origin seq applied to the journal
	persisted uint64     // highest origin seq on disk here (and in the .pos file)
	posFile   string
}

// initReplication runs in New, after the journal was opened: it builds the
// bookmark index from the journal and loads each origin's resume point.
func (s *Server) initReplication() error {
	rc := s.cfg.Replication
	if rc == nil {
		return nil
	}
	if err := validateReplication(s.cfg); err != nil {
		return err
	}
	rp := &replicator{
		srv: s, cfg: rc, name: s.cfg.Name, log: s.log.With("component", "replication"),
		idx: map[uint64][]idxEntry{}, firsts: map[uint64][]topicFirst{}, origins: map[string]*originState{}, inbound: map[*inLink]struct{}{},
	}
	l := s.jr.log
	r := l.NewReader(l.FirstSeq())
	for {
		rec, err := r.Next(^uint64(0))
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			r.Close()
			return fmt.Errorf("replication: indexing the journal: %w", err)
		}
		rp.index(rec)
	}
	r.Close()
	for i := range rc.Destinations {
		d := &rc.Destinations[i]
		ol := &outLink{rp: rp, dest: d, wake: make(chan struct{}, 1)}
		for _, t := range d.Topics {
			re, err := regexp.Compile("^(?:" + t.Name + ")$")
			if err != nil {
				return fmt.Errorf("replication destination %q: topic %q: %w", d.Name, t.Name, err)
			}
			ol.topics = append(ol.topics, re)
		}
		rp.links = append(rp.links, ol)
	}
	s.repl = rp
	return nil
}

// startReplication runs in Start: it starts one sender per destination.
func (s *Server) startReplication() {
	rp := s.repl
	if rp == nil {
		return
	}
	for _, ol := range rp.links {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			ol.run()
		}()
	}
	// Incoming links end with the server.
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		<-s.flushStop
		rp.mu.Lock()
		for in := range rp.inbound {
			in.nc.Close()
		}
		rp.mu.Unlock()
	}()
}

// index records a journaled message in the bookmark index; the caller
// appends in journal order.
func (rp *replicator) index(rec *txlog.Record) {
	if rec.Command == txlog.SowDelete || rec.ClientSeq == 0 {
		return
	}
	rp.mu.Lock()
	rp.idx[rec.Publisher] = append(rp.idx[rec.Publisher], idxEntry{cseq: rec.ClientSeq, seq: rec.Seq})
	rp.noteFirst(rec) // replication_resume.go
	rp.mu.Unlock()
}

// wakeLinks tells every sender that the journal grew.
func (rp *replicator) wakeLinks() {
	for _, ol := range rp.links {
		select {
		case ol.wake <- struct{}{}:
		default:
		}
	}
}

// stampPublish gives a publish without `s` a publisher sequence number when
// replicating, so that it has the same bookmark and the same de-duplication
// identity on every instance. It returns 0 when not replicating.
func (s *Server) stampPublish(clientName string) uint64 {
	if s.repl == nil {
		return 0
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lastSeq[clientName]++
	return s.lastSeq[clientName]
}

// reserveSeq makes the de-duplication check and the claim of a publish's
// sequence number one step when replicating: a publish and the same message
// arriving from a peer must not both pass. The lock is held by the caller.
func (s *Server) reserveSeq(clientName string, seq uint64) {
	if s.repl != nil && seq > s.lastSeq[clientName] {
		s.lastSeq[clientName] = seq
	}
}

// journaled is called after a local record was appended: it indexes it,
// wakes the senders and returns the record's bookmark.
func (s *Server) journaled(rec *txlog.Record) string {
	rp := s.repl
	if rp == nil {
		return rec.Bookmark()
	}
	rp.index(rec)
	rp.wakeLinks()
	return s.bookmarkOf(rec)
}

// bookmarkOf is a record's bookmark. Alone, an instance uses
// "<publisher>|<journal seq>|". Replicating, it uses the publisher's own
// sequence number instead ("<publisher>|<s>|"), which is the same on every
// instance of the group; see the package documentation.
func (s *Server) bookmarkOf(rec *txlog.Record) string {
	if s.repl == nil || rec.ClientSeq == 0 {
		return rec.Bookmark()
	}
	return txlog.FormatBookmark(rec.Publisher, rec.ClientSeq)
}

// appendBookmarkOf appends what bookmarkOf returns.
func (s *Server) appendBookmarkOf(dst []byte, rec *txlog.Record) []byte {
	if s.repl == nil || rec.ClientSeq == 0 {
		return txlog.AppendBookmark(dst, rec.Publisher, rec.Seq)
	}
	return txlog.AppendBookmark(dst, rec.Publisher, rec.ClientSeq)
}

// ackPoint lowers a durable journal position to what every connected sync
// destination has persisted too. A sync destination that is not connected
// does not hold acks back (the link is degraded to async until it
// reconnects and catches up), so that a pair keeps accepting publishes
// while one instance is down.
func (s *Server) ackPoint(durable uint64) uint64 {
	rp := s.repl
	if rp == nil {
		return durable
	}
	for _, ol := range rp.links {
		if !ol.dest.Sync() {
			continue
		}
		if e, ok := ol.effective(); ok && e < durable {
			durable = e
		}
	}
	return durable
}

// acksChanged re-evaluates waiting persisted acks after a peer acked or a
// link went down.
func (s *Server) acksChanged() {
	if s.jr != nil && s.jr.log != nil {
		s.onDurable(s.jr.log.Durable())
	}
}

// origin returns the state of the stream from the named instance, loading
// its resume point on first use.
func (rp *replicator) origin(name string) *originState {
	rp.mu.Lock()
	defer rp.mu.Unlock()
	if o := rp.origins[name]; o != nil {
		return o
	}
	o := &originState{posFile: filepath.Join(rp.srv.cfg.TransactionLog.JournalDirectory, "replication-"+url.PathEscape(name)+".pos")}
	if b, err := os.ReadFile(o.posFile); err == nil {
		if v, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64); err == nil {
			o.applied, o.persisted = v, v
		}
	}
	rp.origins[name] = o
	return o
}

// savePosition records that everything of the origin up to seq is on disk
// here. Written after the journal sync, so it never runs ahead of the
// journal; being behind only causes records to be sent again and dropped.
func (o *originState) savePosition(seq uint64) error {
	if seq <= o.persisted {
		return nil
	}
	tmp := o.posFile + ".tmp"
	if err := os.WriteFile(tmp, []byte(strconv.FormatUint(seq, 10)+"\n"), 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp, o.posFile); err != nil {
		return err
	}
	o.persisted = seq
	return nil
}

// applyReplicated applies one record from a peer as if it had been
// published here: de-duplicated by publisher name and sequence number (so a
// message a publisher also sent here after a failover is kept once), put in
// the SOW, journaled with its origin, delivered to subscribers.
func (s *Server) applyReplicated(origin string, r *repl.Record) error {
	cmd := txlog.Command(r.Command)
	if cmd < txlog.Publish || cmd > txlog.SowDelete {
		return fmt.Errorf("record %d: unknown command %d", r.Seq, r.Command)
	}
	if r.ClientSeq > 0 {
		s.mu.Lock()
		dup := r.ClientSeq <= s.lastSeq[r.Client]
		if !dup {
			s.lastSeq[r.Client] = r.ClientSeq
		}
		s.mu.Unlock()
		if dup {
			return nil
		}
	}
	if r.Topic == "" || isRegexTopic(r.Topic) {
		return fmt.Errorf("record %d: invalid topic %q", r.Seq, r.Topic)
	}
	t := s.topic(r.Topic)
	t.mu.Lock()
	defer t.mu.Unlock()
	ts := timestamp(time.UnixMicro(r.Timestamp))
	data := append([]byte(nil), r.Data...)
	d := Delivery{Topic: t.name, Timestamp: ts, SowKey: r.SowKey, Data: data}
	if t.sow != nil {
		key := r.SowKey
		if key == "" {
			key = t.sowKey(data)
		}
		d.SowKey = key
		if cmd == txlog.SowDelete {
			old, err := t.sow.del(key)
			if err != nil {
				return fmt.Errorf("SOW topic %q: %w", t.name, err)
			}
			if old != nil {
				s.notify(RecordChange{Topic: t.name, SowKey: key, Timestamp: ts, Old: old.data})
			}
		} else {
			old, _, err := t.sow.put(key, ts, data)
			if err != nil {
				return fmt.Errorf("SOW topic %q: %w", t.name, err)
			}
			if old != nil {
				d.Prev = old.data
			}
			s.notify(RecordChange{Topic: t.name, SowKey: key, Timestamp: ts, Old: d.Prev, New: data})
		}
	}
	if j := s.jr; j != nil && j.journaled(t.name) {
		rec := txlog.Record{
			Publisher: txlog.PublisherID(r.Client), Timestamp: r.Timestamp, Command: cmd, Topic: t.name,
			ClientName: r.Client, ClientSeq: r.ClientSeq, SowKey: d.SowKey, Origin: origin, Data: data,
		}
		seq, err := j.log.Append(&rec)
		if err != nil {
			return fmt.Errorf("transaction log: %w", err)
		}
		s.repl.index(&rec)
		d.Bookmark, d.seq = s.bookmarkOf(&rec), seq
		s.markSOW(t, seq)
	}
	if cmd == txlog.SowDelete {
		return nil
	}
	t.msgsIn.Add(1)
	for _, sub := range s.subs.Load().subs {
		if !sub.matchesTopic(t.name) || (sub.filter != nil && !sub.filter.Match(data)) {
			continue
		}
		t.msgsOut.Add(1)
		sub.deliver(&d)
	}
	return nil
}
