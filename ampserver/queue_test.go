package ampserver

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"ampsflume/amps/wire"
)

// queueConfig is a server journaling topic Work with a queue WorkQ over it.
func queueConfig(dir string, lease time.Duration) *Config {
	cfg := DefaultConfig()
	cfg.TransactionLog = &TransactionLogConfig{JournalDirectory: dir, Topics: []TopicRef{{Name: "Work", MessageType: "json"}}}
	cfg.Queues = []QueueConfig{{Name: "WorkQ", MessageType: "json", UnderlyingTopic: "Work", LeasePeriod: lease}}
	return cfg
}

// qsubscribe subscribes c to the queue and returns the processed ack.
func qsubscribe(c *rawClient, id, opts, filter string) wire.Header {
	c.t.Helper()
	c.send(wire.Header{Command: "subscribe", CommandID: c.nextCID(), SubID: id, Topic: "WorkQ", Options: opts, Filter: filter, AckType: "processed"}, "")
	return c.expectAck("processed", "success")
}

// qpublish publishes payloads to Work and waits until they are processed.
func qpublish(c *rawClient, payloads ...string) {
	c.t.Helper()
	for _, p := range payloads {
		c.send(wire.Header{Command: "publish", Topic: "Work"}, p)
	}
	c.send(wire.Header{Command: "flush", CommandID: c.nextCID(), AckType: "processed"}, "")
	c.expectAck("processed", "success")
}

// qnext reads the next queue delivery.
func qnext(c *rawClient) msg {
	c.t.Helper()
	m := c.recv()
	require(c.t, m.h.Command == "p", "want a delivery, got %+v", m.h)
	require(c.t, m.h.Bookmark != "" && m.h.LeasePeriod != "", "queue delivery without bm or lp: %+v", m.h)
	return m
}

// qnone checks that nothing was delivered to c before a flush it sends now.
func qnone(c *rawClient) {
	c.t.Helper()
	c.send(wire.Header{Command: "flush", CommandID: c.nextCID(), AckType: "processed"}, "")
	m := c.recv()
	require(c.t, m.h.Command == "ack", "want no delivery, got %+v %s", m.h, m.payload)
}

// qack acknowledges bookmarks and returns records_deleted.
func qack(c *rawClient, opts string, bms ...string) int {
	c.t.Helper()
	c.send(wire.Header{Command: "sow_delete", CommandID: c.nextCID(), Topic: "WorkQ", Bookmark: strings.Join(bms, ","), Options: opts, AckType: "stats"}, "")
	h := c.expectAck("stats", "success")
	return h.RecordsDeleted
}

// qcontents queries the queue and returns the payloads in order.
func qcontents(c *rawClient) string {
	c.t.Helper()
	recs, _ := c.query(wire.Header{Topic: "WorkQ"})
	return recData(recs)
}

func newQueueServer(t *testing.T, dir string, clk *fakeClock) *Server {
	t.Helper()
	return startServer(t, queueConfig(dir, 10*time.Second), WithClock(clk))
}

