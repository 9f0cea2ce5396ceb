package ampserver

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"ampsflume/amps/wire"
)

// openSub places a subscription and, for the sow_and_* commands, reads its
// query part; it returns the records of the query.
func openSub(t *testing.T, c *rawClient, h wire.Header) []rec {
	t.Helper()
	h.CommandID = c.nextCID()
	if h.SubID == "" {
		h.SubID = "sub" + h.CommandID
	}
	h.AckType = "processed"
	c.send(h, "")
	c.expectAck("processed", "success")
	if !strings.HasPrefix(h.Command, "sow_and") {
		return nil
	}
	m := c.recv()
	require(t, m.h.Command == "group_begin", "want group_begin, got %+v", m.h)
	var recs []rec
	for {
		m = c.recv()
		if m.h.Command == "group_end" {
			return recs
		}
		require(t, m.h.Command == "sow", "want sow, got %+v", m.h)
		recs = append(recs, m.records...)
	}
}

// publishSync publishes and waits for the processed ack, so everything the
// publish causes has been queued to subscribers.
func publishSync(t *testing.T, c *rawClient, cmd, topic, data string) {
	t.Helper()
	c.send(wire.Header{Command: cmd, CommandID: c.nextCID(), Topic: topic, AckType: "processed"}, data)
	c.expectAck("processed", "success")
}

// sync makes a round trip on c: every message queued to c before it has
// been received once it returns (messages received meanwhile are returned).
func syncClient(t *testing.T, c *rawClient) []msg {
	t.Helper()
	cid := c.nextCID()
	c.send(wire.Header{Command: "flush", CommandID: cid, AckType: "processed"}, "")
	var got []msg
	for {
		m := c.recv()
		if m.h.Command == "ack" && m.h.CommandID == cid {
			return got
		}
		got = append(got, m)
	}
}

func bodies(ms []msg) string {
	var b []string
	for _, m := range ms {
		s := m.h.Command + " " + string(m.payload)
		if m.h.Reason != "" {
			s = m.h.Command + "(" + m.h.Reason + ") " + string(m.payload)
		}
		b = append(b, s)
	}
	return strings.Join(b, "\n")
}

func TestSubscriptionRefusals(t *testing.T) {
	s := startServer(t, ordersConfig(""))
	c := dial(t, s.TCPAddr())
	c.logon("refusals")
	agg := "projection=[/symbol,sum(/qty) as /q],grouping=[/symbol]"
	tests := []struct {
		name   string
		h      wire.Header
		reason string
	}{
		{"unknown option", wire.Header{Command: "subscribe", Topic: "Orders", Options: "bogus"}, "invalid options"},
		{"malformed option", wire.Header{Command: "sow_and_subscribe", Topic: "Orders", Options: "top_n=x"}, "invalid options"},
		{"aggregation on a plain subscribe", wire.Header{Command: "subscribe", Topic: "Orders", Options: agg}, "invalid options"},
		{"aggregation on a regex topic", wire.Header{Command: "sow_and_subscribe", Topic: "Ord.*", Options: agg}, "regex topic not supported"},
		{"aggregation with a bookmark", wire.Header{Command: "sow_and_subscribe", Topic: "Orders", Options: agg, Bookmark: "0"}, "invalid options"},
		{"aggregation on a topic without SOW", wire.Header{Command: "sow_and_subscribe", Topic: "nosow", Options: agg}, "invalid topic"},
		{"projection needs grouping", wire.Header{Command: "sow_and_subscribe", Topic: "Orders", Options: "projection=[/a]"}, "invalid options"},
		{"bad projection expression", wire.Header{Command: "sow_and_subscribe", Topic: "Orders", Options: "projection=[avg(/x +) as /y],grouping=[/a]"}, "invalid options"},
		{"projection too large", wire.Header{Command: "sow_and_subscribe", Topic: "Orders", Options: "projection=[/a" + strings.Repeat(",/a", 40000) + "],grouping=[/a]"}, "projection clause too large"},
		{"conflation without a key on a topic without SOW", wire.Header{Command: "subscribe", Topic: "nosow", Options: "conflation=1s"}, "invalid options"},
		{"replace on an aggregated subscription", wire.Header{Command: "sow_and_subscribe", Topic: "Orders", Options: agg + ",replace"}, "invalid options"},
		{"conflation_key other than the SOW key with oof", wire.Header{Command: "subscribe", Topic: "Orders", Options: "oof,conflation=1s,conflation_key=[/symbol]"}, "invalid options"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := tc.h
			h.CommandID = c.nextCID()
			h.SubID = "s" + h.CommandID
			h.AckType = "processed"
			c.send(h, "")
			got := c.expectAck("processed", "failure")
			require(t, got.Reason == tc.reason, "reason %q, want %q", got.Reason, tc.reason)
		})
	}
	// The refused subscriptions left nothing behind.
	require(t, len(s.subs.Load().subs) == 0, "%d subscriptions registered", len(s.subs.Load().subs))
}

