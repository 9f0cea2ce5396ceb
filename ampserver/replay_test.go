package ampserver

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"ampsflume/amps"
	"ampsflume/amps/wire"
	"ampsflume/ampserver/txlog"
)

// journalConfig is ordersConfig with a transaction log for Orders and Logs.
func journalConfig(dir string) *Config {
	cfg := ordersConfig(dir)
	cfg.TransactionLog = &TransactionLogConfig{
		JournalDirectory: dir + "/journal",
		FlushInterval:    time.Millisecond,
		Topics:           []TopicRef{{Name: "Orders", MessageType: "json"}, {Name: "Log.*", MessageType: "json"}},
	}
	return cfg
}

func uriOf(s *Server) string { return "tcp://" + s.TCPAddr().String() + "/amps/json" }

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func ampsClient(t testing.TB, s *Server, name string) *amps.Client {
	t.Helper()
	c := amps.NewClient(name)
	t.Cleanup(func() { c.Close() })
	noErr(t, c.Connect(ctxT(t), uriOf(s)))
	_, err := c.Logon(ctxT(t))
	noErr(t, err)
	return c
}

func publishN(t testing.TB, c *amps.Client, topic string, from, to int) {
	t.Helper()
	for i := from; i < to; i++ {
		noErr(t, c.Publish(topic, []byte(fmt.Sprintf(`{"order_key":%d,"n":%d}`, i, i))))
	}
	noErr(t, c.Flush(ctxT(t)))
}

// collectN reads n data messages (acks are returned separately).
func collectN(t testing.TB, st *amps.MessageStream, n int) (data []*amps.Message, acks []*amps.Message) {
	t.Helper()
	ctx := ctxT(t)
	for len(data) < n {
		m, err := st.Next(ctx)
		if err != nil {
			t.Fatalf("after %d of %d messages: %v", len(data), n, err)
		}
		if m.Command == amps.MsgAck {
			acks = append(acks, m)
			continue
		}
		data = append(data, m)
	}
	return data, acks
}

func ns(ms []*amps.Message) string {
	var b strings.Builder
	for i, m := range ms {
		if i > 0 {
			b.WriteByte(',')
		}
		s := string(m.Data)
		s = s[strings.LastIndex(s, ":")+1 : len(s)-1]
		b.WriteString(s)
	}
	return b.String()
}

func seqRange(from, to int) string {
	var p []string
	for i := from; i < to; i++ {
		p = append(p, fmt.Sprint(i))
	}
	return strings.Join(p, ",")
}

func bookmarkSub(t testing.TB, c *amps.Client, topic, bm, opts, acks string) *amps.MessageStream {
	t.Helper()
	st, err := c.Execute(ctxT(t), amps.Command{Name: amps.CmdSubscribe, Topic: topic, Bookmark: bm, Options: opts, AckType: acks})
	noErr(t, err)
	t.Cleanup(func() { st.Close() })
	return st
}

