package ampserver

import (
	"ampsflume/amps/wire"
)

// sowDeleteOneOf is the AMPS reason when a sow_delete names more than one
// way to select records.
const sowDeleteOneOf = "sow_delete command only supports one of: filter, sow_keys, bookmark, or data"

// sowDelete removes records chosen by a filter, by sow_keys, or by the key
// of the message in the payload, and reports records_deleted in the stats ack.
func (c *client) sowDelete(h *wire.Header, payload []byte) {
	acks := parseAcks(h.AckType)
	req := *h
	c.ackReceived(&req, acks)
	ways := 0
	for _, set := range []bool{req.Filter != "", req.SowKeys != "", req.Bookmark != "", len(payload) > 0} {
		if set {
			ways++
		}
	}
	if ways > 1 {
		c.fail(&req, acks, sowDeleteOneOf)
		return
	}
	if req.Bookmark != "" {
		c.queueAck(&req, acks) // queue.go
		return
	}
	if req.Topic == "" {
		c.fail(&req, acks, "invalid topic")
		return
	}
	s := c.srv
	var topics []*topic
	var q *query
	if len(payload) > 0 {
		if isRegexTopic(req.Topic) {
			c.fail(&req, acks, "invalid topic")
			return
		}
		topics = s.resolveSOW(req.Topic, nil)
	} else {
		if ways == 0 {
			c.fail(&req, acks, "no filter or bookmark")
			return
		}
		var reason string
		q, reason = parseQuery(&req, "", 0)
		if reason != "" {
			c.fail(&req, acks, reason)
			return
		}
		topics = s.resolveSOW(q.topic, q.re)
	}
	if len(topics) == 0 && !isRegexTopic(req.Topic) {
		c.fail(&req, acks, "invalid topic")
		return
	}
	if topics = withoutViews(topics); len(topics) == 0 && !isRegexTopic(req.Topic) {
		c.fail(&req, acks, "invalid topic") // a view changes only with its underlying topic
		return
	}
	deleted, matches := 0, 0
	var storeErr error
	for _, t := range topics {
		t.mu.Lock()
		var keys []string
		if q != nil {
			res := q.run([]*topic{t})
			for _, r := range res.records {
				keys = append(keys, r.rec.key)
			}
		} else {
			key := req.SowKey
			if len(t.keys) > 0 || key == "" {
				key = t.sowKey(payload)
			}
			keys = []string{key}
		}
		ts := timestamp(s.clock.Now())
		for _, k := range keys {
			old, err := t.sow.del(k)
			if err != nil {
				storeErr = err
				break
			}
			if old != nil {
				s.journalDelete(c, t, k)
				deleted++
				s.notify(RecordChange{Topic: t.name, SowKey: k, Timestamp: ts, Old: old.data})
			}
		}
		matches += len(keys)
		t.mu.Unlock()
		if storeErr != nil {
			s.log.Error("SOW store failed", "topic", t.name, "err", storeErr)
			c.fail(&req, acks, "sow store failed")
			return
		}
	}
	if acks&ackProcessed != 0 {
		c.sendAck(&req, "processed", "success", "")
	}
	if acks&ackCompleted != 0 {
		c.sendAck(&req, "completed", "success", "")
	}
	if acks&ackStats != 0 {
		st := ackHeader(&req, "stats", "success", "")
		st.HasStats = true
		st.Matches = matches
		st.RecordsDeleted = deleted
		c.sendFrame(&st, nil)
	}
}
