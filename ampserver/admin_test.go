package ampserver

import (
	"testing"

	"ampsflume/amps/wire"
)

// TestStatusCountsSubscriptions checks the admin view's per-client count of
// live subscriptions, which tools poll to know when publishing may start.
func TestStatusCountsSubscriptions(t *testing.T) {
	s := startServer(t, ordersConfig(""))
	subsOf := func(name string) int {
		for _, c := range s.Status().Clients {
			if c.Name == name {
				return c.Subscriptions
			}
		}
		return -1
	}
	c := dial(t, s.TCPAddr())
	c.logon("watcher")
	require(t, subsOf("watcher") == 0, "after logon: %d subscriptions", subsOf("watcher"))
	for i, h := range []wire.Header{
		{Command: "subscribe", CommandID: "s1", SubID: "a", Topic: "Orders", AckType: "processed"},
		{Command: "sow_and_subscribe", CommandID: "s2", SubID: "b", QueryID: "b", Topic: "Orders", AckType: "processed"},
	} {
		c.send(h, "")
		c.expectAck("processed", "success")
		require(t, subsOf("watcher") == i+1, "after %s: %d subscriptions", h.Command, subsOf("watcher"))
	}
	c.send(wire.Header{Command: "unsubscribe", CommandID: "u", SubID: "all", AckType: "processed"}, "")
	for {
		m := c.recv()
		if m.h.Command == "ack" && m.h.CommandID == "u" {
			break
		}
	}
	require(t, subsOf("watcher") == 0, "after unsubscribe: %d subscriptions", subsOf("watcher"))
}