func TestBookmarkReplay(t *testing.T) {
	dir := t.TempDir()
	s := startServer(t, journalConfig(dir))
	pub := ampsClient(t, s, "publisher")
	publishN(t, pub, "Orders", 0, 10)
	sub := ampsClient(t, s, "subscriber")

	// EPOCH: everything, with bookmarks and timestamps, then a completed ack.
	st := bookmarkSub(t, sub, "Orders", "0", "", "completed")
	all, _ := collectN(t, st, 10)
	require(t, ns(all) == seqRange(0, 10), "epoch replay %s", ns(all))
	pid := fmt.Sprint(txlog.PublisherID("publisher"))
	for i, m := range all {
		require(t, m.Bookmark == fmt.Sprintf("%s|%d|", pid, i+1), "message %d bookmark %q", i, m.Bookmark)
		require(t, len(m.Timestamp) == 23 && m.Timestamp[8] == 'T', "timestamp %q", m.Timestamp)
	}
	m, err := st.Next(ctxT(t))
	noErr(t, err)
	require(t, m.Command == amps.MsgAck && m.AckType == "completed", "after replay: %+v", m.Header)

	// published lists the journal in order; each case below adds one.
	published := strings.Split(seqRange(0, 10), ",")
	tests := []struct {
		name, bm string
		from     int // index in published of the first replayed message; -1: none
	}{
		{"now", "0|1|", -1},
		{"mid bookmark", all[6].Bookmark, 7},
		{"list", all[8].Bookmark + "," + fmt.Sprintf("%d|%d|", txlog.PublisherID("someone"), 2), 9},
		{"not found starts at the end", pid + "|999|", -1},
		{"timestamp in the past", "20000101T000000Z", 0},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := bookmarkSub(t, sub, "Orders", tt.bm, "", "completed")
			// Replay, completed, then live: one live publish marks the end.
			var want []string
			if tt.from >= 0 {
				want = append(want, published[tt.from:]...)
			}
			live := 100 + i
			publishN(t, pub, "Orders", live, live+1)
			published = append(published, fmt.Sprint(live))
			want = append(want, fmt.Sprint(live))
			got, acks := collectN(t, st, len(want))
			require(t, ns(got) == strings.Join(want, ","), "got %s want %v", ns(got), want)
			require(t, len(acks) == 1 && acks[0].AckType == "completed", "acks %v", acks)
		})
	}
	t.Run("bookmark_not_found=fail", func(t *testing.T) {
		_, err := sub.Execute(ctxT(t), amps.Command{Name: amps.CmdSubscribe, Topic: "Orders", Bookmark: pid + "|999|", Options: "bookmark_not_found=fail"})
		var ce *amps.CommandError
		require(t, errors.As(err, &ce) && ce.Reason == "invalid bookmark", "err %v", err)
	})
	t.Run("bookmark_not_found=epoch", func(t *testing.T) {
		st := bookmarkSub(t, sub, "Orders", pid+"|999|", "bookmark_not_found=epoch", "")
		got, _ := collectN(t, st, len(published))
		require(t, ns(got) == strings.Join(published, ","), "got %s", ns(got))
	})
}

func TestBookmarkRefusals(t *testing.T) {
	s := startServer(t, journalConfig(t.TempDir()))
	c := ampsClient(t, s, "c")
	tests := []struct {
		name   string
		cmd    amps.Command
		reason string
	}{
		{"topic not journaled", amps.Command{Name: amps.CmdSubscribe, Topic: "Other", Bookmark: "0"}, "txn replay failed"},
		{"malformed bookmark", amps.Command{Name: amps.CmdSubscribe, Topic: "Orders", Bookmark: "nonsense"}, "invalid bookmark"},
		{"delta", amps.Command{Name: amps.CmdDeltaSubscribe, Topic: "Orders", Bookmark: "0"}, "invalid options"},
		{"aggregation", amps.Command{Name: amps.CmdSowAndSubscribe, Topic: "Orders", Bookmark: "0", Options: "projection=[/n],grouping=[/n]"}, "invalid options"},
		{"bad rate", amps.Command{Name: amps.CmdSubscribe, Topic: "Orders", Bookmark: "0", Options: "rate=fast"}, "invalid options"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.Execute(ctxT(t), tt.cmd)
			var ce *amps.CommandError
			require(t, errors.As(err, &ce) && ce.Reason == tt.reason, "err %v, want reason %q", err, tt.reason)
		})
	}
}

