package amps

import (
	"bufio"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"ampsflume/amps/wire"
)

// fakeServer speaks raw frames on loopback so the client's routing, error
// mapping and back-pressure can be tested message by message. Each accepted
// connection calls handle for every inbound frame; the default handler
// acknowledges logon and whatever acks a command asks for.
type fakeServer struct {
	t      *testing.T
	ln     net.Listener
	handle func(fc *fakeConn, h *wire.Header, payload []byte)

	mu    sync.Mutex
	conns []*fakeConn
	wg    sync.WaitGroup
}

type fakeConn struct {
	nc       net.Conn
	wmu      sync.Mutex
	received chan wire.Header // every inbound header, for assertions
	written  atomic.Int64
}

func newFakeServer(t *testing.T, handle func(fc *fakeConn, h *wire.Header, payload []byte)) *fakeServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	fs := &fakeServer{t: t, ln: ln, handle: handle}
	if fs.handle == nil {
		fs.handle = defaultFakeHandler
	}
	fs.wg.Add(1)
	go fs.accept()
	t.Cleanup(fs.close)
	return fs
}

func (fs *fakeServer) uri() string { return "tcp://" + fs.ln.Addr().String() + "/amps/json" }

func (fs *fakeServer) accept() {
	defer fs.wg.Done()
	for {
		nc, err := fs.ln.Accept()
		if err != nil {
			return
		}
		fc := &fakeConn{nc: nc, received: make(chan wire.Header, 4096)}
		fs.mu.Lock()
		fs.conns = append(fs.conns, fc)
		fs.mu.Unlock()
		fs.wg.Add(1)
		go func() {
			defer fs.wg.Done()
			defer nc.Close()
			rd := wire.NewReader(bufio.NewReader(nc), 0)
			for {
				frame, err := rd.Next()
				if err != nil {
					return
				}
				var h wire.Header
				payload, err := wire.ParseMessage(frame, &h)
				if err != nil {
					return
				}
				select {
				case fc.received <- h:
				default:
				}
				fs.handle(fc, &h, append([]byte(nil), payload...))
			}
		}()
	}
}

// conn returns the i-th accepted connection, waiting for it.
func (fs *fakeServer) conn(i int) *fakeConn {
	var fc *fakeConn
	waitFor(fs.t, func() bool {
		fs.mu.Lock()
		defer fs.mu.Unlock()
		if len(fs.conns) > i {
			fc = fs.conns[i]
			return true
		}
		return false
	})
	return fc
}

func (fs *fakeServer) close() {
	_ = fs.ln.Close()
	fs.mu.Lock()
	for _, fc := range fs.conns {
		_ = fc.nc.Close()
	}
	fs.mu.Unlock()
	fs.wg.Wait()
}

func (fc *fakeConn) send(h *wire.Header, payload []byte) error {
	fc.wmu.Lock()
	defer fc.wmu.Unlock()
	b := wire.AppendFrame(nil, h, payload)
	n, err := fc.nc.Write(b)
	fc.written.Add(int64(n))
	return err
}

// ack answers every ack type a command asked for.
func (fc *fakeConn) ackAll(h *wire.Header, status, reason string, stats *wire.Header) {
	for _, a := range splitList(h.AckType) {
		ack := wire.Header{Command: "ack", CommandID: h.CommandID, AckType: a, Status: status,
			Reason: reason, SubID: h.SubID, QueryID: h.QueryID}
		if a == AckStats && stats != nil {
			ack.HasStats = true
			ack.RecordsDeleted = stats.RecordsDeleted
			ack.RecordsReturned = stats.RecordsReturned
		}
		_ = fc.send(&ack, nil)
	}
}

func splitList(s string) []string {
	var out []string
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == ',' {
			if i > start {
				out = append(out, s[start:i])
			}
			start = i + 1
		}
	}
	return out
}

func defaultFakeHandler(fc *fakeConn, h *wire.Header, payload []byte) {
	switch h.Command {
	case "logon":
		_ = fc.send(&wire.Header{Command: "ack", CommandID: h.CommandID, AckType: "processed",
			Status: "success", Version: "5.3.4.0", ClientName: h.ClientName, Seq: 42, HasSeq: true,
			Bookmark: "123|42|"}, nil)
	case "heartbeat", "p", "publish":
	default:
		fc.ackAll(h, "success", "", nil)
	}
}

// waitFor polls cond until it holds or a generous deadline passes.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met before the deadline")
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// nextHeader returns the next header the fake received whose command is cmd.
func (fc *fakeConn) nextHeader(t *testing.T, cmd string) wire.Header {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case h := <-fc.received:
			if h.Command == cmd {
				return h
			}
		case <-timeout:
			t.Fatalf("no %s command received", cmd)
		}
	}
}