func TestOutOfFocus(t *testing.T) {
	s := startServer(t, ordersConfig(""))
	sub := dial(t, s.TCPAddr())
	sub.logon("oof-sub")
	pub := dial(t, s.TCPAddr())
	pub.logon("oof-pub")
	publishSync(t, pub, "publish", "Orders", `{"order_key":1,"qty":20}`)
	recs := openSub(t, sub, wire.Header{Command: "sow_and_subscribe", Topic: "Orders", Filter: "/qty > 10", Options: "oof"})
	require(t, len(recs) == 1, "query %v", recs)
	publishSync(t, pub, "publish", "Orders", `{"order_key":2,"qty":30}`)
	publishSync(t, pub, "publish", "Orders", `{"order_key":1,"qty":5}`) // leaves the filter
	publishSync(t, pub, "publish", "Orders", `{"order_key":1,"qty":6}`) // still out: nothing
	publishSync(t, pub, "publish", "Orders", `{"order_key":3,"qty":1}`) // never in: nothing
	pub.send(wire.Header{Command: "sow_delete", CommandID: pub.nextCID(), Topic: "Orders", Filter: "/order_key = 2", AckType: "processed"}, "")
	pub.expectAck("processed", "success")
	got := syncClient(t, sub)
	want := strings.Join([]string{
		`p {"order_key":2,"qty":30}`,
		`oof(match) {"order_key":1,"qty":5}`,
		`oof(deleted) {"order_key":2,"qty":30}`,
	}, "\n")
	require(t, bodies(got) == want, "got\n%s\nwant\n%s", bodies(got), want)
	for _, m := range got[1:] {
		require(t, m.h.Topic == "Orders" && m.h.SowKey != "" && m.h.SubIDs != "", "oof header %+v", m.h)
	}
	require(t, got[1].h.SowKey == recs[0].h.SowKey, "oof key %q, record key %q", got[1].h.SowKey, recs[0].h.SowKey)
}

