package ampserver

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"ampsflume/amps/wire"
)

func TestSOWPersistsAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	cfg := ordersConfig(dir)
	s, err := New(cfg, WithLogger(quietLogger()))
	noErr(t, err)
	noErr(t, s.Start(context.Background()))
	c := dial(t, s.TCPAddr())
	c.logon("p")
	publishOrders(t, c, 5)
	c.send(wire.Header{Command: "p", Topic: "Orders"}, `{"order_key":2,"qty":99}`)
	c.send(wire.Header{Command: "sow_delete", CommandID: "d", Topic: "Orders", Filter: "/order_key = 4", AckType: "stats"}, "")
	c.expectAck("stats", "success")
	before, _ := c.query(wire.Header{Topic: "Orders", OrderBy: "/order_key"})
	noErr(t, s.Shutdown(context.Background()))
	c.expectClosed()
	_, err = os.Stat(filepath.Join(dir, "Orders.sow"))
	noErr(t, err)

	// A torn final entry (a crash mid-write) is dropped on open.
	f, err := os.OpenFile(filepath.Join(dir, "Orders.sow"), os.O_APPEND|os.O_WRONLY, 0)
	noErr(t, err)
	_, err = f.Write(appendEntry(nil, opPut, "123", "ts", []byte(`{"order_key":77}`))[:10])
	noErr(t, err)
	noErr(t, f.Close())

	s2 := startServer(t, ordersConfig(dir))
	c2 := dial(t, s2.TCPAddr())
	c2.logon("p")
	after, _ := c2.query(wire.Header{Topic: "Orders", OrderBy: "/order_key"})
	require(t, len(after) == 4 && recData(after) == recData(before), "before:\n%s\nafter:\n%s", recData(before), recData(after))
	for i := range after {
		require(t, after[i].h.SowKey == before[i].h.SowKey, "key changed")
	}
}

// fakeClock is a manually advanced Clock.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*fakeTimer
}

type fakeTimer struct {
	c       *fakeClock
	at      time.Time
	f       func()
	stopped bool
}

func (t *fakeTimer) Stop() bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	was := !t.stopped
	t.stopped = true
	return was
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) AfterFunc(d time.Duration, f func()) Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &fakeTimer{c: c, at: c.now.Add(d), f: f}
	c.timers = append(c.timers, t)
	return t
}

// Advance moves time on and runs the timers that came due, in order.
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	var due []*fakeTimer
	keep := c.timers[:0]
	for _, t := range c.timers {
		if t.stopped {
			continue
		}
		if !t.at.After(c.now) {
			t.stopped = true
			due = append(due, t)
		} else {
			keep = append(keep, t)
		}
	}
	c.timers = keep
	c.mu.Unlock()
	for _, t := range due {
		t.f()
	}
}

func (c *fakeClock) pending() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, t := range c.timers {
		if !t.stopped {
			n++
		}
	}
	return n
}

func TestHeartbeat(t *testing.T) {
	clk := &fakeClock{now: time.Unix(1_700_000_000, 0)}
	s := startServer(t, ordersConfig(""), WithClock(clk))
	c := dial(t, s.TCPAddr())
	c.logon("hb")
	c.send(wire.Header{Command: "heartbeat", CommandID: "h", Options: "start,5", AckType: "received"}, "")
	c.expectAck("received", "success")
	waitFor(t, "heartbeat timer", func() bool { return clk.pending() == 1 })
	clk.Advance(5 * time.Second)
	require(t, c.recv().h.Command == "heartbeat", "want heartbeat")
	// The client beats: it stays connected.
	c.send(wire.Header{Command: "heartbeat", Options: "beat"}, "")
	c.send(wire.Header{Command: "flush", CommandID: "f", AckType: "processed"}, "")
	c.expectAck("processed", "success")
	clk.Advance(5 * time.Second)
	require(t, c.recv().h.Command == "heartbeat", "want heartbeat")
	clk.Advance(5 * time.Second)
	require(t, c.recv().h.Command == "heartbeat", "want heartbeat (silent 10s is not yet 2x past a beat at 5s)")
	// Silent for 2×N: disconnected.
	clk.Advance(5 * time.Second)
	c.expectClosed()
}