func TestQueueDelivery(t *testing.T) {
	tests := []struct {
		name string
		run  func(t *testing.T, clk *fakeClock, pub, a, b *rawClient)
	}{
		{"lease expiry redelivers to another subscriber", func(t *testing.T, clk *fakeClock, pub, a, b *rawClient) {
			qpublish(pub, `{"n":1}`)
			m := qnext(a)
			require(t, string(m.payload) == `{"n":1}` && m.h.Topic == "WorkQ" && m.h.SubID == "qa", "a got %+v %s", m.h, m.payload)
			want := timestamp(clk.Now().Add(10 * time.Second))
			require(t, m.h.LeasePeriod == want, "lp %q, want lease end %q", m.h.LeasePeriod, want)
			qnone(b) // leased to a: nobody else has it
			clk.Advance(9 * time.Second)
			qnone(b)
			clk.Advance(time.Second)
			r := qnext(b)
			require(t, r.h.Bookmark == m.h.Bookmark && string(r.payload) == `{"n":1}`, "b got %+v %s", r.h, r.payload)
			require(t, qack(a, "", m.h.Bookmark) == 0, "a's ack after its lease passed to b counted")
			require(t, qack(b, "", r.h.Bookmark) == 1, "b's ack did not remove the message")
			require(t, qcontents(pub) == "", "queue not empty after ack: %q", qcontents(pub))
		}},
		{"disconnect redelivers", func(t *testing.T, clk *fakeClock, pub, a, b *rawClient) {
			qpublish(pub, `{"n":1}`)
			m := qnext(a)
			a.conn.Close()
			r := qnext(b)
			require(t, r.h.Bookmark == m.h.Bookmark, "b got %+v", r.h)
		}},
		{"unsubscribe redelivers", func(t *testing.T, clk *fakeClock, pub, a, b *rawClient) {
			qpublish(pub, `{"n":1}`)
			m := qnext(a)
			a.send(wire.Header{Command: "unsubscribe", CommandID: a.nextCID(), SubID: "qa", AckType: "processed"}, "")
			a.expectAck("processed", "success")
			r := qnext(b)
			require(t, r.h.Bookmark == m.h.Bookmark, "b got %+v", r.h)
		}},
		{"round robin, one message at a time", func(t *testing.T, clk *fakeClock, pub, a, b *rawClient) {
			qpublish(pub, `{"n":1}`, `{"n":2}`, `{"n":3}`)
			m1, m2 := qnext(a), qnext(b)
			require(t, string(m1.payload) == `{"n":1}` && string(m2.payload) == `{"n":2}`, "got %s, %s", m1.payload, m2.payload)
			qnone(a)
			qnone(b)
			require(t, qack(b, "", m2.h.Bookmark) == 1, "ack")
			m3 := qnext(b) // a is still busy with its backlog of 1
			require(t, string(m3.payload) == `{"n":3}`, "got %s", m3.payload)
			require(t, qcontents(pub) == "{\"n\":1}\n{\"n\":3}\n", "contents %q", qcontents(pub))
		}},
		{"cancel returns a message at once", func(t *testing.T, clk *fakeClock, pub, a, b *rawClient) {
			qpublish(pub, `{"n":1}`)
			m := qnext(a)
			require(t, qack(a, "cancel", m.h.Bookmark) == 0, "cancel deleted")
			r := qnext(b)
			require(t, r.h.Bookmark == m.h.Bookmark, "b got %+v", r.h)
		}},
		{"lease extension", func(t *testing.T, clk *fakeClock, pub, a, b *rawClient) {
			qpublish(pub, `{"n":1}`)
			m := qnext(a)
			clk.Advance(5 * time.Second)
			require(t, qack(a, "lease_extension=30s", m.h.Bookmark) == 0, "extension deleted")
			clk.Advance(10 * time.Second) // past the first lease end
			qnone(b)
			clk.Advance(20 * time.Second)
			r := qnext(b)
			require(t, r.h.Bookmark == m.h.Bookmark, "b got %+v", r.h)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := &fakeClock{now: time.Unix(1_700_000_000, 0)}
			s := newQueueServer(t, t.TempDir(), clk)
			pub, a, b := dial(t, s.TCPAddr()), dial(t, s.TCPAddr()), dial(t, s.TCPAddr())
			pub.logon("pub")
			a.logon("a")
			b.logon("b")
			h := qsubscribe(a, "qa", "", "")
			require(t, h.Options == "max_backlog=1", "subscribe ack opts %q, want max_backlog=1", h.Options)
			qsubscribe(b, "qb", "", "")
			tt.run(t, clk, pub, a, b)
		})
	}
}

func TestQueueMaxBacklog(t *testing.T) {
	clk := &fakeClock{now: time.Unix(1_700_000_000, 0)}
	s := newQueueServer(t, t.TempDir(), clk)
	pub, a := dial(t, s.TCPAddr()), dial(t, s.TCPAddr())
	pub.logon("pub")
	a.logon("a")
	h := qsubscribe(a, "qa", "max_backlog=2", "")
	require(t, h.Options == "max_backlog=2", "opts %q", h.Options)
	qpublish(pub, `{"n":1}`, `{"n":2}`, `{"n":3}`, `{"n":4}`)
	m1, m2 := qnext(a), qnext(a)
	qnone(a)
	require(t, qack(a, "", m1.h.Bookmark, m2.h.Bookmark) == 2, "batch ack")
	m3, m4 := qnext(a), qnext(a)
	require(t, string(m3.payload) == `{"n":3}` && string(m4.payload) == `{"n":4}`, "got %s %s", m3.payload, m4.payload)
	// A filtered subscription takes only what matches; others wait for it.
	b := dial(t, s.TCPAddr())
	b.logon("b")
	qsubscribe(b, "qb", "max_backlog=5", "/n > 4")
	qpublish(pub, `{"n":5}`)
	require(t, string(qnext(b).payload) == `{"n":5}`, "filtered")
	qnone(a)
}

