package ampserver

import (
	"strconv"
	"strings"
	"time"

	"ampsflume/amps/wire"
)

// heartbeat handles `start,N` (the server then sends a heartbeat every N
// seconds and disconnects a client silent for more than 2×N) and `beat` (any inbound
// traffic already counts as life, so a beat only needs its acks).
func (c *client) heartbeat(h *wire.Header) {
	acks := parseAcks(h.AckType)
	c.ackReceived(h, acks)
	opts := h.Options
	if opts == "" {
		opts = h.Heartbeat
	}
	cmd, arg, _ := strings.Cut(opts, ",")
	switch strings.TrimSpace(cmd) {
	case "start":
		n, err := strconv.ParseFloat(strings.TrimSpace(arg), 64)
		if err != nil || n <= 0 || n > 86400 {
			c.fail(h, acks, "invalid options")
			return
		}
		c.startHeartbeat(time.Duration(n * float64(time.Second)))
	case "stop":
		c.stopHeartbeat()
	case "beat", "":
	default:
		c.fail(h, acks, "invalid options")
		return
	}
	if acks&ackProcessed != 0 {
		c.sendAck(h, "processed", "success", "")
	}
}

func (c *client) startHeartbeat(d time.Duration) {
	c.hbMu.Lock()
	defer c.hbMu.Unlock()
	if c.hbTimer != nil {
		c.hbTimer.Stop()
	}
	c.hbInterval = d
	c.lastRecv.Store(c.srv.clock.Now().UnixNano())
	c.recvSeen.Store(false)
	c.hbTimer = c.srv.clock.AfterFunc(d, c.heartbeatTick)
}

func (c *client) stopHeartbeat() {
	c.hbMu.Lock()
	defer c.hbMu.Unlock()
	if c.hbTimer != nil {
		c.hbTimer.Stop()
		c.hbTimer = nil
	}
	c.hbInterval = 0
}

// heartbeatTick runs every interval: it disconnects a client that has sent
// nothing for twice the interval, and otherwise sends a heartbeat. The
// client's last frame is known as the first one after the latest tick that
// had traffic (see client.recvSeen): the silence is measured from there.
func (c *client) heartbeatTick() {
	c.hbMu.Lock()
	d := c.hbInterval
	if d == 0 || c.hbTimer == nil {
		c.hbMu.Unlock()
		return
	}
	c.recvSeen.Store(false) // the next frame stamps lastRecv again
	silent := c.srv.clock.Now().Sub(time.Unix(0, c.lastRecv.Load()))
	if silent > 2*d {
		c.hbTimer = nil
		c.hbMu.Unlock()
		c.srv.log.Warn("heartbeat: disconnecting an unresponsive client", append(c.logAttrs(), "silent", silent)...)
		c.close("heartbeat")
		return
	}
	c.hbTimer = c.srv.clock.AfterFunc(d, c.heartbeatTick)
	c.hbMu.Unlock()
	c.sendFrame(&wire.Header{Command: "heartbeat"}, nil)
}
