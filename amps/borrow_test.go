package amps

import (
	"bytes"
	"fmt"
	"sync"
	"testing"

	"ampsflume/amps/wire"
)

// TestBorrowedHandler checks ExecuteHandlerBorrowed: every delivery arrives
// once and in order with its own payload and header; Message structs are
// reused between deliveries while header strings kept by the handler stay
// valid; a delivery that also matches another subscription is a private
// copy; acks asked for by the command still arrive.
func TestBorrowedHandler(t *testing.T) {
	subs := make(chan wire.Header, 8)
	fs := newFakeServer(t, func(fc *fakeConn, h *wire.Header, p []byte) {
		defaultFakeHandler(fc, h, p)
		if h.Command == "subscribe" {
			subs <- *h
		}
	})
	c := connectFake(t, fs)
	ctx := testCtx(t)

	const n = 300 // several Message blocks and payload blocks
	type seen struct {
		ptr      *Message
		data     string
		bookmark string // kept past the call: must stay valid
		command  string
	}
	var mu sync.Mutex
	var got []seen
	done := make(chan struct{})
	subID, err := c.ExecuteHandlerBorrowed(ctx, Command{Name: CmdSubscribe, Topic: "T"}, func(m *Message) {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, seen{ptr: m, data: string(m.Data), bookmark: m.Bookmark, command: m.Command})
		if len(got) == n+1 {
			close(done)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	other, err := c.Subscribe(ctx, "U", "")
	if err != nil {
		t.Fatal(err)
	}
	if h := <-subs; h.SubID != subID {
		t.Fatalf("subscribe header %+v, sub id %q", h, subID)
	}
	otherID := (<-subs).SubID

	fc := fs.conn(0)
	var batch []byte
	for i := 0; i < n; i++ {
		h := wire.Header{Command: "p", Topic: "T", SubID: subID, SubIDs: subID,
			Bookmark: fmt.Sprintf("1|%d|", i), Timestamp: fmt.Sprintf("20260101T000000.%06dZ", i)}
		batch = wire.AppendFrame(batch, &h, []byte(fmt.Sprintf(`{"n":%d}`, i)))
	}
	// One delivery for both subscriptions: both get it, and the stream's
	// copy must not change when the borrowed handler's buffer is reused.
	shared := wire.Header{Command: "p", Topic: "T", SubIDs: subID + "," + otherID, Bookmark: "1|shared|"}
	batch = wire.AppendFrame(batch, &shared, []byte(`{"shared":true}`))
	fc.wmu.Lock()
	_, err = fc.nc.Write(batch)
	fc.wmu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	m, err := other.Next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	<-done
	// More traffic for the borrowed handler reuses the read buffer.
	for i := 0; i < 3; i++ {
		_ = fc.send(&wire.Header{Command: "p", Topic: "T", SubID: subID}, bytes.Repeat([]byte("x"), 64))
	}
	waitFor(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(got) == n+4 })
	if string(m.Data) != `{"shared":true}` || m.Bookmark != "1|shared|" {
		t.Fatalf("copy for the other subscription: %q %q", m.Data, m.Bookmark)
	}

	mu.Lock()
	defer mu.Unlock()
	ptrs := map[*Message]bool{}
	for i, s := range got[:n] {
		ptrs[s.ptr] = true
		if want := fmt.Sprintf(`{"n":%d}`, i); s.data != want {
			t.Fatalf("delivery %d: data %q, want %q", i, s.data, want)
		}
		if want := fmt.Sprintf("1|%d|", i); s.bookmark != want {
			t.Fatalf("delivery %d: kept bookmark %q, want %q", i, s.bookmark, want)
		}
		if s.command != MsgPublish {
			t.Fatalf("delivery %d: command %q", i, s.command)
		}
	}
	if len(ptrs) > 2 {
		t.Fatalf("%d distinct Messages for %d lent deliveries, want them reused", len(ptrs), n)
	}
	if got[n].data != `{"shared":true}` {
		t.Fatalf("shared delivery: %q", got[n].data)
	}
}
