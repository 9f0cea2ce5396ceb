package ampserver

import (
	"ampsflume/amps/wire"
)

// publish stores the message in the topic's SOW (if any) and delivers it to
// every matching subscription, all under the topic lock so that each
// subscriber sees a topic's messages in one order, consistent with the SOW.
func (c *client) publish(h *wire.Header, payload []byte) {
	acks := parseAcks(h.AckType)
	c.ackReceived(h, acks)
	if h.Topic == "" || isRegexTopic(h.Topic) {
		c.fail(h, acks, "invalid topic")
		return
	}
	s := c.srv
	if s.dropDuplicate(c, h, acks) {
		return
	}
	data := append([]byte(nil), payload...) // the read buffer is reused
	t := s.topic(h.Topic)
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
	d := Delivery{Topic: t.name, Timestamp: timestamp(s.clock.Now()), CorrelationID: h.CorrelationID, Data: data}
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
		old, _, err := t.sow.put(key, d.Timestamp, data)
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
	t.msgsIn.Add(1)
	for _, sub := range s.subs.Load().subs {
		if !sub.matchesTopic(t.name) || (sub.filter != nil && !sub.filter.Match(data)) {
			continue
		}
		t.msgsOut.Add(1)
		sub.deliver(&d)
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