func TestDeltaPublishAndSubscribe(t *testing.T) {
	s := startServer(t, ordersConfig(""))
	full := dial(t, s.TCPAddr())
	full.logon("full")
	dsub := dial(t, s.TCPAddr())
	dsub.logon("delta")
	quiet := dial(t, s.TCPAddr())
	quiet.logon("quiet")
	pub := dial(t, s.TCPAddr())
	pub.logon("pub")
	publishSync(t, pub, "publish", "Orders", `{"order_key":1,"symbol":"IBM","price":1.5,"qty":10}`)
	openSub(t, full, wire.Header{Command: "subscribe", Topic: "Orders"})
	recs := openSub(t, dsub, wire.Header{Command: "sow_and_delta_subscribe", Topic: "Orders"})
	require(t, len(recs) == 1 && recs[0].data == `{"order_key":1,"symbol":"IBM","price":1.5,"qty":10}`, "query part is full: %v", recs)
	openSub(t, quiet, wire.Header{Command: "delta_subscribe", Topic: "Orders", Options: "no_empties"})

	publishSync(t, pub, "delta_publish", "Orders", `{"order_key":1,"price":2.5}`)
	publishSync(t, pub, "publish", "Orders", `{"order_key":1,"symbol":"IBM","price":2.5,"qty":10}`) // no change
	publishSync(t, pub, "delta_publish", "Orders", `{"order_key":2,"symbol":"MSFT"}`)               // new record: full

	require(t, bodies(syncClient(t, full)) == strings.Join([]string{
		`p {"order_key":1,"symbol":"IBM","price":2.5,"qty":10}`,
		`p {"order_key":1,"symbol":"IBM","price":2.5,"qty":10}`,
		`p {"order_key":2,"symbol":"MSFT"}`,
	}, "\n"), "full subscriber")
	got := bodies(syncClient(t, dsub))
	require(t, got == strings.Join([]string{
		`p {"order_key":1,"price":2.5}`,
		`p {"order_key":1}`,
		`p {"order_key":2,"symbol":"MSFT"}`,
	}, "\n"), "delta subscriber:\n%s", got)
	got = bodies(syncClient(t, quiet))
	require(t, got == strings.Join([]string{
		`p {"order_key":1,"price":2.5}`,
		`p {"order_key":2,"symbol":"MSFT"}`,
	}, "\n"), "no_empties subscriber:\n%s", got)
	// The SOW holds the merged record.
	c := dial(t, s.TCPAddr())
	c.logon("q")
	recs, _ = c.query(wire.Header{Topic: "Orders", Filter: "/order_key = 1"})
	require(t, len(recs) == 1 && recs[0].data == `{"order_key":1,"symbol":"IBM","price":2.5,"qty":10}`, "SOW %v", recs)
	// A delta that is not JSON is refused and changes nothing.
	pub.send(wire.Header{Command: "delta_publish", CommandID: pub.nextCID(), Topic: "Orders", AckType: "processed"}, `{"order_key":1,"price":`)
	require(t, pub.expectAck("processed", "failure").Reason == "invalid message type", "")
}

func TestConflatedSubscription(t *testing.T) {
	clk := &fakeClock{now: time.Unix(1_700_000_000, 0)}
	s := startServer(t, ordersConfig(""), WithClock(clk))
	sub := dial(t, s.TCPAddr())
	sub.logon("conflated")
	pub := dial(t, s.TCPAddr())
	pub.logon("pub")
	openSub(t, sub, wire.Header{Command: "subscribe", Topic: "Orders", Options: "conflation=500ms,no_sowkey"})
	publishSync(t, pub, "publish", "Orders", `{"order_key":1,"v":1}`)
	first := timestamp(clk.Now())
	clk.Advance(100 * time.Millisecond)
	publishSync(t, pub, "publish", "Orders", `{"order_key":2,"v":1}`)
	publishSync(t, pub, "publish", "Orders", `{"order_key":1,"v":2}`)
	require(t, len(syncClient(t, sub)) == 0, "nothing before the interval ends")
	clk.Advance(400 * time.Millisecond)
	got := syncClient(t, sub)
	require(t, bodies(got) == `p {"order_key":1,"v":2}`, "at 500ms: %s", bodies(got))
	require(t, got[0].h.Timestamp == first, "timestamp %q, want the first conflated message's %q", got[0].h.Timestamp, first)
	require(t, got[0].h.SowKey == "", "no_sowkey: %+v", got[0].h)
	clk.Advance(100 * time.Millisecond)
	got = syncClient(t, sub)
	require(t, bodies(got) == `p {"order_key":2,"v":1}`, "at 600ms: %s", bodies(got))
}

