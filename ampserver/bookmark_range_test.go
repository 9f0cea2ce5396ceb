package ampserver

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"ampsflume/amps/wire"
	"ampsflume/ampserver/txlog"
)

var rangeBase = time.Unix(1_700_000_000, 0).UTC()

// stampOf formats a fake-clock time as a bookmark timestamp.
func stampOf(at time.Time) string { return at.UTC().Format("20060102T150405Z") }

// rangeServer publishes Orders n=0..9, message i at rangeBase+i+1 s, and
// returns their bookmarks.
func rangeServer(t *testing.T) (*Server, *fakeClock, *rawClient, []string) {
	t.Helper()
	clk := &fakeClock{now: rangeBase}
	s := startServer(t, journalConfig(t.TempDir()), WithClock(clk))
	pub := dial(t, s.TCPAddr())
	pub.logon("publisher")
	for i := 0; i < 10; i++ {
		clk.Advance(time.Second)
		rawPublish(t, pub, i)
	}
	r := dial(t, s.TCPAddr())
	r.logon("reader")
	got, bms := rangeSub(t, r, "all", "0", false)
	require(t, fmt.Sprint(got) == fmt.Sprint(seqInts(0, 10)), "EPOCH replay: %v", got)
	r.send(wire.Header{Command: "unsubscribe", SubID: "all", CommandID: r.nextCID(), AckType: "processed"}, "")
	r.expectAck("processed", "success")
	return s, clk, pub, bms
}

// rawPublish publishes Orders record n and waits until it is processed.
func rawPublish(t *testing.T, c *rawClient, n int) {
	t.Helper()
	c.send(wire.Header{Command: "publish", Topic: "Orders", CommandID: c.nextCID(), AckType: "processed"},
		fmt.Sprintf(`{"order_key":%d,"n":%d}`, n, n))
	c.expectAck("processed", "success")
}

func seqInts(from, to int) []int {
	var out []int
	for i := from; i < to; i++ {
		out = append(out, i)
	}
	return out
}

// rangeSub places a bookmark subscription and reads its messages up to the
// completed ack (stopAtLive: or up to n messages, for a range still open).
func rangeSub(t *testing.T, r *rawClient, id, bm string, open bool) ([]int, []string) {
	t.Helper()
	r.send(wire.Header{Command: "subscribe", Topic: "Orders", SubID: id, CommandID: r.nextCID(), Bookmark: bm, AckType: "processed,completed"}, "")
	r.expectAck("processed", "success")
	if open {
		return nil, nil
	}
	return readUntilCompleted(t, r)
}

func readUntilCompleted(t *testing.T, r *rawClient) (ns []int, bms []string) {
	t.Helper()
	for {
		m := r.recv()
		if m.h.Command == "ack" {
			require(t, m.h.AckType == "completed" && m.h.Status == "success", "unexpected ack %+v", m.h)
			return ns, bms
		}
		var v struct{ N int }
		noErr(t, json.Unmarshal(m.payload, &v))
		ns, bms = append(ns, v.N), append(bms, m.h.Bookmark)
	}
}

// expectNothingMore publishes one more Orders message from r itself and
// flushes: the flush ack must come first, so the ended range did not
// deliver it.
func expectNothingMore(t *testing.T, r *rawClient, n int) {
	t.Helper()
	r.send(wire.Header{Command: "publish", Topic: "Orders"}, fmt.Sprintf(`{"order_key":%d,"n":%d}`, n, n))
	r.send(wire.Header{Command: "flush", CommandID: r.nextCID(), AckType: "processed"}, "")
	m := r.recv()
	require(t, m.h.Command == "ack" && m.h.AckType == "processed", "after the range ended: %+v %s", m.h, m.payload)
}

func TestBookmarkRangeReplay(t *testing.T) {
	s, _, _, bm := rangeServer(t)
	ts := func(i int) string { return stampOf(rangeBase.Add(time.Duration(i+1) * time.Second)) }
	r := dial(t, s.TCPAddr())
	r.logon("ranges")
	tests := []struct {
		name, bm string
		want     []int
	}{
		{"epoch to now", "[0:0|1|]", seqInts(0, 10)},
		{"inclusive both", "[" + bm[2] + ":" + bm[5] + "]", seqInts(2, 6)},
		{"exclusive start", "(" + bm[2] + ":" + bm[5] + "]", seqInts(3, 6)},
		{"exclusive end", "[" + bm[2] + ":" + bm[5] + ")", seqInts(2, 5)},
		{"exclusive both", "(" + bm[2] + ":" + bm[5] + ")", seqInts(3, 5)},
		{"epoch start", "[0:" + bm[3] + "]", seqInts(0, 4)},
		{"single message", "[" + bm[4] + ":" + bm[4] + "]", []int{4}},
		{"empty", "(" + bm[4] + ":" + bm[4] + "]", nil},
		{"list start", "[" + ts(5) + "," + bm[3] + ":" + bm[7] + "]", seqInts(3, 8)},
		{"timestamps inclusive", "[" + ts(3) + ":" + ts(6) + "]", seqInts(3, 7)},
		{"timestamps exclusive", "(" + ts(3) + ":" + ts(6) + ")", seqInts(4, 6)},
		{"timestamp start, bookmark end", "[" + ts(7) + ":" + bm[8] + ")", []int{7}},
		{"bookmark start, timestamp end", "(" + bm[1] + ":" + ts(3) + "]", []int{2, 3}},
		{"spaces", " [ " + bm[8] + " : " + bm[9] + " ] ", []int{8, 9}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _ := rangeSub(t, r, "r", tt.bm, false)
			require(t, fmt.Sprint(got) == fmt.Sprint(tt.want), "%s: got %v, want %v", tt.bm, got, tt.want)
			expectNothingMore(t, r, 100+i)
			// The id is free again: the range was removed at its end.
			waitFor(t, "the range to be removed", func() bool {
				for _, sub := range s.subs.Load().subs {
					if sub.client.name == "ranges" {
						return false
					}
				}
				return true
			})
		})
	}
}

