package ampserver

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"ampsflume/amps/wire"
	"ampsflume/ampserver/txlog"
)

// historicalSOWBound bounds the memory of one historical SOW query: the
// bytes of the records it rebuilds (keys and payloads). A query whose
// state at the bookmark is larger is refused rather than allowed to hold
// an unbounded share of the server's memory.
const historicalSOWBound = 64 << 20

var errHistoryTooLarge = errors.New("historical SOW state exceeds its memory bound")

// historicalSOW answers a sow query with a bookmark: the SOW as it was at
// that point, rebuilt from the transaction log. The point is one message
// bookmark (the state just after that message), a timestamp (the state
// just before the first record stamped at or after it), EPOCH (empty) or
// NOW. The topic must be a literal SOW topic in the transaction log, and
// the log must still hold its whole history: records before the log's
// first retained segment are not seen.
func (c *client) historicalSOW(req *wire.Header, acks ackSet, q *query) {
	s := c.srv
	j := s.jr
	spec := strings.TrimSpace(req.Bookmark)
	switch {
	case q.re != nil:
		c.fail(req, acks, "regex topic not supported")
		return
	case j == nil || !j.journaled(q.topic):
		c.fail(req, acks, reasonReplayFailed) // the topic is not in the transaction log
		return
	case strings.Contains(spec, ",") || isRangeSpec(spec):
		c.fail(req, acks, reasonInvalidBookmark) // one point in time, not a list or range
		return
	}
	topics := s.resolveSOW(q.topic, nil)
	if len(topics) != 1 {
		c.fail(req, acks, "invalid topic")
		return
	}
	st, err := s.resolveBookmark(spec)
	if err == nil && !st.Found {
		err = fmt.Errorf("bookmark %q is not in the transaction log: %w", spec, txlog.ErrInvalidBookmark)
	}
	if err != nil {
		c.failBookmark(req, acks, err)
		return
	}
	tmp, err := s.sowAt(q.topic, st.Seq)
	if err != nil {
		s.log.Error("historical SOW query failed", append(c.logAttrs(), "topic", q.topic, "bookmark", spec, "err", err)...)
		c.fail(req, acks, reasonReplayFailed)
		return
	}
	if acks&ackProcessed != 0 {
		c.sendAck(req, "processed", "success", "")
	}
	res := s.runQuery(q, []*topic{tmp}, nil, 0)
	c.sendResults(req, q, res)
	if acks&ackCompleted != 0 {
		c.sendAck(req, "completed", "success", "")
	}
	if acks&ackStats != 0 {
		c.sendStats(req, res, 0)
	}
}

// sowAt rebuilds topic name's SOW from the journal records before
// position end, keyed as the SOW keys them (each record carries its key).
func (s *Server) sowAt(name string, end uint64) (*topic, error) {
	tmp := &topic{name: name, sow: newMemStore()}
	recs := tmp.sow.records
	r := s.jr.log.NewReader(s.jr.log.FirstSeq())
	defer r.Close()
	size := 0
	for {
		rec, err := r.Next(end)
		if errors.Is(err, io.EOF) {
			return tmp, nil
		}
		if err != nil {
			return nil, err
		}
		if rec.Topic != name {
			continue
		}
		if old := recs[rec.SowKey]; old != nil {
			size -= len(old.key) + len(old.data)
			delete(recs, rec.SowKey)
		}
		if rec.Command == txlog.SowDelete {
			continue
		}
		key := strings.Clone(rec.SowKey)
		recs[key] = &record{key: key, data: append([]byte(nil), rec.Data...), ts: timestamp(rec.Time()), seq: rec.Seq}
		size += len(key) + len(rec.Data)
		if size > historicalSOWBound {
			return nil, fmt.Errorf("topic %q at journal position %d: %w", name, end, errHistoryTooLarge)
		}
	}
}
