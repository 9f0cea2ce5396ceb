package ampserver

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"ampsflume/amps/wire"
)

func TestLogonAck(t *testing.T) {
	s := startServer(t, ordersConfig(""))
	c := dial(t, s.TCPAddr())
	m := c.logon("alpha")
	h := m.h
	require(t, h.CommandID == "1" && h.ClientName == "alpha" && h.HasSeq && h.AckType == "processed", "ack %+v", h)
	parts := strings.Split(h.Version, ".")
	require(t, len(parts) >= 4, "version %q", h.Version)
	for _, p := range parts {
		_, err := strconv.Atoi(p)
		noErr(t, err)
	}
	bm := strings.Split(h.Bookmark, "|")
	require(t, len(bm) == 3 && bm[2] == "" && bm[0] != "0" && bm[1] == "0", "bm %q", h.Bookmark)
	// A second logon on the same connection is refused.
	c.send(wire.Header{Command: "logon", CommandID: "2", ClientName: "alpha", AckType: "processed"}, "")
	c.expectAck("processed", "failure")
}

func TestLogonSeqAndTakeover(t *testing.T) {
	s := startServer(t, ordersConfig(""))
	a := dial(t, s.TCPAddr())
	a.logon("pub")
	for i := 1; i <= 3; i++ {
		a.send(wire.Header{Command: "p", Topic: "x", Seq: uint64(100 + i), HasSeq: true}, `{}`)
	}
	a.send(wire.Header{Command: "flush", CommandID: "f", AckType: "processed"}, "")
	a.expectAck("processed", "success")
	// Same name, same (empty) user: the new connection replaces the old one.
	b := dial(t, s.TCPAddr())
	m := b.logon("pub")
	require(t, m.h.Seq == 103 && strings.HasSuffix(m.h.Bookmark, "|103|"), "logon ack %+v", m.h)
	a.expectClosed()
}

func TestLogonAuth(t *testing.T) {
	cfg := ordersConfig("")
	cfg.Authentication = &AuthConfig{Users: map[string]string{"bob": "pw1", "eve": "pw2"}}
	s := startServer(t, cfg)
	c := dial(t, s.TCPAddr())
	c.send(wire.Header{Command: "subscribe", CommandID: "1", Topic: "x", AckType: "processed"}, "")
	require(t, c.expectAck("processed", "failure").Reason == "logon required", "")
	c.send(wire.Header{Command: "logon", CommandID: "2", ClientName: "n", UserID: "bob", Password: "bad", AckType: "processed"}, "")
	require(t, c.expectAck("processed", "failure").Reason == "auth failure", "")
	c.send(wire.Header{Command: "logon", CommandID: "3", ClientName: "n", UserID: "bob", Password: "pw1", AckType: "processed"}, "")
	c.expectAck("processed", "success")
	d := dial(t, s.TCPAddr())
	d.send(wire.Header{Command: "logon", CommandID: "1", ClientName: "n", UserID: "eve", Password: "pw2", AckType: "processed"}, "")
	require(t, d.expectAck("processed", "failure").Reason == "name in use", "")
}

func TestPublishSubscribe(t *testing.T) {
	s := startServer(t, ordersConfig(""))
	sub := dial(t, s.TCPAddr())
	sub.logon("sub")
	sub.send(wire.Header{Command: "subscribe", CommandID: "s1", Topic: "Orders", Filter: "/qty > 100", AckType: "processed"}, "")
	ack := sub.expectAck("processed", "success")
	require(t, ack.SubID == "s1", "ack %+v", ack)
	sub.send(wire.Header{Command: "subscribe", CommandID: "s2", SubID: "rx", Topic: "^Ord.*", AckType: "processed"}, "")
	sub.expectAck("processed", "success")
	pub := dial(t, s.TCPAddr())
	pub.logon("pub")
	pub.send(wire.Header{Command: "publish", Topic: "Orders", CorrelationID: "c1"}, `{"order_key":1,"qty":50}`)
	pub.send(wire.Header{Command: "p", Topic: "Orders"}, `{"order_key":2,"qty":150}`)
	pub.send(wire.Header{Command: "p", Topic: "Unrelated"}, `{"qty":500}`)
	got := map[string][]string{}
	for i := 0; i < 3; i++ {
		m := sub.recv()
		require(t, m.h.Command == "p" && m.h.Topic == "Orders" && m.h.SubIDs == m.h.SubID && m.h.SowKey != "" && m.h.Timestamp != "", "delivery %+v", m.h)
		got[m.h.SubID] = append(got[m.h.SubID], string(m.payload))
		if string(m.payload) == `{"order_key":1,"qty":50}` {
			require(t, m.h.CorrelationID == "c1", "x not delivered: %+v", m.h)
		}
	}
	require(t, fmt.Sprint(got["s1"]) == `[{"order_key":2,"qty":150}]`, "s1 got %v", got["s1"])
	require(t, len(got["rx"]) == 2, "rx got %v", got["rx"])
}

