package ampserver

import "ampsflume/amps/wire"

// flush acknowledges once every earlier command of the client has been
// processed. Commands of one connection run in order on its reading
// goroutine, so by the time flush runs they all have; their effects on
// subscribers are queued ahead of anything published later.
func (c *client) flush(h *wire.Header) {
	acks := parseAcks(h.AckType)
	c.ackReceived(h, acks)
	for _, t := range []struct {
		bit  ackSet
		name string
	}{{ackProcessed, "processed"}, {ackPersisted, "persisted"}, {ackCompleted, "completed"}} {
		if acks&t.bit != 0 {
			c.sendAck(h, t.name, "success", "")
		}
	}
}
