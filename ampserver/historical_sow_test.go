package ampserver

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"ampsflume/amps/wire"
)

func TestHistoricalSOWQuery(t *testing.T) {
	clk := &fakeClock{now: rangeBase}
	s := startServer(t, journalConfig(t.TempDir()), WithClock(clk))
	c := dial(t, s.TCPAddr())
	c.logon("history")
	pub := func(k int, v string) string {
		clk.Advance(time.Second)
		c.send(wire.Header{Command: "publish", Topic: "Orders", CommandID: c.nextCID(), AckType: "processed"},
			fmt.Sprintf(`{"order_key":%d,"v":%q}`, k, v))
		c.expectAck("processed", "success")
		return stampOf(clk.Now())
	}
	// Bookmarks of the publishes, read back from an EPOCH replay.
	pub(1, "a")
	pub(2, "a")
	pub(1, "b")
	clk.Advance(time.Second)
	c.send(wire.Header{Command: "sow_delete", Topic: "Orders", Filter: "/order_key = 2", CommandID: c.nextCID(), AckType: "processed"}, "")
	c.expectAck("processed", "success")
	beforeLast := pub(3, "a")
	r := dial(t, s.TCPAddr())
	r.logon("reader")
	_, bm := rangeSub(t, r, "all", "[0:0|1|]", false)
	require(t, len(bm) == 4, "bookmarks %v", bm)

	tests := []struct {
		name string
		h    wire.Header
		want string
	}{
		{"after the first", wire.Header{Bookmark: bm[0]}, `{"order_key":1,"v":"a"}`},
		{"after the second", wire.Header{Bookmark: bm[1]}, `{"order_key":1,"v":"a"} {"order_key":2,"v":"a"}`},
		{"after the update", wire.Header{Bookmark: bm[2]}, `{"order_key":2,"v":"a"} {"order_key":1,"v":"b"}`},
		{"after the delete (timestamp)", wire.Header{Bookmark: beforeLast}, `{"order_key":1,"v":"b"}`},
		{"latest", wire.Header{Bookmark: bm[3]}, `{"order_key":1,"v":"b"} {"order_key":3,"v":"a"}`},
		{"now", wire.Header{Bookmark: "0|1|"}, `{"order_key":1,"v":"b"} {"order_key":3,"v":"a"}`},
		{"epoch", wire.Header{Bookmark: "0"}, ``},
		{"filter", wire.Header{Bookmark: bm[2], Filter: "/v = 'a'"}, `{"order_key":2,"v":"a"}`},
		{"orderby and top_n", wire.Header{Bookmark: bm[3], OrderBy: "/order_key DESC", TopN: 1}, `{"order_key":3,"v":"a"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := tt.h
			h.Topic = "Orders"
			recs, stats := r.query(h)
			got := strings.TrimSpace(strings.ReplaceAll(recData(recs), "\n", " "))
			require(t, got == tt.want, "got %s, want %s", got, tt.want)
			require(t, stats.RecordsReturned == len(recs), "stats %+v", stats)
		})
	}
	// The live SOW is untouched by the queries.
	recs, _ := r.query(wire.Header{Topic: "Orders"})
	require(t, len(recs) == 2, "live SOW has %d records", len(recs))
}

func TestHistoricalSOWRefusals(t *testing.T) {
	s := startServer(t, journalConfig(t.TempDir()))
	c := dial(t, s.TCPAddr())
	c.logon("history")
	tests := []struct{ name, topic, bm, reason string }{
		{"not journaled", "Other", "0|1|", "txn replay failed"},
		{"list", "Orders", "1|2|,3|4|", "invalid bookmark"},
		{"range", "Orders", "[0:0|1|]", "invalid bookmark"},
		{"malformed", "Orders", "yesterday", "invalid bookmark"},
		{"unknown", "Orders", "12345|99|", "invalid bookmark"},
		{"regex", "Ord.*", "0", "regex topic not supported"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c.send(wire.Header{Command: "sow", Topic: tt.topic, Bookmark: tt.bm, CommandID: c.nextCID(), AckType: "processed"}, "")
			h := c.expectAck("processed", "failure")
			require(t, h.Reason == tt.reason, "reason %q, want %q", h.Reason, tt.reason)
		})
	}
}