// TestReplayThenLiveUnderLoad subscribes from EPOCH while publishers keep
// publishing: every message arrives exactly once, in order per publisher.
func TestReplayThenLiveUnderLoad(t *testing.T) {
	s := startServer(t, journalConfig(t.TempDir()))
	const pubs, per = 3, 400
	clients := make([]*amps.Client, pubs)
	for p := range clients {
		clients[p] = ampsClient(t, s, fmt.Sprint("pub", p))
		publishN(t, clients[p], "Orders", p*10000, p*10000+100) // a backlog
	}
	var wg sync.WaitGroup
	start := make(chan struct{})
	for p, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			for i := 100; i < per; i++ {
				if err := c.Publish("Orders", []byte(fmt.Sprintf(`{"order_key":%d,"n":%d}`, p*10000+i, p*10000+i))); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	close(start)
	var streams []*amps.MessageStream
	for k := 0; k < 3; k++ { // several subscriptions at different moments
		sub := ampsClient(t, s, fmt.Sprint("sub", k)) // one connection each: streams are read one after another
		streams = append(streams, bookmarkSub(t, sub, "Orders", "0", "", ""))
	}
	wg.Wait()
	for _, st := range streams {
		got, _ := collectN(t, st, pubs*per)
		next := map[int]int{}
		for _, m := range got {
			var n int
			fmt.Sscanf(ns([]*amps.Message{m}), "%d", &n)
			p := n / 10000
			require(t, n%10000 == next[p], "publisher %d: got %d, want %d", p, n%10000, next[p])
			next[p]++
		}
	}
}

func TestRestartResumeAndSOWRebuild(t *testing.T) {
	dir := t.TempDir()
	cfg := journalConfig(dir)
	s, err := New(cfg, WithLogger(quietLogger()))
	noErr(t, err)
	noErr(t, s.Start(context.Background()))
	pub := ampsClient(t, s, "publisher")
	publishN(t, pub, "Orders", 0, 5)
	sub := ampsClient(t, s, "sub")
	st := bookmarkSub(t, sub, "Orders", "0", "", "")
	got, _ := collectN(t, st, 5)
	resume := got[2].Bookmark
	noErr(t, s.Shutdown(context.Background()))

	// Delete the SOW file's content: the journal alone rebuilds it.
	s2 := startServer(t, journalConfig(dir))
	pub2 := ampsClient(t, s2, "publisher")
	publishN(t, pub2, "Orders", 5, 7)
	sub2 := ampsClient(t, s2, "sub")
	st2 := bookmarkSub(t, sub2, "Orders", resume, "", "")
	got2, _ := collectN(t, st2, 4)
	require(t, ns(got2) == "3,4,5,6", "after restart %s", ns(got2))
	require(t, got2[2].Bookmark == fmt.Sprintf("%d|6|", txlog.PublisherID("publisher")), "sequence numbers continue: %s", got2[2].Bookmark)
	recs, err := sub2.Execute(ctxT(t), amps.Command{Name: amps.CmdSow, Topic: "Orders"})
	noErr(t, err)
	n := 0
	for m := range recs.All() {
		if m.Command == amps.MsgSow {
			n++
		}
	}
	require(t, n == 7, "SOW has %d records, want 7", n)
}

func TestSOWRebuiltFromJournal(t *testing.T) {
	dir := t.TempDir()
	cfg := journalConfig(dir)
	cfg.SOW[0].FileName = "" // transient SOW: only the journal survives
	s, err := New(cfg, WithLogger(quietLogger()))
	noErr(t, err)
	noErr(t, s.Start(context.Background()))
	pub := ampsClient(t, s, "publisher")
	publishN(t, pub, "Orders", 0, 6)
	_, err = pub.Execute(ctxT(t), amps.Command{Name: amps.CmdSowDelete, Topic: "Orders", Filter: "/order_key = 2"})
	noErr(t, err)
	noErr(t, s.Shutdown(context.Background()))

	s2 := startServer(t, cfg)
	c := ampsClient(t, s2, "reader")
	recs, err := c.Execute(ctxT(t), amps.Command{Name: amps.CmdSow, Topic: "Orders", OrderBy: "/order_key"})
	noErr(t, err)
	var keys []string
	for m := range recs.All() {
		if m.Command == amps.MsgSow {
			keys = append(keys, ns([]*amps.Message{m}))
		}
	}
	require(t, strings.Join(keys, ",") == "0,1,3,4,5", "SOW after restart %v", keys)
}

func TestPersistedAcksAndDeduplication(t *testing.T) {
	dir := t.TempDir()
	s := startServer(t, journalConfig(dir))
	c := ampsClient(t, s, "pubstore")
	acked := make(chan uint64, 100)
	c.OnPersisted(func(seq uint64) { acked <- seq })
	sub := ampsClient(t, s, "sub")
	st := bookmarkSub(t, sub, "Orders", "0|1|", "", "")
	send := func(seq uint64, n int) {
		noErr(t, c.Send(amps.Command{Name: amps.CmdPublish, Topic: "Orders", Seq: seq, HasSeq: true, AckType: "persisted",
			Data: []byte(fmt.Sprintf(`{"order_key":%d,"n":%d}`, n, n))}))
	}
	waitAck := func(want uint64) {
		t.Helper()
		ctx := ctxT(t)
		for {
			select {
			case got := <-acked:
				if got == want {
					return
				}
				require(t, got < want, "persisted ack %d beyond %d", got, want)
			case <-ctx.Done():
				t.Fatalf("no persisted ack for %d", want)
			}
		}
	}
	for i := uint64(1); i <= 3; i++ {
		send(i, int(i))
	}
	waitAck(3)
	send(2, 99) // a republish: dropped, acknowledged
	waitAck(2)
	send(4, 4)
	waitAck(4)
	got, _ := collectN(t, st, 4)
	require(t, ns(got) == "1,2,3,4", "subscriber got %s", ns(got))

	// A new logon with the same name learns the last sequence number.
	c.Close()
	c2 := amps.NewClient("pubstore")
	t.Cleanup(func() { c2.Close() })
	noErr(t, c2.Connect(ctxT(t), uriOf(s)))
	info, err := c2.Logon(ctxT(t))
	noErr(t, err)
	require(t, info.Seq == 4 && info.Bookmark == fmt.Sprintf("%d|4|", txlog.PublisherID("pubstore")), "logon %+v", info)
}

func TestBookmarkSubscriptionPersistedAcks(t *testing.T) {
	s := startServer(t, journalConfig(t.TempDir()))
	pub := ampsClient(t, s, "publisher")
	publishN(t, pub, "Orders", 0, 3)
	sub := ampsClient(t, s, "sub")
	st := bookmarkSub(t, sub, "Orders", "0", "", "persisted")
	data, acks := collectN(t, st, 3)
	ctx := ctxT(t)
	for len(acks) == 0 || acks[len(acks)-1].Bookmark != data[2].Bookmark {
		m, err := st.Next(ctx)
		noErr(t, err)
		if m.Command == amps.MsgAck {
			acks = append(acks, m)
		}
	}
	last := acks[len(acks)-1]
	require(t, last.AckType == "persisted" && last.SubID == st.SubID(), "ack %+v", last.Header)
}

func TestPauseResume(t *testing.T) {
	s := startServer(t, journalConfig(t.TempDir()))
	pub := ampsClient(t, s, "publisher")
	publishN(t, pub, "Orders", 0, 3)
	sub := ampsClient(t, s, "sub")
	st, err := sub.Execute(ctxT(t), amps.Command{Name: amps.CmdSubscribe, Topic: "Orders", SubID: "s1", Bookmark: "0", Options: "pause"})
	noErr(t, err)
	t.Cleanup(func() { st.Close() })
	publishN(t, pub, "Orders", 3, 5)
	// The client library keeps one route per sub_id, so the resume
	// command goes out unregistered.
	noErr(t, sub.Send(amps.Command{Name: amps.CmdSubscribe, SubID: "s1", Options: "resume"}))
	publishN(t, pub, "Orders", 5, 6)
	got, _ := collectN(t, st, 6)
	require(t, ns(got) == seqRange(0, 6), "got %s", ns(got))
}

// TestPacedReplay replays at 2 messages/s on a fake clock: the replay waits
// for the clock before each later message.
func TestPacedReplay(t *testing.T) {
	clk := &fakeClock{now: time.Unix(1_700_000_000, 0)}
	s := startServer(t, journalConfig(t.TempDir()), WithClock(clk))
	pub := ampsClient(t, s, "publisher")
	publishN(t, pub, "Orders", 0, 3)
	sub := ampsClient(t, s, "sub")
	st := bookmarkSub(t, sub, "Orders", "0", "rate=2", "")
	first, _ := collectN(t, st, 1)
	require(t, ns(first) == "0", "first %s", ns(first))
	waitFor(t, "the pacing timer", func() bool { return clk.pending() > 0 })
	select {
	case m := <-st.C():
		t.Fatalf("message before the clock moved: %s", m.Data)
	default:
	}
	clk.Advance(500 * time.Millisecond)
	second, _ := collectN(t, st, 1)
	require(t, ns(second) == "1", "second %s", ns(second))
	waitFor(t, "the pacing timer", func() bool { return clk.pending() > 0 })
	clk.Advance(500 * time.Millisecond)
	third, _ := collectN(t, st, 1)
	require(t, ns(third) == "2", "third %s", ns(third))
}

// replayOf returns the replay state of client name's subscription id.
func replayOf(t testing.TB, s *Server, name, id string) *replay {
	t.Helper()
	var rp *replay
	waitFor(t, "subscription "+name+"/"+id, func() bool {
		for _, sub := range s.subs.Load().subs {
			if sub.replay != nil && sub.client.name == name && sub.id == id {
				rp = sub.replay
				return true
			}
		}
		return false
	})
	return rp
}

func waitLive(t testing.TB, rp *replay) {
	t.Helper()
	waitFor(t, "the replay to go live", func() bool {
		rp.mu.Lock()
		defer rp.mu.Unlock()
		return rp.mode == modeLive
	})
}

// heldPublish holds the publish that gets one journal position between its
// journal append and its live fan-out, with its topic locked.
type heldPublish struct {
	reached, released chan struct{}
	once              sync.Once
}

func (h *heldPublish) wait(t testing.TB) {
	t.Helper()
	select {
	case <-h.reached:
	case <-ctxT(t).Done():
		t.Fatal("the held publish never reached the journal")
	}
}

func (h *heldPublish) release() { h.once.Do(func() { close(h.released) }) }

// startHeldServer starts a journaled server that holds the publish
// appended at journal position seq until released.
func startHeldServer(t *testing.T, seq uint64) (*Server, *heldPublish) {
	t.Helper()
	h := &heldPublish{reached: make(chan struct{}), released: make(chan struct{})}
	s, err := New(journalConfig(t.TempDir()), WithLogger(quietLogger()))
	noErr(t, err)
	s.jr.afterAppend = func(_ string, n uint64) {
		if n == seq {
			close(h.reached)
			<-h.released
		}
	}
	noErr(t, s.Start(context.Background()))
	t.Cleanup(func() {
		h.release()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		noErr(t, s.Shutdown(ctx))
	})
	return s, h
}

// TestReplayLiveSwitchRace holds a publish between its journal append and
// its fan-out while a bookmark subscription replays and goes live: the
// held message is replayed from the journal and must not also arrive live
// when the publisher resumes.
func TestReplayLiveSwitchRace(t *testing.T) {
	tests := []struct {
		name   string
		resume bool // the subscription starts paused and is resumed while the publish is held
	}{
		{"subscribe", false},
		{"resume", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, h := startHeldServer(t, 4) // the fourth publish is held
			pub := ampsClient(t, s, "publisher")
			publishN(t, pub, "Orders", 0, 3)
			sub := ampsClient(t, s, "sub")
			var st *amps.MessageStream
			if tt.resume {
				st = bookmarkSub(t, sub, "Orders", txlog.Epoch, "pause", "")
				replayOf(t, s, "sub", st.SubID())
			}

			noErr(t, pub.Publish("Orders", []byte(`{"order_key":3,"n":3}`)))
			h.wait(t)
			if tt.resume {
				noErr(t, sub.Send(amps.Command{Name: amps.CmdSubscribe, SubID: st.SubID(), Options: "resume"}))
			} else {
				st = bookmarkSub(t, sub, "Orders", txlog.Epoch, "", "")
			}
			waitLive(t, replayOf(t, s, "sub", st.SubID()))
			h.release()

			publishN(t, pub, "Orders", 4, 5)
			got, _ := collectN(t, st, 5)
			require(t, ns(got) == seqRange(0, 5), "got %s, want %s", ns(got), seqRange(0, 5))
		})
	}
}

