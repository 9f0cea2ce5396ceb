package avrorpc

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/hamba/avro/v2"
	"go.uber.org/goleak"

	"ampsflume/flume"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// recorder is a Handler that stores what it receives and answers status.
type recorder struct {
	mu      sync.Mutex
	events  []*flume.Event
	batches int
	status  Status
}

func (r *recorder) Append(_ context.Context, events []*flume.Event, batch bool) Status {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.status == OK {
		r.events = append(r.events, events...)
	}
	if batch {
		r.batches++
	}
	return r.status
}

func (r *recorder) got() []*flume.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*flume.Event(nil), r.events...)
}

func serve(t *testing.T, h Handler, cfg ServerConfig) (addr string, s *Server) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s = NewServer(h, cfg)
	done := make(chan error, 1)
	go func() { done <- s.Serve(ln) }()
	t.Cleanup(func() {
		if err := s.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
			t.Errorf("Close: %v", err)
		}
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return ln.Addr().String(), s
}

func dial(t *testing.T, addr string, cfg ClientConfig) *Client {
	t.Helper()
	c, err := Dial(context.Background(), addr, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func events(n int) []*flume.Event {
	out := make([]*flume.Event, n)
	for i := range out {
		out[i] = flume.NewEvent([]byte("body-"+strconv.Itoa(i)), map[string]string{"seq": strconv.Itoa(i), "empty": ""})
	}
	return out
}

func TestRoundTrip(t *testing.T) {
	for _, deflate := range []bool{false, true} {
		t.Run(fmt.Sprintf("deflate=%v", deflate), func(t *testing.T) {
			rec := &recorder{}
			addr, _ := serve(t, rec, ServerConfig{Deflate: deflate})
			c := dial(t, addr, ClientConfig{Deflate: deflate, DeflateLevel: 9})
			want := events(250)
			ctx := context.Background()
			for i := 0; i < 200; i += 50 {
				st, err := c.AppendBatch(ctx, want[i:i+50])
				if err != nil || st != OK {
					t.Fatalf("AppendBatch = %v, %v", st, err)
				}
			}
			for _, e := range want[200:] {
				if st, err := c.Append(ctx, e); err != nil || st != OK {
					t.Fatalf("Append = %v, %v", st, err)
				}
			}
			got := rec.got()
			if len(got) != len(want) {
				t.Fatalf("got %d events, want %d", len(got), len(want))
			}
			for i := range want {
				if !bytes.Equal(got[i].Body, want[i].Body) || got[i].Headers["seq"] != want[i].Headers["seq"] ||
					len(got[i].Headers) != 2 {
					t.Fatalf("event %d = %+v, want %+v", i, got[i], want[i])
				}
			}
			if rec.batches != 4 {
				t.Fatalf("batches = %d, want 4", rec.batches)
			}
		})
	}
}

func TestFailedStatus(t *testing.T) {
	rec := &recorder{status: Failed}
	addr, _ := serve(t, rec, ServerConfig{})
	c := dial(t, addr, ClientConfig{})
	st, err := c.AppendBatch(context.Background(), events(3))
	if err != nil || st != Failed {
		t.Fatalf("AppendBatch = %v, %v; want FAILED", st, err)
	}
}

// rawCall sends one frame and returns the response message.
func rawCall(t *testing.T, conn net.Conn, serial int32, msg []byte) []byte {
	t.Helper()
	if _, err := conn.Write(AppendFrame(nil, serial, msg)); err != nil {
		t.Fatal(err)
	}
	s, resp, err := ReadFrame(conn, 0)
	if err != nil {
		t.Fatal(err)
	}
	if s != serial {
		t.Fatalf("serial %d, want %d", s, serial)
	}
	return resp
}

func encode(t *testing.T, fn func(w *avro.Writer)) []byte {
	t.Helper()
	e := newEncoder()
	fn(e.w)
	b, err := e.bytes()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestHandshakeUnknownClient plays a client whose protocol hash the server
// does not know (as a Java client whose JSON differs in spacing): it is asked
// for its protocol text (NONE), then accepted (CLIENT, since it also guessed
// the server's hash wrong), and later calls carry no handshake.
func TestHandshakeUnknownClient(t *testing.T) {
	rec := &recorder{}
	addr, _ := serve(t, rec, ServerConfig{})
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	other := [16]byte{1, 2, 3}
	call := func(w *avro.Writer) { writeCall(w, events(1), true) }

	resp := rawCall(t, conn, 1, encode(t, func(w *avro.Writer) {
		w.WriteVal(handshakeRequestSchema, handshakeRequest{ClientHash: other, ServerHash: other})
		call(w)
	}))
	r := newReader(resp)
	var hr handshakeResponse
	r.ReadVal(handshakeResponseSchema, &hr)
	if r.Error != nil || hr.Match != matchNone || hr.ServerHash == nil || *hr.ServerHash != ProtocolHash ||
		hr.ServerProtocol == nil || *hr.ServerProtocol != ProtocolJSON || !atEnd(r) {
		t.Fatalf("first handshake response = %+v (err %v), want NONE with the server protocol only", hr, r.Error)
	}
	if n := len(rec.got()); n != 0 {
		t.Fatalf("call after a NONE handshake was handled (%d events)", n)
	}

	spaced := "{ " + ProtocolJSON[1:]
	resp = rawCall(t, conn, 2, encode(t, func(w *avro.Writer) {
		w.WriteVal(handshakeRequestSchema, handshakeRequest{ClientHash: other, ClientProtocol: &spaced, ServerHash: other})
		call(w)
	}))
	r = newReader(resp)
	r.ReadVal(handshakeResponseSchema, &hr)
	if r.Error != nil || hr.Match != matchClient {
		t.Fatalf("second handshake response = %+v (err %v), want CLIENT", hr, r.Error)
	}
	if st, err := readResult(r); err != nil || st != OK {
		t.Fatalf("result = %v, %v", st, err)
	}

	resp = rawCall(t, conn, 3, encode(t, call))
	if st, err := readResult(newReader(resp)); err != nil || st != OK {
		t.Fatalf("established call result = %v, %v", st, err)
	}
	if n := len(rec.got()); n != 2 {
		t.Fatalf("handled %d events, want 2", n)
	}

	resp = rawCall(t, conn, 4, encode(t, func(w *avro.Writer) {
		w.WriteLong(0)
		w.WriteString("ping")
	}))
	var re *RemoteError
	if _, err := readResult(newReader(resp)); !errors.As(err, &re) {
		t.Fatalf("unknown message: err = %v, want a RemoteError", err)
	}
}

// TestMalformedFrameClosesConnection checks that garbage closes only the
// offending connection.
func TestMalformedFrameClosesConnection(t *testing.T) {
	rec := &recorder{}
	var bad sync.WaitGroup
	bad.Add(1)
	addr, _ := serve(t, rec, ServerConfig{OnBadRequest: func(error) { bad.Done() }})
	good := dial(t, addr, ClientConfig{})
	if st, err := good.Append(context.Background(), events(1)[0]); err != nil || st != OK {
		t.Fatalf("Append = %v, %v", st, err)
	}
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var hdr [8]byte
	binary.BigEndian.PutUint32(hdr[:4], 1)
	binary.BigEndian.PutUint32(hdr[4:], 0xFFFFFFFF) // negative buffer count
	conn.Write(hdr[:])
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := conn.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
		t.Fatalf("read after a malformed frame: %v, want EOF", err)
	}
	bad.Wait()
	if st, err := good.Append(context.Background(), events(1)[0]); err != nil || st != OK {
		t.Fatalf("other connection after the malformed frame: %v, %v", st, err)
	}
}

func TestRequestTimeout(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err == nil {
			accepted <- c
		}
		close(accepted)
	}()
	c := dial(t, ln.Addr().String(), ClientConfig{RequestTimeout: 50 * time.Millisecond})
	_, err = c.AppendBatch(context.Background(), events(1))
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("call to a silent server: err = %v, want a timeout", err)
	}
	if sc := <-accepted; sc != nil {
		sc.Close()
	}
}

