package ampserver

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"ampsflume/amps/wire"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func require(t testing.TB, cond bool, format string, args ...any) {
	t.Helper()
	if !cond {
		t.Fatalf(format, args...)
	}
}

func noErr(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func quietLogger() *slog.Logger {
	if os.Getenv("AMPSERVER_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// ordersConfig is a server with a SOW topic Orders keyed by /order_key.
func ordersConfig(dir string) *Config {
	cfg := DefaultConfig()
	sc := SOWTopicConfig{Name: "Orders", MessageType: "json", Keys: []string{"/order_key"}}
	if dir != "" {
		sc.FileName = dir + "/%n.sow"
	}
	cfg.SOW = []SOWTopicConfig{sc, {Name: "Other", MessageType: "json", Keys: []string{"/id"}}}
	return cfg
}

func startServer(t testing.TB, cfg *Config, opts ...Option) *Server {
	t.Helper()
	s, err := New(cfg, append([]Option{WithLogger(quietLogger())}, opts...)...)
	noErr(t, err)
	noErr(t, s.Start(context.Background()))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		noErr(t, s.Shutdown(ctx))
	})
	return s
}

// msg is a message received by the test client.
type msg struct {
	h       wire.Header
	payload []byte
	records []rec // for sow frames
}

type rec struct {
	h    wire.Header
	data string
}

// rawClient is a minimal frame-level client for the tests.
type rawClient struct {
	t    testing.TB
	conn net.Conn
	mu   sync.Mutex
	in   chan msg
	err  chan error
	cid  int
}

func dial(t testing.TB, addr net.Addr) *rawClient {
	t.Helper()
	conn, err := net.Dial("tcp", addr.String())
	noErr(t, err)
	return newRawClient(t, conn)
}

func newRawClient(t testing.TB, conn net.Conn) *rawClient {
	c := &rawClient{t: t, conn: conn, in: make(chan msg, 100000), err: make(chan error, 1)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		r := wire.NewReader(bufio.NewReader(conn), 0)
		for {
			f, err := r.Next()
			if err != nil {
				c.err <- err
				close(c.in)
				return
			}
			var m msg
			p, err := wire.ParseMessage(f, &m.h)
			if err != nil {
				c.err <- err
				close(c.in)
				return
			}
			m.payload = append([]byte(nil), p...)
			if m.h.Command == "sow" {
				wire.ForEachRecord(m.payload, func(h *wire.Header, data []byte) error {
					m.records = append(m.records, rec{*h, string(data)})
					return nil
				})
			}
			c.in <- m
		}
	}()
	t.Cleanup(func() { conn.Close(); <-done })
	return c
}

func (c *rawClient) send(h wire.Header, payload string) {
	c.t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	_, err := c.conn.Write(wire.AppendFrame(nil, &h, []byte(payload)))
	noErr(c.t, err)
}

// trySend is send for goroutines other than the test's.
func (c *rawClient) trySend(h wire.Header, payload string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, err := c.conn.Write(wire.AppendFrame(nil, &h, []byte(payload)))
	return err
}

func (c *rawClient) nextCID() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.cid++
	return fmt.Sprint(c.cid)
}

// recv returns the next message, failing the test after a deadline.
func (c *rawClient) recv() msg {
	c.t.Helper()
	select {
	case m, ok := <-c.in:
		if !ok {
			c.t.Fatalf("connection closed: %v", <-c.err)
		}
		return m
	case <-time.After(10 * time.Second):
		c.t.Fatal("timed out waiting for a message")
	}
	return msg{}
}

// expectClosed waits until the server closes the connection.
func (c *rawClient) expectClosed() {
	c.t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case _, ok := <-c.in:
			if !ok {
				return
			}
		case <-deadline:
			c.t.Fatal("connection not closed")
		}
	}
}

func (c *rawClient) logon(name string) msg {
	c.t.Helper()
	c.send(wire.Header{Command: "logon", CommandID: c.nextCID(), ClientName: name, AckType: "processed", Version: "5.3.4.0:go"}, "")
	m := c.recv()
	require(c.t, m.h.Command == "ack" && m.h.Status == "success", "logon: %+v", m.h)
	return m
}

// expectAck reads the next message and checks it is an ack of typ with status.
func (c *rawClient) expectAck(typ, status string) wire.Header {
	c.t.Helper()
	m := c.recv()
	require(c.t, m.h.Command == "ack" && m.h.AckType == typ && m.h.Status == status,
		"want %s/%s ack, got %+v", typ, status, m.h)
	return m.h
}

// query runs a sow query and returns its records.
func (c *rawClient) query(h wire.Header) ([]rec, wire.Header) {
	c.t.Helper()
	h.Command = "sow"
	h.CommandID = c.nextCID()
	h.AckType = "processed,completed,stats"
	c.send(h, "")
	c.expectAck("processed", "success")
	return c.readGroup(h.CommandID)
}

func (c *rawClient) readGroup(qid string) ([]rec, wire.Header) {
	c.t.Helper()
	m := c.recv()
	require(c.t, m.h.Command == "group_begin", "want group_begin, got %+v", m.h)
	var recs []rec
	for {
		m = c.recv()
		if m.h.Command == "group_end" {
			break
		}
		require(c.t, m.h.Command == "sow" && m.h.QueryID == qid, "want sow, got %+v", m.h)
		require(c.t, m.h.BatchSize == len(m.records), "bs %d, %d records", m.h.BatchSize, len(m.records))
		recs = append(recs, m.records...)
	}
	var stats wire.Header
	for {
		m = c.recv()
		if m.h.AckType == "stats" {
			stats = m.h
			break
		}
		require(c.t, m.h.AckType == "completed", "want completed ack, got %+v", m.h)
	}
	return recs, stats
}

func recData(recs []rec) string {
	var b strings.Builder
	for _, r := range recs {
		b.WriteString(r.data)
		b.WriteByte('\n')
	}
	return b.String()
}