// TestPauseWhileAPublishIsHeld pauses a live bookmark subscription while a
// publish sits between its journal append and its fan-out (so the paused
// subscription drops it live): the resume replays it from the journal.
func TestPauseWhileAPublishIsHeld(t *testing.T) {
	s, h := startHeldServer(t, 1)
	pub := ampsClient(t, s, "publisher")
	sub := ampsClient(t, s, "sub")
	st := bookmarkSub(t, sub, "Orders", txlog.Now, "", "")
	rp := replayOf(t, s, "sub", st.SubID())
	waitLive(t, rp)

	noErr(t, pub.Publish("Orders", []byte(`{"order_key":0,"n":0}`)))
	h.wait(t)
	noErr(t, sub.Send(amps.Command{Name: amps.CmdSubscribe, SubID: st.SubID(), Options: "pause"}))
	waitFor(t, "the pause", func() bool {
		rp.mu.Lock()
		defer rp.mu.Unlock()
		return rp.mode == modePaused
	})
	h.release()
	noErr(t, pub.Flush(ctxT(t)))
	noErr(t, sub.Send(amps.Command{Name: amps.CmdSubscribe, SubID: st.SubID(), Options: "resume"}))
	publishN(t, pub, "Orders", 1, 2)
	got, _ := collectN(t, st, 2)
	require(t, ns(got) == "0,1", "got %s, want 0,1", ns(got))
}

