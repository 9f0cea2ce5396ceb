package amps

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"ampsflume/amps/wire"
)

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func connectFake(t *testing.T, fs *fakeServer, opts ...Option) *Client {
	t.Helper()
	c := NewClient("test-client", opts...)
	t.Cleanup(func() { _ = c.Close() })
	if err := c.Connect(testCtx(t), fs.uri()); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Logon(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestLogonSendsIdentityAndReadsAck(t *testing.T) {
	fs := newFakeServer(t, nil)
	c := NewClient("pub-1")
	t.Cleanup(func() { _ = c.Close() })
	uri := "tcp://alice:pw1@" + fs.ln.Addr().String() + "/amps/json"
	if err := c.Connect(testCtx(t), uri); err != nil {
		t.Fatal(err)
	}
	info, err := c.Logon(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	if info.ServerVersion != "5.3.4.0" || info.Seq != 42 || !info.HasSeq || info.Bookmark != "123|42|" || info.ClientName != "pub-1" {
		t.Fatalf("logon info %+v", info)
	}
	h := fs.conn(0).nextHeader(t, "logon")
	if h.ClientName != "pub-1" || h.UserID != "alice" || h.Password != "pw1" || h.Version != ClientVersion ||
		h.MessageType != "json" || h.AckType != "processed" || h.CommandID == "" {
		t.Fatalf("logon header %+v", h)
	}
	if c.LogonInfo() != info {
		t.Fatalf("LogonInfo() = %+v", c.LogonInfo())
	}
}

func TestLogonFailureIsTyped(t *testing.T) {
	fs := newFakeServer(t, func(fc *fakeConn, h *wire.Header, _ []byte) {
		if h.Command == "logon" {
			fc.ackAll(h, "failure", "name in use", nil)
		}
	})
	c := NewClient("dup")
	t.Cleanup(func() { _ = c.Close() })
	if err := c.Connect(testCtx(t), fs.uri()); err != nil {
		t.Fatal(err)
	}
	_, err := c.Logon(testCtx(t))
	if !errors.Is(err, ErrNameInUse) {
		t.Fatalf("err = %v, want ErrNameInUse", err)
	}
	var ce *CommandError
	if !errors.As(err, &ce) || ce.Command != "logon" || ce.Reason != "name in use" {
		t.Fatalf("CommandError %+v", ce)
	}
}

func TestCommandFailuresAreTyped(t *testing.T) {
	fs := newFakeServer(t, func(fc *fakeConn, h *wire.Header, p []byte) {
		switch h.Topic {
		case "badfilter":
			fc.ackAll(h, "failure", "bad filter", nil)
		case "badtopic":
			fc.ackAll(h, "failure", "invalid topic", nil)
		case "opts":
			fc.ackAll(h, "failure", "invalid options", nil)
		case "odd":
			fc.ackAll(h, "failure", "the moon is full", nil)
		default:
			defaultFakeHandler(fc, h, p)
		}
	})
	c := connectFake(t, fs)
	ctx := testCtx(t)
	tests := []struct {
		topic string
		run   func(topic string) error
		want  error
	}{
		{"badfilter", func(tp string) error { _, err := c.Subscribe(ctx, tp, "/x >"); return err }, ErrBadFilter},
		{"badtopic", func(tp string) error { _, err := c.Sow(ctx, tp, ""); return err }, ErrInvalidTopic},
		{"opts", func(tp string) error { _, err := c.SowAndSubscribe(ctx, tp, ""); return err }, ErrInvalidOptions},
		{"badfilter", func(tp string) error { _, err := c.SowDelete(ctx, tp, "/x >"); return err }, ErrBadFilter},
		{"odd", func(tp string) error { _, err := c.Subscribe(ctx, tp, ""); return err }, ErrCommand},
	}
	for _, tt := range tests {
		err := tt.run(tt.topic)
		if !errors.Is(err, tt.want) {
			t.Errorf("%s: err = %v, want %v", tt.topic, err, tt.want)
		}
	}
	// A failed subscription frees its sub_id.
	c.cn.rmu.Lock()
	n := len(c.cn.bySub) + len(c.cn.byCID) + len(c.cn.byQuery)
	c.cn.rmu.Unlock()
	if n != 0 {
		t.Fatalf("%d routes left after failures", n)
	}
}

func TestRoutingByQueryIDSidsSubIDAndCID(t *testing.T) {
	subs := make(chan wire.Header, 8)
	fs := newFakeServer(t, func(fc *fakeConn, h *wire.Header, p []byte) {
		defaultFakeHandler(fc, h, p)
		if h.Command == "subscribe" {
			subs <- *h
		}
	})
	c := connectFake(t, fs)
	ctx := testCtx(t)
	a, err := c.Subscribe(ctx, "A", "")
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.Execute(ctx, Command{Name: CmdSubscribe, Topic: "B", SubID: "bee"})
	if err != nil {
		t.Fatal(err)
	}
	ha, hb := <-subs, <-subs
	if ha.SubID != ha.CommandID || a.SubID() != ha.SubID || hb.SubID != "bee" || b.SubID() != "bee" {
		t.Fatalf("sub ids: %+v %+v", ha, hb)
	}
	fc := fs.conn(0)
	// sids naming both subscriptions reaches both; sub_id alone reaches one.
	_ = fc.send(&wire.Header{Command: "p", Topic: "A", SubIDs: ha.SubID + ",bee"}, []byte("both"))
	_ = fc.send(&wire.Header{Command: "p", Topic: "B", SubID: "bee"}, []byte("only-b"))
	_ = fc.send(&wire.Header{Command: "p", Topic: "A", SubIDs: "nobody," + ha.SubID}, []byte("only-a"))
	got := func(s *MessageStream) []string {
		var out []string
		for len(out) < 2 {
			m, err := s.Next(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if m.Command != MsgPublish {
				t.Fatalf("command %q", m.Command)
			}
			out = append(out, string(m.Data))
		}
		return out
	}
	if g := got(a); g[0] != "both" || g[1] != "only-a" {
		t.Fatalf("A got %q", g)
	}
	if g := got(b); g[0] != "both" || g[1] != "only-b" {
		t.Fatalf("B got %q", g)
	}
}

func TestSowRecordsAreSplitAndStreamEnds(t *testing.T) {
	fs := newFakeServer(t, func(fc *fakeConn, h *wire.Header, p []byte) {
		if h.Command != "sow" {
			defaultFakeHandler(fc, h, p)
			return
		}
		if h.BatchSize != 10 || h.QueryID == "" {
			fc.ackAll(h, "failure", "unexpected header", nil)
			return
		}
		q := h.QueryID
		_ = fc.send(&wire.Header{Command: "ack", AckType: "processed", Status: "success", CommandID: h.CommandID, QueryID: q}, nil)
		_ = fc.send(&wire.Header{Command: "group_begin", QueryID: q}, nil)
		var body []byte
		for i := 1; i <= 3; i++ {
			body = wire.AppendSOWRecord(body, &wire.Header{SowKey: strconv.Itoa(i), Timestamp: "20240101T000000.000000Z"},
				[]byte(fmt.Sprintf(`{"id":%d}`, i)))
		}
		_ = fc.send(&wire.Header{Command: "sow", QueryID: q, Topic: h.Topic, BatchSize: 3}, body)
		_ = fc.send(&wire.Header{Command: "group_end", QueryID: q}, nil)
		_ = fc.send(&wire.Header{Command: "ack", AckType: "completed", Status: "success", CommandID: h.CommandID, QueryID: q}, nil)
	})
	c := connectFake(t, fs)
	s, err := c.Sow(testCtx(t), "Orders", "")
	if err != nil {
		t.Fatal(err)
	}
	var cmds, data []string
	for m := range s.All() {
		cmds = append(cmds, m.Command)
		if m.Command == MsgSow {
			data = append(data, string(m.Data))
			if m.Topic != "Orders" || m.QueryID != s.QueryID() || m.SowKey == "" || !m.IsData() {
				t.Fatalf("record header %+v", m.Header)
			}
		}
	}
	if s.Err() != nil {
		t.Fatal(s.Err())
	}
	want := []string{"group_begin", "sow", "sow", "sow", "group_end"}
	if fmt.Sprint(cmds) != fmt.Sprint(want) {
		t.Fatalf("commands %v, want %v", cmds, want)
	}
	if fmt.Sprint(data) != `[{"id":1} {"id":2} {"id":3}]` {
		t.Fatalf("data %v", data)
	}
	if _, err := s.Next(testCtx(t)); err != io.EOF {
		t.Fatalf("Next after end = %v, want io.EOF", err)
	}
}

func TestSowDeleteReturnsRecordsDeleted(t *testing.T) {
	fs := newFakeServer(t, func(fc *fakeConn, h *wire.Header, p []byte) {
		if h.Command == "sow_delete" {
			n := 0
			switch {
			case h.Filter == "1=1":
				n = 7
			case h.SowKeys != "":
				n = 2
			case string(p) == `{"id":1}`:
				n = 1
			}
			fc.ackAll(h, "success", "", &wire.Header{RecordsDeleted: n})
			return
		}
		defaultFakeHandler(fc, h, p)
	})
	c := connectFake(t, fs)
	ctx := testCtx(t)
	for _, tt := range []struct {
		run  func() (int, error)
		want int
	}{
		{func() (int, error) { return c.SowDelete(ctx, "T", "1=1") }, 7},
		{func() (int, error) { return c.SowDeleteByKeys(ctx, "T", "a,b") }, 2},
		{func() (int, error) { return c.SowDeleteByData(ctx, "T", []byte(`{"id":1}`)) }, 1},
	} {
		n, err := tt.run()
		if err != nil || n != tt.want {
			t.Fatalf("deleted %d, %v; want %d", n, err, tt.want)
		}
	}
	if _, err := c.SowDelete(ctx, "T", ""); err == nil {
		t.Fatal("empty filter accepted")
	}
}

func TestUserAcksAreDeliveredInternalOnesAreNot(t *testing.T) {
	fs := newFakeServer(t, nil)
	c := connectFake(t, fs)
	s, err := c.Execute(testCtx(t), Command{Name: CmdSubscribe, Topic: "T", AckType: "received"})
	if err != nil {
		t.Fatal(err)
	}
	m, err := s.Next(testCtx(t))
	if err != nil || m.Command != MsgAck || m.AckType != AckReceived {
		t.Fatalf("first message %+v, %v", m, err)
	}
	_ = fs.conn(0).send(&wire.Header{Command: "p", SubIDs: s.SubID()}, []byte("x"))
	m, err = s.Next(testCtx(t))
	if err != nil || m.Command != MsgPublish {
		t.Fatalf("second message %+v, %v (the processed ack must not be delivered)", m, err)
	}
}

func TestUnsubscribeEndsStream(t *testing.T) {
	fs := newFakeServer(t, nil)
	c := connectFake(t, fs)
	ctx := testCtx(t)
	s, err := c.Subscribe(ctx, "T", "")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Unsubscribe(ctx, s.SubID()); err != nil {
		t.Fatal(err)
	}
	if h := fs.conn(0).nextHeader(t, "unsubscribe"); h.SubID != s.SubID() {
		t.Fatalf("unsubscribe header %+v", h)
	}
	if _, err := s.Next(ctx); err != io.EOF {
		t.Fatalf("Next = %v, want io.EOF", err)
	}
	// The sub_id can be used again.
	if _, err := c.Execute(ctx, Command{Name: CmdSubscribe, Topic: "T", SubID: s.SubID()}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Execute(ctx, Command{Name: CmdSubscribe, Topic: "T", SubID: s.SubID()}); !errors.Is(err, ErrSubIDInUse) {
		t.Fatalf("duplicate sub_id: %v", err)
	}
	if _, err := c.Execute(ctx, Command{Name: CmdSubscribe, Topic: "T", SubID: s.SubID(), Options: "replace"}); err != nil {
		t.Fatalf("replace: %v", err)
	}
}

func TestStreamCloseUnsubscribes(t *testing.T) {
	fs := newFakeServer(t, nil)
	c := connectFake(t, fs)
	s, err := c.Subscribe(testCtx(t), "T", "")
	if err != nil {
		t.Fatal(err)
	}
	_ = s.Close()
	if h := fs.conn(0).nextHeader(t, "unsubscribe"); h.SubID != s.SubID() {
		t.Fatalf("unsubscribe header %+v", h)
	}
}

func TestPublishAndFlush(t *testing.T) {
	fs := newFakeServer(t, nil)
	c := connectFake(t, fs)
	for i := 0; i < 3; i++ {
		if err := c.Publish("Orders", []byte(fmt.Sprintf(`{"i":%d}`, i))); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.DeltaPublish("Orders", []byte(`{"i":0,"x":1}`)); err != nil {
		t.Fatal(err)
	}
	if err := c.Flush(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	fc := fs.conn(0)
	h := fc.nextHeader(t, "p")
	if h.Topic != "Orders" || h.CommandID == "" {
		t.Fatalf("publish header %+v", h)
	}
	fc.nextHeader(t, "delta_publish")
	if err := c.Publish("", []byte("x")); err == nil {
		t.Fatal("empty topic accepted")
	}
}

func TestPersistedAckHook(t *testing.T) {
	fs := newFakeServer(t, nil)
	c := connectFake(t, fs)
	got := make(chan uint64, 1)
	c.OnPersisted(func(seq uint64) { got <- seq })
	_ = fs.conn(0).send(&wire.Header{Command: "ack", AckType: "persisted", Seq: 77, HasSeq: true, Status: "success"}, nil)
	select {
	case s := <-got:
		if s != 77 {
			t.Fatalf("seq %d", s)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no persisted ack")
	}
}

// TestSlowConsumerBackPressure stalls a consumer while the server sends far
// more than the client may buffer, checks that the client stopped reading
// the socket, then drains and checks that nothing was lost or reordered.
func TestSlowConsumerBackPressure(t *testing.T) {
	const total = 4000
	payload := make([]byte, 1000)
	for i := range payload {
		payload[i] = 'x'
	}
	writerDone := make(chan struct{})
	var once sync.Once
	fs := newFakeServer(t, func(fc *fakeConn, h *wire.Header, p []byte) {
		defaultFakeHandler(fc, h, p)
		if h.Command == "subscribe" {
			sub := h.SubID
			go once.Do(func() {
				defer close(writerDone)
				for i := 0; i < total; i++ {
					d := append([]byte(strconv.Itoa(i)+":"), payload...)
					if fc.send(&wire.Header{Command: "p", SubIDs: sub, Topic: "T"}, d) != nil {
						return
					}
				}
			})
		}
	})
	var readBytes atomic.Int64
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		var d net.Dialer
		nc, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return countingConn{nc, &readBytes}, nil
	}
	const buf = 8
	c := connectFake(t, fs, WithStreamBuffer(buf), WithDialer(dial))
	s, err := c.Subscribe(testCtx(t), "T", "")
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return len(s.C()) == buf })
	// What the client can hold: the stream buffer, the message being
	// pushed, the socket read buffer and one frame being assembled.
	frame := int64(len(payload) + 200)
	bound := int64(buf+2)*frame + 64<<10 + frame
	fc := fs.conn(0)
	waitFor(t, func() bool {
		select {
		case <-writerDone:
			return true
		default:
		}
		return fc.written.Load() > bound+32<<10
	})
	if n := readBytes.Load(); n > bound+4096 { // + logon/ack frames
		t.Fatalf("client read %d bytes while its consumer was stalled (bound %d)", n, bound)
	}
	select {
	case <-writerDone:
		t.Fatalf("server finished writing %d bytes into a stalled client", fc.written.Load())
	default:
	}
	if len(s.C()) > buf {
		t.Fatalf("buffer grew to %d", len(s.C()))
	}
	for i := 0; i < total; i++ {
		m, err := s.Next(testCtx(t))
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		want := strconv.Itoa(i) + ":"
		if string(m.Data[:len(want)]) != want {
			t.Fatalf("message %d is %q", i, m.Data[:10])
		}
	}
	<-writerDone
}

type countingConn struct {
	net.Conn
	n *atomic.Int64
}

func (c countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// TestHeartbeatsSurviveStalledConsumer checks that the client keeps beating
// while its reader is blocked on a full stream.
func TestHeartbeatsSurviveStalledConsumer(t *testing.T) {
	fs := newFakeServer(t, nil)
	c := connectFake(t, fs, WithHeartbeat(20*time.Millisecond), WithHeartbeatTimeout(time.Minute), WithStreamBuffer(1))
	fc := fs.conn(0)
	if h := fc.nextHeader(t, "heartbeat"); h.Options != "start,1" {
		t.Fatalf("heartbeat start %+v", h)
	}
	s, err := c.Subscribe(testCtx(t), "T", "")
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ { // one buffered, one blocking the reader, one unread
		_ = fc.send(&wire.Header{Command: "p", SubIDs: s.SubID()}, []byte("m"))
	}
	waitFor(t, func() bool { return len(s.C()) == 1 })
	for i := 0; i < 3; i++ {
		if h := fc.nextHeader(t, "heartbeat"); h.Options != "beat" {
			t.Fatalf("heartbeat %+v", h)
		}
	}
	for i := 0; i < 3; i++ {
		if _, err := s.Next(testCtx(t)); err != nil {
			t.Fatal(err)
		}
	}
}

func TestHeartbeatSilenceDisconnects(t *testing.T) {
	fs := newFakeServer(t, nil)
	lost := make(chan error, 1)
	c := NewClient("hb", WithHeartbeat(time.Second), WithHeartbeatTimeout(50*time.Millisecond))
	t.Cleanup(func() { _ = c.Close() })
	c.OnDisconnect(func(err error) { lost <- err })
	if err := c.Connect(testCtx(t), fs.uri()); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Logon(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-lost:
		if !errors.Is(err, ErrHeartbeatTimeout) || !errors.Is(err, ErrDisconnected) {
			t.Fatalf("disconnect cause %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no disconnect")
	}
}

func TestServerHeartbeatIsAnswered(t *testing.T) {
	fs := newFakeServer(t, nil)
	connectFake(t, fs)
	fc := fs.conn(0)
	_ = fc.send(&wire.Header{Command: "heartbeat"}, nil)
	if h := fc.nextHeader(t, "heartbeat"); h.Options != "beat" {
		t.Fatalf("answer %+v", h)
	}
}

func TestDisconnectHookAndReconnect(t *testing.T) {
	fs := newFakeServer(t, nil)
	lost := make(chan error, 1)
	c := connectFake(t, fs)
	c.OnDisconnect(func(err error) { lost <- err })
	s, err := c.Subscribe(testCtx(t), "T", "")
	if err != nil {
		t.Fatal(err)
	}
	_ = fs.conn(0).nc.Close()
	select {
	case err := <-lost:
		if !errors.Is(err, ErrDisconnected) {
			t.Fatalf("cause %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no disconnect")
	}
	if _, err := s.Next(testCtx(t)); !errors.Is(err, ErrDisconnected) {
		t.Fatalf("stream ended with %v", err)
	}
	if err := c.Publish("T", []byte("x")); !errors.Is(err, ErrNotConnected) {
		t.Fatalf("publish after loss: %v", err)
	}
	// The same client connects again and replays its command.
	if err := c.Connect(testCtx(t), fs.uri()); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Logon(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Execute(testCtx(t), Command{Name: CmdSubscribe, Topic: "T", SubID: s.SubID()}); err != nil {
		t.Fatal(err)
	}
}

func TestCloseIsNotReportedAndEndsEverything(t *testing.T) {
	fs := newFakeServer(t, nil)
	c := connectFake(t, fs, WithStreamBuffer(1))
	var called atomic.Bool
	c.OnDisconnect(func(error) { called.Store(true) })
	s, err := c.Subscribe(testCtx(t), "T", "")
	if err != nil {
		t.Fatal(err)
	}
	// Leave the reader blocked on the full stream: Close must still return.
	for i := 0; i < 3; i++ {
		_ = fs.conn(0).send(&wire.Header{Command: "p", SubIDs: s.SubID()}, []byte("m"))
	}
	waitFor(t, func() bool { return len(s.C()) == 1 })
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if called.Load() {
		t.Fatal("OnDisconnect called for Close")
	}
	if err := c.Connect(testCtx(t), fs.uri()); !errors.Is(err, ErrClosed) {
		t.Fatalf("Connect after Close: %v", err)
	}
	if err := c.Flush(testCtx(t)); !errors.Is(err, ErrClosed) {
		t.Fatalf("Flush after Close: %v", err)
	}
}

func TestMalformedFrameDisconnects(t *testing.T) {
	fs := newFakeServer(t, nil)
	lost := make(chan error, 1)
	c := connectFake(t, fs)
	c.OnDisconnect(func(err error) { lost <- err })
	fc := fs.conn(0)
	fc.wmu.Lock()
	_, _ = fc.nc.Write([]byte{0, 0, 0, 5, 'n', 'o', 't', '{', '}'})
	fc.wmu.Unlock()
	select {
	case err := <-lost:
		var fe *wire.FrameError
		if !errors.As(err, &fe) {
			t.Fatalf("cause %v, want a *wire.FrameError", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no disconnect")
	}
}

func TestContextCancelWhileWaitingForAck(t *testing.T) {
	fs := newFakeServer(t, func(fc *fakeConn, h *wire.Header, p []byte) {
		if h.Command == "subscribe" {
			return // never answers
		}
		defaultFakeHandler(fc, h, p)
	})
	c := connectFake(t, fs)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		fs.conn(0).nextHeader(t, "subscribe")
		cancel()
	}()
	_, err := c.Subscribe(ctx, "T", "")
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v", err)
	}
	// The abandoned subscription is withdrawn.
	fs.conn(0).nextHeader(t, "unsubscribe")
}

func TestNotConnected(t *testing.T) {
	c := NewClient("x")
	if err := c.Publish("T", nil); !errors.Is(err, ErrNotConnected) {
		t.Fatal(err)
	}
	if _, err := c.Logon(testCtx(t)); !errors.Is(err, ErrNotConnected) {
		t.Fatal(err)
	}
	if err := c.Connect(testCtx(t), "bogus"); err == nil {
		t.Fatal("bad URI accepted")
	}
}

func TestSendAddsNoAcksAndDoesNotWait(t *testing.T) {
	fs := newFakeServer(t, func(fc *fakeConn, h *wire.Header, p []byte) {
		if h.Command == "sow_delete" {
			return // never answers: Send must not wait
		}
		defaultFakeHandler(fc, h, p)
	})
	c := connectFake(t, fs)
	if err := c.Send(Command{Name: CmdSowDelete, Topic: "Q", Bookmark: "1|2|"}); err != nil {
		t.Fatal(err)
	}
	h := fs.conn(0).nextHeader(t, "sow_delete")
	if h.AckType != "" || h.Bookmark != "1|2|" || h.CommandID == "" {
		t.Fatalf("header %+v", h)
	}
	if err := c.Send(Command{Name: CmdSubscribe, Topic: "T", AckType: "processed"}); err != nil {
		t.Fatal(err)
	}
	h = fs.conn(0).nextHeader(t, "subscribe")
	if h.AckType != "processed" || h.SubID != h.CommandID {
		t.Fatalf("header %+v", h)
	}
}
