package ampserver

import (
	"time"

	"ampsflume/amps/wire"
)

// publish stores the message in the topic's SOW (if any) and delivers it to
// every matching subscription, all under the topic lock so that each
// subscriber sees a topic's messages in one order, consistent with the SOW.
func (c *client) publish(h *wire.Header, payload []byte) {
	acks := parseAcks(h.AckType)
	c.ackReceived(h, acks)
	t := c.lastTopic // topics are never removed: a cached one stays valid
	if t == nil || t.name != h.Topic {
		if h.Topic == "" || isRegexTopic(h.Topic) {
			c.fail(h, acks, "invalid topic")
			return
		}
		t = nil
	}
	s := c.srv
	if s.dropDuplicate(c, h, acks) {
		return
	}
	if t == nil {
		t = s.topic(h.Topic)
		c.lastTopic = t
	}
	// The read buffer is reused by the next frame. A message that is only
	// fanned out to direct subscriptions is copied into their frames and
	// nothing else keeps it: it borrows the buffer, and is copied when a
	// subscription that may hold it (replay queue, conflation) matches.
	data, borrowed := payload, t.sow == nil && s.jr == nil && s.repl == nil
	if !borrowed {
		data = c.copyPayload(t, payload)
	}
	if t.isView() {
		c.fail(h, acks, "invalid topic") // views are fed by their underlying topic only
		return
	}
	data, reason := t.preprocess(data)
	if reason != "" {
		c.fail(h, acks, reason)
		return
	}
	t.mu.Lock()
	var now time.Time
	if _, real := s.clock.(realClock); real {
		now = t.wall.at(c.conn.readAt())
	} else {
		now = s.clock.Now()
	}
	d := Delivery{Topic: t.name, CorrelationID: h.CorrelationID, Data: data, at: now.UnixMicro()}
	ts := t.stamp.format(now) // valid until the topic's next publish
	switch {
	case t.sow != nil:
		d.Timestamp = string(ts) // kept by the SOW record: an allocation of its own
	case !borrowed:
		d.Timestamp = c.strs.String(ts)
		// Otherwise the fan-out encodes ts itself, and the string is made
		// only for a subscription that may keep the delivery (below).
	}
	if t.sow != nil {
		key := h.SowKey
		if len(t.keys) > 0 || key == "" {
			key = t.sowKey(data)
		}
		d.SowKey = key
		if data, reason = t.enrich(key, data); reason != "" {
			t.mu.Unlock()
			c.fail(h, acks, reason)
			return
		}
		d.Data = data
		if h.Command == "delta_publish" {
			merged, reason := t.mergeDelta(key, data)
			if reason != "" {
				t.mu.Unlock()
				c.fail(h, acks, reason)
				return
			}
			data, d.Data = merged, merged
		}
		old, err := s.sowPublish(t, key, d.Timestamp, data, h.Expiration, now) // expiration.go
		if err != nil {
			t.mu.Unlock()
			s.log.Error("SOW store failed", "topic", t.name, "err", err)
			c.fail(h, acks, "sow store failed")
			return
		}
		var oldData []byte
		if old != nil {
			oldData = old.data
		}
		d.Prev = oldData
		s.notify(RecordChange{Topic: t.name, SowKey: key, Timestamp: d.Timestamp, Old: oldData, New: data})
	}
	journalSeq, reason := s.journalPublish(c, h, t, &d)
	if reason != "" {
		t.mu.Unlock()
		c.fail(h, acks, reason)
		return
	}
	if s.queues != nil && journalSeq != 0 {
		s.queues.publish(t.name, &d) // queue.go
	}
	t.msgsIn.Add(1)
	r := t.routeFor(s.subs.Load())
	t.matched = r.match(t.matched[:0], data)
	encoded := false
	out := uint64(len(t.matched))
	for _, p := range t.matched {
		sub := r.subs[p]
		if sub.replay != nil || sub.ext != nil {
			if borrowed {
				d.Data = c.copyPayload(t, d.Data)
				d.Timestamp = c.strs.String(ts)
				data, borrowed = d.Data, false
			}
			sub.deliver(&d)
			continue
		}
		// The direct path: the header is encoded once for every subscriber.
		if !encoded {
			t.enc.reset(&d, ts)
			encoded = true
		}
		sub.client.sendEncoded(&t.enc, sub.idPart, c)
	}
	if out > 0 {
		t.msgsOut.Add(out)
	}
	t.mu.Unlock()
	if h.HasSeq && c.name != "" {
		s.mu.Lock()
		if h.Seq > s.lastSeq[c.name] {
			s.lastSeq[c.name] = h.Seq
		}
		s.mu.Unlock()
	}
	if acks&ackProcessed != 0 {
		c.sendAck(h, "processed", "success", "")
	}
	if acks&ackPersisted != 0 && h.HasSeq {
		// Persisted acks for publishes name the sequence, not the command.
		s.persistedAck(c, h, journalSeq)
	}
	if acks&ackCompleted != 0 {
		c.sendAck(h, "completed", "success", "")
	}
}

// Payloads of topics without a SOW are copied into shared blocks: they
// live only while the publish is fanned out (or a little longer, queued
// for a replaying or conflated subscription), while a SOW record keeps its
// own allocation so that it never holds a block alive.
const (
	payloadBlock  = 16 << 10
	payloadShared = 1 << 10
)

// copyPayload returns a copy of payload that stays valid after the read
// buffer is reused; reader goroutine only. The copy's capacity ends with
// it, so an append reallocates instead of overwriting a neighbour.
func (c *client) copyPayload(t *topic, payload []byte) []byte {
	if t.sow != nil || len(payload) > payloadShared {
		return append([]byte(nil), payload...)
	}
	if cap(c.inBlock)-len(c.inBlock) < len(payload) {
		c.inBlock = make([]byte, 0, payloadBlock)
	}
	off := len(c.inBlock)
	c.inBlock = append(c.inBlock, payload...)
	return c.inBlock[off:len(c.inBlock):len(c.inBlock)]
}