func TestMalformedInputClosesOnlyThatConnection(t *testing.T) {
	s := startServer(t, ordersConfig(""))
	good := dial(t, s.TCPAddr())
	good.logon("good")
	good.send(wire.Header{Command: "subscribe", CommandID: "s", Topic: "T", AckType: "processed"}, "")
	good.expectAck("processed", "success")
	oversize := make([]byte, 4)
	binary.BigEndian.PutUint32(oversize, 0xfffffff0)
	cases := map[string][]byte{
		"random bytes":     []byte("\x00\x00\x00\x08garbage!"),
		"oversize length":  oversize,
		"truncated header": wire.AppendFrame(nil, &wire.Header{Command: "p"}, nil)[:8],
		"bad header":       append([]byte{0, 0, 0, 5}, `{"c":`...),
		"unknown command":  wire.AppendFrame(nil, &wire.Header{Command: "explode", CommandID: "x"}, nil),
	}
	for name, b := range cases {
		t.Run(name, func(t *testing.T) {
			conn, err := net.Dial("tcp", s.TCPAddr().String())
			noErr(t, err)
			bad := newRawClient(t, conn)
			_, err = conn.Write(b)
			noErr(t, err)
			if name == "truncated header" {
				conn.(*net.TCPConn).CloseWrite()
			}
			bad.expectClosed()
			good.send(wire.Header{Command: "p", Topic: "T"}, name)
			m := good.recv()
			require(t, string(m.payload) == name, "good client got %q", m.payload)
		})
	}
}

func TestSlowConsumerDisconnected(t *testing.T) {
	cfg := ordersConfig("")
	cfg.MaxOutboundBytes = 256 << 10
	s := startServer(t, cfg)
	// The slow client subscribes and never reads.
	slow, err := net.Dial("tcp", s.TCPAddr().String())
	noErr(t, err)
	t.Cleanup(func() { slow.Close() })
	slow.(*net.TCPConn).SetReadBuffer(4096)
	_, err = slow.Write(wire.AppendFrame(nil, &wire.Header{Command: "subscribe", SubID: "s", Topic: "T"}, nil))
	noErr(t, err)
	waitFor(t, "subscription", func() bool { return len(s.subs.Load().subs) == 1 })
	pub := dial(t, s.TCPAddr())
	pub.logon("pub")
	payload := string(bytes.Repeat([]byte("x"), 4000))
	maxQueued := 0
	for i := 0; len(s.Status().Clients) == 2; i++ {
		require(t, i < 100000, "slow consumer never disconnected")
		pub.send(wire.Header{Command: "p", Topic: "T"}, payload)
		if i%16 == 0 {
			pub.send(wire.Header{Command: "flush", CommandID: fmt.Sprint(i), AckType: "processed"}, "")
			pub.expectAck("processed", "success")
			for _, c := range s.Status().Clients {
				maxQueued = max(maxQueued, c.QueuedBytes)
			}
		}
	}
	require(t, maxQueued <= cfg.MaxOutboundBytes, "queue reached %d > limit %d", maxQueued, cfg.MaxOutboundBytes)
	require(t, maxQueued > 0, "queue never grew")
	// The publisher is unaffected.
	pub.send(wire.Header{Command: "flush", CommandID: "last", AckType: "processed"}, "")
	pub.expectAck("processed", "success")
}

func TestSOWFileCompacts(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.sow")
	st, err := openFileStore(path)
	noErr(t, err)
	for i := 0; i < 20000; i++ {
		_, _, err := st.put(fmt.Sprint(i%10), "ts", []byte(fmt.Sprintf(`{"v":%d}`, i)))
		noErr(t, err)
	}
	noErr(t, st.close())
	fi, err := os.Stat(path)
	noErr(t, err)
	// Uncompacted, 20000 entries of about 24 bytes would be ~480KB.
	require(t, fi.Size() < 150000, "file not compacted: %d bytes", fi.Size())
	st2, err := openFileStore(path)
	noErr(t, err)
	defer st2.close()
	require(t, len(st2.records) == 10 && string(st2.records["3"].data) == `{"v":19993}`, "records %d", len(st2.records))
}