func TestAggregatedSubscription(t *testing.T) {
	s := startServer(t, ordersConfig(""))
	pub := dial(t, s.TCPAddr())
	pub.logon("pub")
	for _, m := range []string{
		`{"order_key":1,"symbol":"IBM","qty":10}`,
		`{"order_key":2,"symbol":"MSFT","qty":5}`,
		`{"order_key":3,"symbol":"IBM","qty":1}`,
		`{"order_key":4,"symbol":"FIZZ","qty":7}`,
	} {
		publishSync(t, pub, "publish", "Orders", m)
	}
	sub := dial(t, s.TCPAddr())
	sub.logon("agg")
	recs := openSub(t, sub, wire.Header{Command: "sow_and_subscribe", Topic: "Orders", Filter: "/symbol != 'FIZZ'",
		Options: "oof,projection=[/symbol,SUM(/qty) AS /total,COUNT(/qty) AS /n,MAX(/qty) AS /max],grouping=[/symbol]"})
	require(t, recData(recs) == `{"symbol":"IBM","total":11,"n":2,"max":10}`+"\n"+`{"symbol":"MSFT","total":5,"n":1,"max":5}`+"\n", "query part:\n%s", recData(recs))
	msftKey := recs[1].h.SowKey
	publishSync(t, pub, "publish", "Orders", `{"order_key":2,"symbol":"IBM","qty":5}`) // MSFT's only record moves to IBM
	publishSync(t, pub, "publish", "Orders", `{"order_key":1,"symbol":"FIZZ","qty":10}`)
	pub.send(wire.Header{Command: "sow_delete", CommandID: pub.nextCID(), Topic: "Orders", Filter: "/order_key = 3", AckType: "processed"}, "")
	pub.expectAck("processed", "success")
	got := syncClient(t, sub)
	want := strings.Join([]string{
		`oof(deleted) {"symbol":"MSFT","total":5,"n":1,"max":5}`,
		`p {"symbol":"IBM","total":16,"n":3,"max":10}`,
		`p {"symbol":"IBM","total":6,"n":2,"max":5}`,
		`p {"symbol":"IBM","total":5,"n":1,"max":5}`,
	}, "\n")
	require(t, bodies(got) == want, "got\n%s\nwant\n%s", bodies(got), want)
	require(t, got[0].h.SowKey == msftKey, "oof names the group's record key")
	require(t, got[1].h.SowKey == recs[0].h.SowKey, "updates keep the group's record key")
}

func TestAggregatedDeltaSubscription(t *testing.T) {
	s := startServer(t, ordersConfig(""))
	sub := dial(t, s.TCPAddr())
	sub.logon("agg-delta")
	pub := dial(t, s.TCPAddr())
	pub.logon("pub")
	openSub(t, sub, wire.Header{Command: "sow_and_delta_subscribe", Topic: "Orders",
		Options: "projection=[/symbol,SUM(/qty) AS /total,MAX(/qty) AS /max],grouping=[/symbol]"})
	publishSync(t, pub, "publish", "Orders", `{"order_key":1,"symbol":"IBM","qty":10}`)
	publishSync(t, pub, "publish", "Orders", `{"order_key":2,"symbol":"IBM","qty":1}`)
	got := bodies(syncClient(t, sub))
	want := "p {\"symbol\":\"IBM\",\"total\":10,\"max\":10}\np {\"symbol\":\"IBM\",\"total\":11}"
	require(t, got == want, "got\n%s\nwant\n%s", got, want)
}

