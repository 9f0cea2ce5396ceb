package ampserver

import (
	"hash/fnv"
	"strconv"

	"ampsflume/amps/wire"
)

// ServerVersion is the version reported in logon acks. Clients parse it as
// dot-separated numbers.
const ServerVersion = "5.3.4.0"

// clientHash is the publisher id of a client name, used in bookmarks.
// It is never zero (zero means "no publisher" to the clients).
func clientHash(name string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(name))
	v := h.Sum64()
	if v == 0 {
		v = 1
	}
	return v
}

// logon authenticates the session and claims its client name. A second
// connection with the same name and user replaces the first; a different
// user is refused with "name in use".
func (c *client) logon(h *wire.Header) {
	acks := parseAcks(h.AckType)
	c.ackReceived(h, acks)
	if c.loggedOn {
		c.logonAck(h, "failure", "duplicate logon attempt", 0)
		return
	}
	if h.ClientName == "" {
		c.logonAck(h, "failure", "no client name", 0)
		return
	}
	s := c.srv
	if auth := s.cfg.Authentication; auth != nil {
		pw, ok := auth.Users[h.UserID]
		if !ok || pw != h.Password {
			s.log.Warn("logon refused", append(c.logAttrs(), "user", h.UserID, "reason", "auth failure")...)
			c.logonAck(h, "failure", "auth failure", 0)
			return
		}
	}
	s.mu.Lock()
	prev := s.byName[h.ClientName]
	if prev != nil && prev != c && prev.user != h.UserID {
		s.mu.Unlock()
		c.logonAck(h, "failure", "name in use", 0)
		return
	}
	s.byName[h.ClientName] = c
	c.name, c.user, c.loggedOn = h.ClientName, h.UserID, true
	logName := h.ClientName
	c.logName.Store(&logName)
	seq := s.lastSeq[h.ClientName]
	s.mu.Unlock()
	if prev != nil && prev != c {
		prev.close("replaced by a new logon with the same client name")
	}
	s.log.Info("client logged on", c.logAttrs()...)
	c.logonAck(h, "success", "", seq)
}

func (c *client) logonAck(req *wire.Header, status, reason string, seq uint64) {
	h := ackHeader(req, "processed", status, reason)
	if status == "success" {
		h.Version = ServerVersion
		h.ClientName = c.name
		h.Seq, h.HasSeq = seq, true
		h.Bookmark = strconv.FormatUint(clientHash(c.name), 10) + "|" + strconv.FormatUint(seq, 10) + "|"
	}
	c.sendFrame(&h, nil)
}

// implicitLogon names a session that sent a command before logging on,
// which AMPS allows when no authentication is configured.
func (c *client) implicitLogon() {
	name := "client-" + strconv.FormatUint(c.id, 10)
	c.srv.mu.Lock()
	c.name, c.loggedOn = name, true
	c.srv.mu.Unlock()
	c.logName.Store(&name)
}
