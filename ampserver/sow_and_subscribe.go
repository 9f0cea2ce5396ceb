package ampserver

import (
	"errors"

	"ampsflume/amps/wire"
	"ampsflume/ampserver/options"
)

// applyQueryOptions folds top_n, orderby and batch size given as options
// into q (headers given explicitly take precedence).
func applyQueryOptions(q *query, opts string) string {
	o, err := options.Parse(opts)
	if err != nil {
		var oe *options.Error
		if errors.As(err, &oe) {
			return oe.Reason()
		}
		return options.Reason
	}
	if o.HasTopN && q.topN == 0 {
		q.topN = o.TopN
	}
	if o.HasBatchSize && o.BatchSize > 0 {
		q.bs = o.BatchSize
	}
	if o.OrderBy != "" && len(q.order) == 0 {
		q2, reason := parseQuery(&wire.Header{Topic: q.topic}, o.OrderBy, 0)
		if reason != "" {
			return reason
		}
		q.order = q2.order
	}
	return ""
}

// sowAndSubscribe runs the query and registers the subscription as one
// step: the SOW topics' locks are held while the snapshot is taken, the
// subscription registered and the results queued, so every publish is
// either in the snapshot or delivered after group_end, never both or
// neither.
func (c *client) sowAndSubscribe(req *wire.Header, acks ackSet, sub *subscription) {
	q, reason := parseQuery(req, req.OrderBy, req.TopN)
	if reason == "" && req.Options != "" {
		reason = applyQueryOptions(q, req.Options)
	}
	if reason != "" {
		c.fail(req, acks, reason)
		return
	}
	s := c.srv
	topics := s.resolveSOW(q.topic, q.re)
	locked := topics
	if q.re == nil && len(topics) == 0 {
		// A topic without a SOW: an empty result, but the registration
		// must still be ordered against publishes to it.
		locked = []*topic{s.topic(q.topic)}
	}
	for _, t := range locked {
		t.mu.Lock()
	}
	res := s.queryFor(sub, q, topics)
	s.addSub(sub)
	c.subs[sub.id] = sub
	// The processed ack goes out once the subscription is in place (and
	// before group_begin, as clients expect): a client that publishes
	// after it returned from the command, on any connection, has the
	// publish either in the snapshot or delivered live.
	if acks&ackProcessed != 0 {
		c.sendAck(req, "processed", "success", "")
	}
	c.sendResults(req, q, res)
	for _, t := range locked {
		t.mu.Unlock()
	}
	if acks&ackCompleted != 0 {
		c.sendAck(req, "completed", "success", "")
	}
	if acks&ackStats != 0 {
		c.sendStats(req, res, 0)
	}
}