func TestBookmarkRangeFutureEnd(t *testing.T) {
	s, clk, pub, bm := rangeServer(t)
	r := dial(t, s.TCPAddr())
	r.logon("ranges")

	t.Run("bookmark", func(t *testing.T) {
		next := s.jr.log.NextSeq()
		end := txlog.FormatBookmark(txlog.PublisherID("publisher"), next+2)
		rangeSub(t, r, "f1", "("+bm[9]+":"+end+"]", true)
		for i := 20; i < 24; i++ {
			rawPublish(t, pub, i)
		}
		got, bms := readUntilCompleted(t, r)
		require(t, fmt.Sprint(got) == "[20 21 22]", "got %v", got)
		require(t, bms[2] == end, "last bookmark %s, want %s", bms[2], end)
		expectNothingMore(t, r, 24)
	})

	t.Run("timestamp", func(t *testing.T) {
		end := clk.Now().Add(10 * time.Second)
		rangeSub(t, r, "f2", "[0|1|:"+stampOf(end)+")", true)
		clk.Advance(time.Second)
		rawPublish(t, pub, 30)
		clk.Advance(time.Second)
		rawPublish(t, pub, 31)
		clk.Advance(10 * time.Second) // past the end: the timer ends it
		got, _ := readUntilCompleted(t, r)
		require(t, fmt.Sprint(got) == "[30 31]", "got %v", got)
		expectNothingMore(t, r, 32)
	})

	t.Run("inclusive timestamp", func(t *testing.T) {
		end := clk.Now().Add(5 * time.Second)
		rangeSub(t, r, "f3", "[0|1|:"+stampOf(end)+"]", true)
		clk.Advance(5 * time.Second) // exactly the end: inclusive
		rawPublish(t, pub, 40)
		clk.Advance(time.Second)
		got, _ := readUntilCompleted(t, r)
		require(t, fmt.Sprint(got) == "[40]", "got %v", got)
		expectNothingMore(t, r, 41)
	})
}

func TestBookmarkRangeRefusals(t *testing.T) {
	s, _, _, bm := rangeServer(t)
	r := dial(t, s.TCPAddr())
	r.logon("ranges")
	tests := []struct{ name, topic, bm, reason string }{
		{"not journaled", "Other", "[0:0|1|]", "txn replay failed"},
		{"unclosed", "Orders", "[0:" + bm[2], "invalid bookmark"},
		{"no colon", "Orders", "[" + bm[2] + "]", "invalid bookmark"},
		{"two colons", "Orders", "[0:" + bm[2] + ":" + bm[3] + "]", "invalid bookmark"},
		{"empty end", "Orders", "[0:]", "invalid bookmark"},
		{"list end", "Orders", "[0:" + bm[2] + "," + bm[3] + "]", "invalid bookmark"},
		{"epoch end", "Orders", "[0:0]", "invalid bookmark"},
		{"garbage start", "Orders", "[x:" + bm[2] + "]", "invalid bookmark"},
		{"end names no message", "Orders", "[0:" + txlog.FormatBookmark(12345, 2) + "]", "invalid bookmark"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r.send(wire.Header{Command: "subscribe", Topic: tt.topic, SubID: "x", CommandID: r.nextCID(), Bookmark: tt.bm, AckType: "processed"}, "")
			h := r.expectAck("processed", "failure")
			require(t, h.Reason == tt.reason, "reason %q, want %q", h.Reason, tt.reason)
		})
	}
}

func FuzzParseRange(f *testing.F) {
	for _, s := range []string{"[0:0|1|]", "(1|2|:3|4|)", "[1|2|,3|4|:20240101T000000Z]", "[:]", "(", "[a:b:c]", "[20240101T000000.123456Z:0|1|)"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := parseRange(s)
		if err != nil {
			return
		}
		if r.start == "" || r.end == "" || r.end == txlog.Epoch {
			t.Fatalf("%q parsed to %+v", s, r)
		}
		if err := checkPoint(r.end); err != nil {
			t.Fatalf("%q: end %q accepted: %v", s, r.end, err)
		}
		open, close := "(", ")"
		if r.startIncl {
			open = "["
		}
		if r.endIncl {
			close = "]"
		}
		again, err := parseRange(open + r.start + ":" + r.end + close)
		if err != nil || again != r {
			t.Fatalf("%q: reformatted range does not parse back: %+v %v", s, again, err)
		}
	})
}
