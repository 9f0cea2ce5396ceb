package ampserver

import (
	"errors"
	"regexp"

	"ampsflume/amps/wire"
	"ampsflume/ampserver/options"
)

// newSubscription validates a subscribe-type command. On failure it returns
// the AMPS reason string.
func (c *client) newSubscription(h *wire.Header) (*subscription, string) {
	id := h.SubID
	if id == "" {
		id = h.CommandID
	}
	if id == "" {
		return nil, "invalid subid"
	}
	sub := &subscription{id: id, client: c, cmd: h.Command}
	sub.delta = h.Command == "delta_subscribe" || h.Command == "sow_and_delta_subscribe"
	if h.Topic == "" {
		return nil, "invalid topic"
	}
	if isRegexTopic(h.Topic) {
		re, err := regexp.Compile(h.Topic)
		if err != nil {
			return nil, "bad regex topic"
		}
		sub.re = re
	} else {
		sub.topic = h.Topic
	}
	if h.Filter != "" {
		m, err := compileFilter(h.Filter)
		if err != nil {
			return nil, "bad filter"
		}
		sub.filter = m
		sub.eq = eqFilterOf(m)
	}
	sub.idPart = appendIDPart(nil, id)
	opts, err := options.Parse(h.Options)
	if err != nil {
		var oe *options.Error
		if errors.As(err, &oe) {
			return nil, oe.Reason()
		}
		return nil, options.Reason
	}
	sub.opts = opts
	if reason := c.prepareExt(sub, h); reason != "" {
		return nil, reason
	}
	return sub, ""
}

// subscribe registers a subscription (withSOW: after a SOW query taken
// atomically with the registration).
func (c *client) subscribe(h *wire.Header, withSOW bool) {
	acks := parseAcks(h.AckType)
	req := *h
	if req.SubID == "" {
		req.SubID = req.CommandID
	}
	if withSOW && req.QueryID == "" {
		req.QueryID = req.SubID
	}
	if c.pauseResume(&req, acks) {
		return
	}
	c.ackReceived(&req, acks)
	sub, reason := c.newSubscription(&req)
	if reason != "" {
		c.fail(&req, acks, reason)
		return
	}
	if old := c.subs[sub.id]; old != nil && old.ended() {
		delete(c.subs, sub.id) // a bookmark range that reached its end (bookmark_range.go)
	}
	if old := c.subs[sub.id]; old != nil {
		if !sub.opts.Replace {
			c.fail(&req, acks, "subid in use")
			return
		}
		c.removeSub(old)
	}
	if c.queueSubscribe(&req, acks, sub, withSOW) { // queue.go
		return
	}
	if req.Bookmark != "" {
		c.bookmarkSubscribe(&req, acks, sub, withSOW)
		return
	}
	if withSOW {
		c.sowAndSubscribe(&req, acks, sub)
		return
	}
	// Registering under the topic lock orders the subscription against
	// publishes in progress: each is either fully before or fully after.
	if sub.re == nil {
		t := c.srv.topic(sub.topic)
		t.mu.Lock()
		c.srv.addSub(sub)
		t.mu.Unlock()
	} else {
		c.srv.addSub(sub)
	}
	c.subs[sub.id] = sub
	if acks&ackProcessed != 0 {
		c.sendAck(&req, "processed", "success", "")
	}
}

func (c *client) removeSub(sub *subscription) {
	delete(c.subs, sub.id)
	c.srv.removeSubs(func(s *subscription) bool { return s == sub })
	c.srv.queueUnsubscribe(sub) // queue.go
}
