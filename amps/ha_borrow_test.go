package amps

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"ampsflume/ampserver"
	"ampsflume/internal/poll"
)

// TestHABorrowedSubscription checks SubscribeBorrowed across a server
// restart: the handler gets every message once and in order (the
// resubscription starts at the bookmark it returns), a handler that blocks
// loses nothing while the server keeps publishing, and the Message is lent
// (reused) while the header strings kept stay valid.
func TestHABorrowedSubscription(t *testing.T) {
	dir := t.TempDir()
	cfg := ampserver.DefaultConfig()
	cfg.TransactionLog = &ampserver.TransactionLogConfig{JournalDirectory: dir, FlushInterval: time.Millisecond,
		Topics: []ampserver.TopicRef{{Name: "T", MessageType: "json"}}}
	newServer := func(addr string) *ampserver.Server {
		c := *cfg
		c.Transports = []ampserver.TransportConfig{{Name: "t", Type: "tcp", InetAddr: addr, Protocol: "amps", MessageType: "json"}}
		s, err := ampserver.New(&c, ampserver.WithLogger(slog.New(slog.DiscardHandler)))
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		return s
	}
	shutdown := func(s *ampserver.Server) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Error(err)
		}
	}
	srv := newServer("127.0.0.1:0")
	addr := srv.TCPAddr().String()
	uri := "tcp://" + addr + "/amps/json"
	ctx := testCtx(t)

	var (
		mu        sync.Mutex
		got       []string
		bookmarks []string
		lent      = map[*Message]bool{}
	)
	gate := make(chan struct{}) // the handler blocks on the first message until closed
	resume := func() string {
		mu.Lock()
		defer mu.Unlock()
		if len(bookmarks) == 0 {
			return "0"
		}
		return bookmarks[len(bookmarks)-1]
	}
	h := NewHAClient("ha-borrow", NewDefaultServerChooser(uri),
		[]HAOption{WithDelayStrategy(&ExponentialDelay{Initial: 10 * time.Millisecond, Max: 50 * time.Millisecond, Factor: 2})})
	sub, err := h.SubscribeBorrowed(Command{Name: CmdSubscribe, Topic: "T", SubID: "s"}, resume, func(m *Message) {
		if m.Command != MsgPublish {
			return
		}
		mu.Lock()
		first := len(got) == 0
		got = append(got, string(m.Data))
		bookmarks = append(bookmarks, m.Bookmark)
		lent[m] = true
		mu.Unlock()
		if first {
			<-gate
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sub.Next(ctx); err == nil {
		t.Fatal("Next on a handler subscription did not fail")
	}
	h.Start(ctx)
	t.Cleanup(func() {
		h.Close()
		select {
		case <-sub.Done():
		default:
			t.Error("subscription not ended by Close")
		}
		if !errors.Is(sub.Err(), ErrClosed) {
			t.Errorf("after Close: %v", sub.Err())
		}
	})
	count := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(got)
	}
	publishRange := func(from, to int) {
		c := NewClient(fmt.Sprintf("pub-%d", from))
		defer c.Close()
		if err := c.Connect(ctx, uri); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Logon(ctx); err != nil {
			t.Fatal(err)
		}
		for i := from; i < to; i++ {
			if err := c.Publish("T", []byte(fmt.Sprintf(`{"n":%d}`, i))); err != nil {
				t.Fatal(err)
			}
		}
		if err := c.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}

	// The first delivery blocks the handler while 2000 more are published:
	// far more than the socket buffers hold when the reader stalls.
	poll.Until(t, 10*time.Second, func() error {
		if !h.State().Connected {
			return errors.New("not connected")
		}
		return nil
	})
	publishRange(0, 2000)
	poll.Until(t, 10*time.Second, func() error {
		if count() == 0 {
			return errors.New("first message not delivered")
		}
		return nil
	})
	if n := count(); n != 1 {
		t.Fatalf("%d deliveries while the handler was blocked", n)
	}
	close(gate)
	poll.Until(t, 20*time.Second, func() error {
		if n := count(); n < 2000 {
			return fmt.Errorf("%d of 2000 before the restart", n)
		}
		return nil
	})

	shutdown(srv)
	srv = newServer(addr)
	t.Cleanup(func() { shutdown(srv) })
	poll.Until(t, 10*time.Second, func() error {
		if st := h.State(); !st.Connected || st.Reconnects != 1 {
			return fmt.Errorf("state %+v", st)
		}
		return nil
	})
	publishRange(2000, 2500)
	poll.Until(t, 20*time.Second, func() error {
		if n := count(); n < 2500 {
			return fmt.Errorf("%d of 2500", n)
		}
		return nil
	})

	mu.Lock()
	defer mu.Unlock()
	if len(got) != 2500 {
		t.Fatalf("%d messages, want 2500 (duplicates?)", len(got))
	}
	for i, d := range got {
		if want := fmt.Sprintf(`{"n":%d}`, i); d != want {
			t.Fatalf("message %d is %s, want %s", i, d, want)
		}
	}
	seen := map[string]bool{}
	for i, b := range bookmarks {
		if b == "" || seen[b] {
			t.Fatalf("message %d: bookmark %q empty or repeated (kept header strings must stay valid)", i, b)
		}
		seen[b] = true
	}
	if len(lent) > 10 { // reused, save when an ack took the spare
		t.Fatalf("%d distinct Messages for 2500 lent deliveries", len(lent))
	}
}

// TestHABorrowedSow checks that a handler subscription to a sow query ends
// with io.EOF once the query completed, after every record.
func TestHABorrowedSow(t *testing.T) {
	_, uri := ordersServer(t)
	ctx := testCtx(t)
	pub := logon(t, uri, "pub")
	for i := 0; i < 25; i++ {
		if err := pub.Publish("Orders", order(i, "IBM", 1, 1)); err != nil {
			t.Fatal(err)
		}
	}
	if err := pub.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	h := NewHAClient("ha-sow", NewDefaultServerChooser(uri), nil)
	var records int // written by the handler, read after Done
	sub, err := h.SubscribeBorrowed(Command{Name: CmdSow, Topic: "Orders"}, nil, func(m *Message) {
		if m.Command == MsgSow {
			records++
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	h.Start(ctx)
	t.Cleanup(func() { h.Close() })
	select {
	case <-sub.Done():
	case <-ctx.Done():
		t.Fatal("sow subscription did not end")
	}
	if !errors.Is(sub.Err(), io.EOF) {
		t.Fatalf("ended with %v, want io.EOF", sub.Err())
	}
	if records != 25 {
		t.Fatalf("%d records, want 25", records)
	}
}