func TestQueueRestartKeepsUnacked(t *testing.T) {
	dir := t.TempDir()
	clk := &fakeClock{now: time.Unix(1_700_000_000, 0)}
	s1, err := New(queueConfig(dir, 10*time.Second), WithClock(clk), WithLogger(quietLogger()))
	noErr(t, err)
	noErr(t, s1.Start(t.Context()))
	pub, a := dial(t, s1.TCPAddr()), dial(t, s1.TCPAddr())
	pub.logon("pub")
	a.logon("a")
	qsubscribe(a, "qa", "max_backlog=2", "")
	qpublish(pub, `{"n":1}`, `{"n":2}`, `{"n":3}`)
	m1, m2 := qnext(a), qnext(a)
	require(t, qack(a, "", m1.h.Bookmark) == 1, "ack")
	noErr(t, s1.Shutdown(t.Context()))

	// m2 was leased and not acknowledged, m3 never delivered: both stay.
	s2 := newQueueServer(t, dir, clk)
	c := dial(t, s2.TCPAddr())
	c.logon("c")
	require(t, qcontents(c) == "{\"n\":2}\n{\"n\":3}\n", "after restart: %q", qcontents(c))
	qsubscribe(c, "qc", "max_backlog=3", "")
	r2, r3 := qnext(c), qnext(c)
	require(t, r2.h.Bookmark == m2.h.Bookmark && string(r3.payload) == `{"n":3}`, "got %+v %s", r2.h, r3.payload)
	require(t, qack(c, "", r2.h.Bookmark, r3.h.Bookmark) == 2, "ack")
	noErr(t, s2.Shutdown(t.Context()))

	s3 := newQueueServer(t, dir, clk)
	d := dial(t, s3.TCPAddr())
	d.logon("d")
	require(t, qcontents(d) == "", "acknowledged messages came back: %q", qcontents(d))
}

func TestQueueRefusals(t *testing.T) {
	clk := &fakeClock{now: time.Unix(1_700_000_000, 0)}
	s := newQueueServer(t, t.TempDir(), clk)
	c := dial(t, s.TCPAddr())
	c.logon("c")
	for _, tt := range []struct {
		h      wire.Header
		reason string
	}{
		{wire.Header{Command: "sow_and_subscribe", SubID: "x", Topic: "WorkQ"}, "not supported"},
		{wire.Header{Command: "subscribe", SubID: "y", Topic: "WorkQ", Options: "max_backlog=0"}, "invalid options"},
		{wire.Header{Command: "sow_delete", Topic: "Work", Bookmark: "1|1|"}, "invalid topic"},
		{wire.Header{Command: "sow_delete", Topic: "WorkQ", Bookmark: "1|1|", Options: "bogus"}, "invalid options"},
	} {
		tt.h.CommandID = c.nextCID()
		tt.h.AckType = "processed"
		c.send(tt.h, "")
		m := c.recv()
		require(t, m.h.Status == "failure" && m.h.Reason == tt.reason, "%+v: got %+v", tt.h, m.h)
	}
}