func TestAggregatedQueryAndPaging(t *testing.T) {
	s := startServer(t, ordersConfig(""))
	c := dial(t, s.TCPAddr())
	c.logon("q")
	for i, sym := range []string{"IBM", "MSFT", "IBM", "YUM", "FIZZ"} {
		publishSync(t, c, "publish", "Orders", `{"order_key":`+string(rune('1'+i))+`,"symbol":"`+sym+`","price":`+string(rune('1'+i))+`.5}`)
	}
	recs, stats := c.query(wire.Header{Topic: "Orders", Filter: "/symbol != 'FIZZ'", Options: "projection=[/symbol,avg(/price) as /avg,count(/price) as /n],grouping=[/symbol]"})
	got := recData(recs)
	want := "{\"symbol\":\"IBM\",\"avg\":2.5,\"n\":2}\n{\"symbol\":\"MSFT\",\"avg\":2.5,\"n\":1}\n{\"symbol\":\"YUM\",\"avg\":4.5,\"n\":1}\n"
	require(t, got == want, "got\n%s\nwant\n%s", got, want)
	require(t, stats.RecordsReturned == 3 && stats.TopicMatches == 5, "stats %+v", stats)

	recs, _ = c.query(wire.Header{Topic: "Orders", Options: "top_n=2,skip_n=1,orderby=/order_key DESC"})
	require(t, recData(recs) == "{\"order_key\":4,\"symbol\":\"YUM\",\"price\":4.5}\n{\"order_key\":3,\"symbol\":\"IBM\",\"price\":3.5}\n", "page:\n%s", recData(recs))
	recs, _ = c.query(wire.Header{Topic: "Orders", Options: "top_n=2,skip_n=4,orderby=/order_key"})
	require(t, recData(recs) == "{\"order_key\":5,\"symbol\":\"FIZZ\",\"price\":5.5}\n", "last page:\n%s", recData(recs))

	for _, tc := range []struct{ topic, opts, reason string }{
		{"Ord.*", "projection=[/a],grouping=[/a]", "regex topic not supported"},
		{"Orders", "projection=[sum(/a)],grouping=[/a]", "invalid options"},
		{"Orders", "skip_n=1", "invalid options"},
	} {
		cid := c.nextCID()
		c.send(wire.Header{Command: "sow", CommandID: cid, Topic: tc.topic, Options: tc.opts, AckType: "processed"}, "")
		require(t, c.expectAck("processed", "failure").Reason == tc.reason, "%s %s", tc.topic, tc.opts)
	}
}

// TestConflationWithOOF checks that a record leaving the filter while an
// update to it is held drops the update, and that the oof carries the last
// state the subscriber received.
func TestConflationWithOOF(t *testing.T) {
	clk := &fakeClock{now: time.Unix(1_700_000_000, 0)}
	s := startServer(t, ordersConfig(""), WithClock(clk))
	pub := dial(t, s.TCPAddr())
	pub.logon("pub")
	publishSync(t, pub, "publish", "Orders", `{"order_key":1,"qty":20}`)
	sub := dial(t, s.TCPAddr())
	sub.logon("sub")
	recs := openSub(t, sub, wire.Header{Command: "sow_and_subscribe", Topic: "Orders", Filter: "/qty > 10", Options: "oof,conflation=1s"})
	require(t, len(recs) == 1, "query part is not conflated: %v", recs)
	publishSync(t, pub, "publish", "Orders", `{"order_key":1,"qty":21}`) // held
	publishSync(t, pub, "publish", "Orders", `{"order_key":2,"qty":50}`) // held, never delivered
	publishSync(t, pub, "publish", "Orders", `{"order_key":1,"qty":1}`)  // out: drop held, oof with the query's state
	publishSync(t, pub, "publish", "Orders", `{"order_key":2,"qty":2}`)  // out, never received: no oof
	clk.Advance(2 * time.Second)
	got := bodies(syncClient(t, sub))
	require(t, got == `oof(match) {"order_key":1,"qty":20}`, "got\n%s", got)
	require(t, clk.pending() == 0, "timers left: %d", clk.pending())
}