func TestEventRoundTrip(t *testing.T) {
	cases := []*flume.Event{
		flume.NewEvent(nil, nil),
		flume.NewEvent([]byte("x"), map[string]string{"a": "1", "b": ""}),
		flume.NewEvent(bytes.Repeat([]byte{0xff}, 5000), map[string]string{"ü": "ß"}),
	}
	for i, e := range cases {
		b, err := MarshalEvent(e)
		if err != nil {
			t.Fatal(err)
		}
		got, err := UnmarshalEvent(b)
		if err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		if !bytes.Equal(got.Body, e.Body) || len(got.Headers) != len(e.Headers) || got.Headers == nil {
			t.Fatalf("case %d: got %+v, want %+v", i, got, e)
		}
		for k, v := range e.Headers {
			if got.Headers[k] != v {
				t.Fatalf("case %d: header %q = %q, want %q", i, k, got.Headers[k], v)
			}
		}
		if _, err := UnmarshalEvent(append(b, 0)); err == nil {
			t.Fatalf("case %d: trailing byte accepted", i)
		}
		if len(b) > 1 {
			if _, err := UnmarshalEvent(b[:len(b)-1]); err == nil {
				t.Fatalf("case %d: truncated event accepted", i)
			}
		}
	}
	// The encoding is the plain Avro binary of the record.
	b, _ := MarshalEvent(flume.NewEvent([]byte("hi"), map[string]string{"k": "v"}))
	want := []byte{2, 2, 'k', 2, 'v', 0, 4, 'h', 'i'}
	if !bytes.Equal(b, want) {
		t.Fatalf("encoding = %v, want %v", b, want)
	}
}