func TestCommandErrors(t *testing.T) {
	s := startServer(t, ordersConfig(""))
	c := dial(t, s.TCPAddr())
	c.logon("e")
	tests := []struct {
		h      wire.Header
		reason string
	}{
		{wire.Header{Command: "subscribe", Topic: "Orders", Filter: "/a = = 1"}, "bad filter"},
		{wire.Header{Command: "subscribe", Topic: ""}, "invalid topic"},
		{wire.Header{Command: "subscribe", Topic: "Ord(ers"}, "bad regex topic"},
		{wire.Header{Command: "subscribe", Topic: "Orders", Options: "no_such_option"}, "invalid options"},
		{wire.Header{Command: "publish", Topic: ""}, "invalid topic"},
		{wire.Header{Command: "sow", Topic: "NotASOW"}, "invalid topic"},
		{wire.Header{Command: "sow", Topic: "Orders", Filter: "((("}, "bad filter"},
		{wire.Header{Command: "sow_delete", Topic: "Orders", Filter: "1=1", SowKeys: "1"}, sowDeleteOneOf},
		{wire.Header{Command: "heartbeat", Options: "start,abc"}, "invalid options"},
	}
	for i, tt := range tests {
		tt.h.CommandID = fmt.Sprint("e", i)
		tt.h.AckType = "processed"
		c.send(tt.h, "")
		ack := c.expectAck("processed", "failure")
		require(t, ack.Reason == tt.reason && ack.CommandID == tt.h.CommandID, "%s: got %+v, want reason %q", tt.h.Command, ack, tt.reason)
	}
	// A duplicate sub_id is refused unless replace is given.
	c.send(wire.Header{Command: "subscribe", CommandID: "d1", SubID: "dup", Topic: "Orders", AckType: "processed"}, "")
	c.expectAck("processed", "success")
	c.send(wire.Header{Command: "subscribe", CommandID: "d2", SubID: "dup", Topic: "Orders", AckType: "processed"}, "")
	require(t, c.expectAck("processed", "failure").Reason == "subid in use", "")
	c.send(wire.Header{Command: "subscribe", CommandID: "d3", SubID: "dup", Topic: "Orders", Options: "replace", AckType: "processed"}, "")
	c.expectAck("processed", "success")
}

func publishOrders(t *testing.T, c *rawClient, n int) {
	for i := 1; i <= n; i++ {
		c.send(wire.Header{Command: "p", Topic: "Orders"}, fmt.Sprintf(`{"order_key":%d,"qty":%d,"sym":"S%d"}`, i, i*10, i%3))
	}
	c.send(wire.Header{Command: "flush", CommandID: "fl", AckType: "processed"}, "")
	c.expectAck("processed", "success")
}

func TestSOWQuery(t *testing.T) {
	s := startServer(t, ordersConfig(""))
	c := dial(t, s.TCPAddr())
	c.logon("q")
	publishOrders(t, c, 7)
	// An update replaces the whole record.
	c.send(wire.Header{Command: "p", Topic: "Orders"}, `{"order_key":3,"qty":31}`)
	recs, stats := c.query(wire.Header{Topic: "Orders", BatchSize: 3})
	require(t, len(recs) == 7, "got %d records", len(recs))
	require(t, stats.HasStats && stats.RecordsReturned == 7 && stats.Matches == 7 && stats.TopicMatches == 7, "stats %+v", stats)
	for _, r := range recs {
		require(t, r.h.SowKey != "" && r.h.Timestamp != "" && r.h.HasLength, "record header %+v", r.h)
		if strings.Contains(r.data, `"order_key":3`) {
			require(t, r.data == `{"order_key":3,"qty":31}`, "record 3 not replaced: %s", r.data)
		}
	}
	recs, stats = c.query(wire.Header{Topic: "Orders", Filter: "/qty >= 40", OrderBy: "/qty DESC", TopN: 2})
	require(t, recData(recs) == "{\"order_key\":7,\"qty\":70,\"sym\":\"S1\"}\n{\"order_key\":6,\"qty\":60,\"sym\":\"S0\"}\n", "got %s", recData(recs))
	require(t, stats.Matches == 4 && stats.RecordsReturned == 2, "stats %+v", stats)
	recs, _ = c.query(wire.Header{Topic: "Orders", Options: "orderby=/qty,top_n=1"})
	require(t, len(recs) == 1 && strings.Contains(recs[0].data, `"qty":10,`), "got %s", recData(recs))
	// sow_keys restricts the query to those keys.
	all, _ := c.query(wire.Header{Topic: "Orders"})
	recs, _ = c.query(wire.Header{Topic: "Orders", SowKeys: all[0].h.SowKey + "," + all[2].h.SowKey})
	require(t, len(recs) == 2, "sow_keys query got %d", len(recs))
	// Regex query across SOW topics.
	recs, _ = c.query(wire.Header{Topic: "Ord.*|Oth.*", BatchSize: 100})
	require(t, len(recs) == 7, "regex query got %d", len(recs))
}