func TestQueueConfigErrors(t *testing.T) {
	const txlog = `<TransactionLog><JournalDirectory>/tmp/j</JournalDirectory><Topic><Name>Work</Name></Topic></TransactionLog>`
	tests := []struct {
		name, xml string
		line      int
		msg       string
	}{
		{"no transaction log", "<AMPSConfig><Name>x</Name>\n<SOW>\n<Queue><Name>Q</Name></Queue></SOW></AMPSConfig>", 3, "needs a TransactionLog"},
		{"topic not journaled", "<AMPSConfig><Name>x</Name>" + txlog + "\n<SOW>\n\n<Queue><Name>Q</Name><UnderlyingTopic>Other</UnderlyingTopic></Queue></SOW></AMPSConfig>", 4, "not recorded by the TransactionLog"},
		{"default underlying topic not journaled", "<AMPSConfig><Name>x</Name>" + txlog + "\n<SOW><Queue><Name>Q</Name></Queue></SOW></AMPSConfig>", 2, `underlying topic "Q"`},
		{"bad lease", "<AMPSConfig><Name>x</Name>" + txlog + "\n<SOW><Queue><Name>Q</Name>\n<LeasePeriod>soon</LeasePeriod></Queue></SOW></AMPSConfig>", 3, "LeasePeriod"},
		{"no name", "<AMPSConfig><Name>x</Name>\n<SOW><Queue></Queue></SOW></AMPSConfig>", 2, "needs a Name"},
		{"clashes with a SOW topic", "<AMPSConfig><Name>x</Name>" + txlog + "\n<SOW><Topic><Name>Work</Name><Key>/k</Key></Topic>\n<Queue><Name>Work</Name></Queue></SOW></AMPSConfig>", 3, "already a SOW topic"},
		{"bad semantics", "<AMPSConfig><Name>x</Name>" + txlog + "\n<SOW><Queue><Name>Q</Name>\n<Semantics>at-most-once</Semantics></Queue></SOW></AMPSConfig>", 3, "Semantics"},
		{"bad regex", "<AMPSConfig><Name>x</Name>" + txlog + "\n<SOW><Queue><Name>Q</Name><UnderlyingTopic>W(</UnderlyingTopic></Queue></SOW></AMPSConfig>", 2, "UnderlyingTopic"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseConfig("q.xml", []byte(tt.xml))
			var ce *ConfigError
			require(t, errors.As(err, &ce), "want a ConfigError, got %v", err)
			require(t, ce.Line == tt.line && strings.Contains(ce.Error(), tt.msg) && strings.HasPrefix(ce.Error(), fmt.Sprintf("q.xml:%d", tt.line)),
				"got %q (line %d), want line %d and %q", ce.Error(), ce.Line, tt.line, tt.msg)
		})
	}
	cfg, err := ParseConfig("q.xml", []byte("<AMPSConfig><Name>x</Name>"+txlog+"<SOW><Queue><Name>WorkQ</Name><UnderlyingTopic>Work</UnderlyingTopic><LeasePeriod>30s</LeasePeriod></Queue></SOW></AMPSConfig>"))
	noErr(t, err)
	require(t, len(cfg.Queues) == 1 && cfg.Queues[0].LeasePeriod == 30*time.Second && cfg.Queues[0].UnderlyingTopic == "Work", "%+v", cfg.Queues)
}

// TestQueueDeliversOnlyDurable: a queue message is handed out only once
// its journal record is durable. The journal's group commit is driven by
// hand (a FlushInterval of an hour never fires during the test).
func TestQueueDeliversOnlyDurable(t *testing.T) {
	tests := []struct {
		name string
		// syncInAppend makes the record durable between its journal append
		// and its entry into the queue, as a group commit at that moment does.
		syncInAppend bool
		run          func(t *testing.T, s *Server, pub, a *rawClient)
	}{
		{"held until the group commit, then delivered in order", false, func(t *testing.T, s *Server, pub, a *rawClient) {
			qpublish(pub, `{"n":1}`, `{"n":2}`, `{"n":3}`)
			qnone(a)
			require(t, qcontents(pub) == "", "a sow query shows messages not yet durable: %q", qcontents(pub))
			noErr(t, s.jr.log.Sync())
			m1, m2, m3 := qnext(a), qnext(a), qnext(a)
			require(t, string(m1.payload) == `{"n":1}` && string(m2.payload) == `{"n":2}` && string(m3.payload) == `{"n":3}`,
				"got %s %s %s", m1.payload, m2.payload, m3.payload)
			require(t, qcontents(pub) == "{\"n\":1}\n{\"n\":2}\n{\"n\":3}\n", "contents %q", qcontents(pub))
			// Durable messages go out at once behind them, once committed.
			qpublish(pub, `{"n":4}`)
			qnone(a)
			require(t, qack(a, "", m1.h.Bookmark) == 1, "ack")
			qnone(a) // room again, but 4 is still not durable
			noErr(t, s.jr.log.Sync())
			require(t, string(qnext(a).payload) == `{"n":4}`, "4 not delivered after its commit")
		}},
		{"durable before it enters the queue is delivered at once", true, func(t *testing.T, s *Server, pub, a *rawClient) {
			qpublish(pub, `{"n":1}`)
			require(t, string(qnext(a).payload) == `{"n":1}`, "a message made durable before it was queued waits for another commit")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := &fakeClock{now: time.Unix(1_700_000_000, 0)}
			cfg := queueConfig(t.TempDir(), 10*time.Second)
			cfg.TransactionLog.FlushInterval = time.Hour
			s, err := New(cfg, WithClock(clk), WithLogger(quietLogger()))
			noErr(t, err)
			if tt.syncInAppend {
				s.jr.afterAppend = func(string, uint64) { noErr(t, s.jr.log.Sync()) }
			}
			noErr(t, s.Start(t.Context()))
			t.Cleanup(func() { noErr(t, s.Shutdown(context.Background())) })
			pub, a := dial(t, s.TCPAddr()), dial(t, s.TCPAddr())
			pub.logon("pub")
			a.logon("a")
			qsubscribe(a, "qa", "max_backlog=3", "")
			tt.run(t, s, pub, a)
		})
	}
}