func TestStatusString(t *testing.T) {
	for st, want := range map[Status]string{OK: "OK", Failed: "FAILED", Unknown: "UNKNOWN", 7: "Status(7)"} {
		if st.String() != want {
			t.Errorf("%d.String() = %q, want %q", int(st), st.String(), want)
		}
	}
}

func FuzzReadFrame(f *testing.F) {
	f.Add(AppendFrame(nil, 7, []byte("hello")))
	f.Add([]byte{0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 1, 'a', 0, 0, 0, 0})
	f.Add([]byte{0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		serial, msg, err := ReadFrame(bytes.NewReader(b), 1<<16)
		if err != nil {
			return
		}
		// A frame that parses re-encodes to a frame with the same content.
		s2, m2, err := ReadFrame(bytes.NewReader(AppendFrame(nil, serial, msg)), 1<<16)
		if err != nil || s2 != serial || !bytes.Equal(m2, msg) {
			t.Fatalf("re-read = %d, %q, %v", s2, m2, err)
		}
	})
}

// FuzzRequest feeds arbitrary request messages to the server-side decoders:
// they must fail cleanly, never panic or allocate without bound.
func FuzzRequest(f *testing.F) {
	e := newEncoder()
	e.w.WriteVal(handshakeRequestSchema, handshakeRequest{ClientHash: ProtocolHash, ServerHash: ProtocolHash})
	writeCall(e.w, events(2), false)
	b, _ := e.bytes()
	f.Add(b)
	f.Add([]byte{0, 0x0c, 'a', 'p', 'p', 'e', 'n', 'd'})
	f.Fuzz(func(t *testing.T, b []byte) {
		r := newReader(b)
		var req handshakeRequest
		r.ReadVal(handshakeRequestSchema, &req)
		if r.Error != nil {
			r = newReader(b)
		}
		_, _, _ = readCall(r)
		_, _ = UnmarshalEvent(b)
		_, _ = readResult(newReader(b))
	})
}
