package ampserver

import (
	"strings"

	"ampsflume/amps/wire"
)

// unsubscribe removes the named subscriptions (a comma list), or every
// subscription of the client for `all`.
func (c *client) unsubscribe(h *wire.Header) {
	acks := parseAcks(h.AckType)
	c.ackReceived(h, acks)
	ids := h.SubID
	if ids == "" {
		ids = h.SubIDs
	}
	if ids == "" {
		c.fail(h, acks, "invalid subid")
		return
	}
	if ids == "all" {
		for _, sub := range c.subs {
			c.removeSub(sub)
		}
	} else {
		for _, id := range strings.Split(ids, ",") {
			if sub := c.subs[strings.TrimSpace(id)]; sub != nil {
				c.removeSub(sub)
			}
		}
	}
	if acks&ackProcessed != 0 {
		c.sendAck(h, "processed", "success", "")
	}
}