func TestSOWKeyMissingField(t *testing.T) {
	s := startServer(t, ordersConfig(""))
	c := dial(t, s.TCPAddr())
	c.logon("k")
	c.send(wire.Header{Command: "p", Topic: "Orders"}, `{"qty":1}`)
	c.send(wire.Header{Command: "p", Topic: "Orders"}, `{"qty":2}`)
	recs, _ := c.query(wire.Header{Topic: "Orders"})
	// Keyed on NULL: the second replaces the first.
	require(t, recData(recs) == "{\"qty\":2}\n", "got %s", recData(recs))
}

func TestSOWDelete(t *testing.T) {
	s := startServer(t, ordersConfig(""))
	c := dial(t, s.TCPAddr())
	c.logon("d")
	publishOrders(t, c, 6)
	c.send(wire.Header{Command: "sow_delete", CommandID: "d1", Topic: "Orders", Filter: "/qty <= 20", AckType: "stats"}, "")
	st := c.expectAck("stats", "success")
	require(t, st.RecordsDeleted == 2 && st.CommandID == "d1", "stats %+v", st)
	c.send(wire.Header{Command: "sow_delete", CommandID: "d2", Topic: "Orders", AckType: "processed,stats"}, `{"order_key":3,"qty":0}`)
	c.expectAck("processed", "success")
	require(t, c.expectAck("stats", "success").RecordsDeleted == 1, "")
	recs, _ := c.query(wire.Header{Topic: "Orders"})
	require(t, len(recs) == 3, "left %d", len(recs))
	c.send(wire.Header{Command: "sow_delete", CommandID: "d3", Topic: "Orders", SowKeys: recs[0].h.SowKey + "," + recs[1].h.SowKey, AckType: "stats"}, "")
	require(t, c.expectAck("stats", "success").RecordsDeleted == 2, "")
	c.send(wire.Header{Command: "sow_delete", CommandID: "d4", Topic: "Orders", Filter: "1=1", AckType: "stats"}, "")
	require(t, c.expectAck("stats", "success").RecordsDeleted == 1, "")
}

func TestUnsubscribeAndFlush(t *testing.T) {
	s := startServer(t, ordersConfig(""))
	c := dial(t, s.TCPAddr())
	c.logon("u")
	for _, id := range []string{"a", "b", "c"} {
		c.send(wire.Header{Command: "subscribe", CommandID: id, Topic: "T", AckType: "processed"}, "")
		c.expectAck("processed", "success")
	}
	c.send(wire.Header{Command: "unsubscribe", CommandID: "u1", SubID: "a", AckType: "processed"}, "")
	c.expectAck("processed", "success")
	c.send(wire.Header{Command: "p", Topic: "T"}, `1`)
	seen := map[string]bool{}
	for i := 0; i < 2; i++ {
		seen[c.recv().h.SubID] = true
	}
	require(t, seen["b"] && seen["c"], "seen %v", seen)
	c.send(wire.Header{Command: "unsubscribe", CommandID: "u2", SubID: "all", AckType: "processed"}, "")
	c.expectAck("processed", "success")
	c.send(wire.Header{Command: "p", Topic: "T"}, `2`)
	c.send(wire.Header{Command: "flush", CommandID: "f", AckType: "processed"}, "")
	m := c.recv()
	require(t, m.h.Command == "ack" && m.h.CommandID == "f", "delivery after unsubscribe all: %+v", m.h)
}

func TestAcksOnlyWhenRequested(t *testing.T) {
	s := startServer(t, ordersConfig(""))
	c := dial(t, s.TCPAddr())
	c.logon("a")
	c.send(wire.Header{Command: "p", Topic: "T"}, `{}`)
	c.send(wire.Header{Command: "subscribe", CommandID: "s", Topic: "T"}, "")
	c.send(wire.Header{Command: "p", CommandID: "p2", Topic: "Z", AckType: "received,processed,persisted", Seq: 5, HasSeq: true}, `{}`)
	c.expectAck("received", "success")
	c.expectAck("processed", "success")
	h := c.expectAck("persisted", "success")
	require(t, h.HasSeq && h.Seq == 5 && h.CommandID == "", "persisted ack %+v", h)
}