// TestAggregatedConflatedConcurrent publishes from several connections
// while a conflated aggregated subscription is open on the real clock, and
// checks that the last update of each group converges to the aggregate of
// the final SOW (no update lost, none out of order), without asserting on
// timing.
func TestAggregatedConflatedConcurrent(t *testing.T) {
	s := startServer(t, ordersConfig(""))
	sub := dial(t, s.TCPAddr())
	sub.logon("agg")
	openSub(t, sub, wire.Header{Command: "sow_and_subscribe", Topic: "Orders",
		Options: "projection=[/g,SUM(/v) AS /sum,COUNT(/v) AS /n],grouping=[/g],conflation=5ms"})
	const pubs, perPub, keys = 4, 100, 20
	done := make(chan struct{})
	for p := 0; p < pubs; p++ {
		go func() {
			defer func() { done <- struct{}{} }()
			c := dial(t, s.TCPAddr())
			c.logon("pub" + string(rune('a'+p)))
			for i := 0; i < perPub; i++ {
				k := (p*perPub + i) % keys
				c.send(wire.Header{Command: "publish", Topic: "Orders"},
					`{"order_key":`+itoa(k)+`,"g":`+itoa(k%3)+`,"v":`+itoa(i)+`}`)
			}
			cid := c.nextCID()
			c.send(wire.Header{Command: "flush", CommandID: cid, AckType: "processed"}, "")
			c.expectAck("processed", "success")
		}()
	}
	for p := 0; p < pubs; p++ {
		<-done
	}
	// The expected final aggregate per group, from an aggregated query.
	q := dial(t, s.TCPAddr())
	q.logon("q")
	recs, _ := q.query(wire.Header{Topic: "Orders", Options: "projection=[/g,SUM(/v) AS /sum,COUNT(/v) AS /n],grouping=[/g]"})
	want := map[string]string{}
	for _, r := range recs {
		want[r.h.SowKey] = r.data
	}
	require(t, len(want) == 3, "groups %v", recs)
	last := map[string]string{}
	deadline := time.Now().Add(10 * time.Second)
	for {
		same := len(last) == len(want)
		for k, v := range want {
			same = same && last[k] == v
		}
		if same {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("last updates %v, want %v", last, want)
		}
		select {
		case m := <-sub.in:
			if m.h.Command == "p" {
				last[m.h.SowKey] = string(m.payload)
			}
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

// TestConflatedRegexSubscription covers a conflated subscription over a
// SOW topic and a topic without SOW: records of the SOW topic are
// conflated per record, messages without a key pass straight through.
func TestConflatedRegexSubscription(t *testing.T) {
	clk := &fakeClock{now: time.Unix(1_700_000_000, 0)}
	s := startServer(t, ordersConfig(""), WithClock(clk))
	sub := dial(t, s.TCPAddr())
	sub.logon("regex")
	pub := dial(t, s.TCPAddr())
	pub.logon("pub")
	openSub(t, sub, wire.Header{Command: "subscribe", Topic: "^(Orders|Other|news)$", Options: "conflation=1s"})
	publishSync(t, pub, "publish", "Orders", `{"order_key":1,"v":1}`)
	publishSync(t, pub, "publish", "Other", `{"id":1,"v":1}`) // same key value, other topic
	publishSync(t, pub, "publish", "news", `{"n":1}`)
	publishSync(t, pub, "publish", "news", `{"n":2}`)
	publishSync(t, pub, "publish", "Orders", `{"order_key":1,"v":2}`)
	got := bodies(syncClient(t, sub))
	require(t, got == "p {\"n\":1}\np {\"n\":2}", "before the interval:\n%s", got)
	clk.Advance(time.Second)
	got = bodies(syncClient(t, sub))
	require(t, got == "p {\"order_key\":1,\"v\":2}\np {\"id\":1,\"v\":1}", "after it:\n%s", got)
}

// TestDeltaSubscriptionFocus: a record coming back into a delta
// subscriber's filter is sent in full, since the subscriber dropped it.
func TestDeltaSubscriptionFocus(t *testing.T) {
	s := startServer(t, ordersConfig(""))
	sub := dial(t, s.TCPAddr())
	sub.logon("delta-oof")
	pub := dial(t, s.TCPAddr())
	pub.logon("pub")
	openSub(t, sub, wire.Header{Command: "sow_and_delta_subscribe", Topic: "Orders", Filter: "/qty > 10", Options: "oof"})
	publishSync(t, pub, "publish", "Orders", `{"order_key":1,"sym":"A","qty":20}`)
	publishSync(t, pub, "publish", "Orders", `{"order_key":1,"sym":"A","qty":30}`)
	publishSync(t, pub, "publish", "Orders", `{"order_key":1,"sym":"A","qty":3}`)
	publishSync(t, pub, "publish", "Orders", `{"order_key":1,"sym":"A","qty":40}`)
	got := bodies(syncClient(t, sub))
	want := strings.Join([]string{
		`p {"order_key":1,"sym":"A","qty":20}`,
		`p {"order_key":1,"qty":30}`,
		`oof(match) {"order_key":1,"sym":"A","qty":3}`,
		`p {"order_key":1,"sym":"A","qty":40}`,
	}, "\n")
	require(t, got == want, "got\n%s\nwant\n%s", got, want)
}