// TestReplayToASlowReaderIsBounded replays a journal much larger than the
// replay's queue bound to a subscriber that does not read: the replay
// pauses with the subscriber's outbound queue at the bound (not at the
// slow-consumer limit), and resumes as the subscriber reads, which then
// gets every message in order.
func TestReplayToASlowReaderIsBounded(t *testing.T) {
	s := startServer(t, journalConfig(t.TempDir()))
	const n, size = 7000, 3500 // 24 MB: more than the bound and the socket buffers hold
	pad := strings.Repeat("x", size)
	pub := ampsClient(t, s, "pub")
	for i := 0; i < n; i++ {
		noErr(t, pub.Publish("Log.slow", []byte(fmt.Sprintf(`{"n":%d,"pad":"%s"}`, i, pad))))
	}
	noErr(t, pub.Flush(ctxT(t)))

	conn, err := net.Dial("tcp", s.TCPAddr().String())
	noErr(t, err)
	t.Cleanup(func() { conn.Close() })
	// A small receive window, so that the kernel holds little of the replay.
	noErr(t, conn.(*net.TCPConn).SetReadBuffer(64<<10))
	_, err = conn.Write(wire.AppendFrame(nil, &wire.Header{Command: "subscribe", SubID: "slow", Topic: "Log.slow", Bookmark: txlog.Epoch}, nil))
	noErr(t, err)

	// The subscriber's session and replay, once it exists.
	var c *client
	var rp *replay
	waitFor(t, "the bookmark subscription", func() bool {
		for _, sub := range s.subs.Load().subs {
			if sub.replay != nil {
				c, rp = sub.client, sub.replay
				return true
			}
		}
		return false
	})
	frame := size + 512
	bound := replayQueueBound + 2*frame // a frame past the mark, in the batch being written and behind it
	paused := func() bool {
		c.outMu.Lock()
		defer c.outMu.Unlock()
		return c.drained != nil
	}
	live := func() bool {
		rp.mu.Lock()
		defer rp.mu.Unlock()
		return rp.mode == modeLive
	}
	waitFor(t, "the replay to pause or to pass its bound", func() bool {
		return paused() || live() || c.queuedBytes() > bound
	})
	q := c.queuedBytes()
	require(t, q <= bound, "outbound queue at %d bytes during the replay, bound %d", q, bound)
	require(t, paused(), "the replay never paused: %d bytes queued", q)

	// Read slowly; the queue stays bounded and nothing is lost.
	r := wire.NewReader(bufio.NewReaderSize(conn, 4096), 0)
	maxQueued := 0
	for i := 0; i < n; i++ {
		noErr(t, conn.SetReadDeadline(time.Now().Add(10*time.Second)))
		f, err := r.Next()
		noErr(t, err)
		var h wire.Header
		p, err := wire.ParseMessage(f, &h)
		noErr(t, err)
		want := fmt.Sprintf(`{"n":%d,`, i)
		require(t, strings.HasPrefix(string(p), want), "message %d: %.20q, want %q...", i, p, want)
		if i%64 == 0 {
			maxQueued = max(maxQueued, c.queuedBytes())
		}
	}
	require(t, maxQueued <= bound, "outbound queue reached %d bytes, bound %d", maxQueued, bound)
}
