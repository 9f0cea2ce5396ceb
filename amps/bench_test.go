package amps

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"ampsflume/amps/wire"
)

// The benchmarks below measure the client's own receive and publish paths
// against a loopback peer that does as little as possible: it answers logon
// and the subscribe, then writes pre-encoded delivery frames (receive), or
// only counts frames (publish). Besides ns/op they report the process's CPU
// time per message (cpu-ns/msg, from getrusage), which includes the peer's
// small share but, unlike wall time, not the waiting.

// benchPayload is the size of the fan-out benchmarks' JSON documents.
var benchPayload = []byte(`{"order_key":12345,"symbol":"MSFT","price":62.15,"qty":100,"side":"buy","trader":"t01","n":000000}`)

// deliveryFrames returns n distinct frames shaped as ampserver writes a
// delivery: bookmark and timestamp change with every message.
func deliveryFrames(n int, subID string) []byte {
	var out []byte
	for i := 0; i < n; i++ {
		h := wire.Header{Command: "p", Topic: "bench", SubID: subID, SubIDs: subID,
			Bookmark:  fmt.Sprintf("17643421|%d|", 1000000+i),
			Timestamp: fmt.Sprintf("20261127T111630.%06dZ", i)}
		out = wire.AppendFrame(out, &h, benchPayload)
	}
	return out
}

// benchPeer is the loopback server of the benchmarks.
type benchPeer struct {
	ln     net.Listener
	frames atomic.Int64 // frames read from the client
	// onSubscribe is called, on the peer's goroutine, after the subscribe
	// was acknowledged.
	onSubscribe func(nc net.Conn, subID string)
	done        chan struct{}
}

func newBenchPeer(b *testing.B, onSubscribe func(nc net.Conn, subID string)) *benchPeer {
	b.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	p := &benchPeer{ln: ln, onSubscribe: onSubscribe, done: make(chan struct{})}
	go p.serve()
	b.Cleanup(func() {
		_ = ln.Close()
		<-p.done
	})
	return p
}

func (p *benchPeer) serve() {
	defer close(p.done)
	nc, err := p.ln.Accept()
	if err != nil {
		return
	}
	defer nc.Close()
	rd := wire.NewReader(bufio.NewReaderSize(nc, 64<<10), 0)
	var h wire.Header
	var strs wire.Arena // the peer's own cost stays out of allocs/op
	for {
		frame, err := rd.Next()
		if err != nil {
			return
		}
		p.frames.Add(1)
		if _, err := strs.ParseMessage(frame, &h); err != nil {
			return
		}
		switch h.Command {
		case "logon", "subscribe", "flush":
			ack := wire.Header{Command: "ack", CommandID: h.CommandID, AckType: "processed", Status: "success", SubID: h.SubID}
			if _, err := nc.Write(wire.AppendFrame(nil, &ack, nil)); err != nil {
				return
			}
			if h.Command == "subscribe" && p.onSubscribe != nil {
				go p.onSubscribe(nc, h.SubID)
			}
		}
	}
}

func benchClient(b *testing.B, p *benchPeer) *Client {
	b.Helper()
	c := NewClient("bench")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := c.Connect(ctx, "tcp://"+p.ln.Addr().String()+"/amps/json"); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = c.Close() })
	if _, err := c.Logon(ctx); err != nil {
		b.Fatal(err)
	}
	return c
}

// streamDeliveries writes n delivery frames to nc, 64 KiB at a time.
func streamDeliveries(nc net.Conn, subID string, n int) {
	const distinct = 1024
	frames := deliveryFrames(distinct, subID)
	per := len(frames) / distinct
	const chunk = 64 << 10
	for n > 0 {
		k := min(n, distinct, chunk/per)
		if _, err := nc.Write(frames[:k*per]); err != nil {
			return
		}
		n -= k
	}
}

func cpuNow() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func reportCPU(b *testing.B, start time.Duration) {
	b.ReportMetric(float64(cpuNow()-start)/float64(b.N), "cpu-ns/msg")
}

// BenchmarkReceiveHandler is a subscription whose handler keeps nothing
// (the fan-out subscribers).
func BenchmarkReceiveHandler(b *testing.B) { benchReceiveHandler(b, (*Client).ExecuteHandler) }

// BenchmarkReceiveHandlerBorrowed is the same handler lent its messages.
func BenchmarkReceiveHandlerBorrowed(b *testing.B) {
	benchReceiveHandler(b, (*Client).ExecuteHandlerBorrowed)
}

func benchReceiveHandler(b *testing.B, execute func(*Client, context.Context, Command, func(*Message)) (string, error)) {
	n := b.N
	p := newBenchPeer(b, func(nc net.Conn, subID string) { streamDeliveries(nc, subID, n) })
	c := benchClient(b, p)
	var got atomic.Int64
	done := make(chan struct{})
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cpuNow()
	_, err := execute(c, context.Background(), Command{Name: CmdSubscribe, Topic: "bench"}, func(m *Message) {
		if len(m.Data) != len(benchPayload) || m.Bookmark == "" {
			panic("bad delivery")
		}
		if got.Add(1) == int64(n) {
			close(done)
		}
	})
	if err != nil {
		b.Fatal(err)
	}
	<-done
	b.StopTimer()
	reportCPU(b, cpu)
}

// BenchmarkReceiveStream is a subscription read through its MessageStream
// on another goroutine (the AMPS source of the agent).
func BenchmarkReceiveStream(b *testing.B) {
	n := b.N
	p := newBenchPeer(b, func(nc net.Conn, subID string) { streamDeliveries(nc, subID, n) })
	c := benchClient(b, p)
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cpuNow()
	ctx := context.Background()
	s, err := c.Subscribe(ctx, "bench", "")
	if err != nil {
		b.Fatal(err)
	}
	for i := 0; i < n; i++ {
		m, err := s.Next(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if len(m.Data) != len(benchPayload) {
			b.Fatalf("payload of %d bytes", len(m.Data))
		}
	}
	b.StopTimer()
	reportCPU(b, cpu)
}

// BenchmarkPublish is a publisher: b.N publishes, then a flush so that every
// frame was written and read by the peer.
func BenchmarkPublish(b *testing.B) {
	p := newBenchPeer(b, nil)
	c := benchClient(b, p)
	ctx := context.Background()
	base := p.frames.Load()
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cpuNow()
	for i := 0; i < b.N; i++ {
		if err := c.Publish("bench", benchPayload); err != nil {
			b.Fatal(err)
		}
	}
	if err := c.Flush(ctx); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	reportCPU(b, cpu)
	if got := p.frames.Load() - base; got != int64(b.N)+1 {
		b.Fatalf("peer read %d frames, want %d", got, b.N+1)
	}
}

// BenchmarkReceiveHA is an HA subscription read through Next on another
// goroutine (how the AMPS source read until it took lent deliveries).
func BenchmarkReceiveHA(b *testing.B) {
	n := b.N
	h, start := benchHA(b, n)
	s, err := h.Subscribe(Command{Name: CmdSubscribe, Topic: "bench"}, nil)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	cpu := start()
	for i := 0; i < n; i++ {
		m, err := s.Next(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if len(m.Data) != len(benchPayload) || m.Bookmark == "" {
			b.Fatalf("bad delivery %+v", m)
		}
	}
	b.StopTimer()
	reportCPU(b, cpu)
}

// BenchmarkReceiveHABorrowed is the same subscription lent to a handler
// (SubscribeBorrowed, what the AMPS source uses).
func BenchmarkReceiveHABorrowed(b *testing.B) {
	n := b.N
	h, start := benchHA(b, n)
	var got atomic.Int64
	done := make(chan struct{})
	_, err := h.SubscribeBorrowed(Command{Name: CmdSubscribe, Topic: "bench"}, nil, func(m *Message) {
		if len(m.Data) != len(benchPayload) || m.Bookmark == "" {
			panic("bad delivery")
		}
		if got.Add(1) == int64(n) {
			close(done)
		}
	})
	if err != nil {
		b.Fatal(err)
	}
	cpu := start()
	<-done
	b.StopTimer()
	reportCPU(b, cpu)
}

// benchHA returns an HA client of a peer that streams n deliveries once
// subscribed; start starts it and the timer, and returns the CPU time.
func benchHA(b *testing.B, n int) (*HAClient, func() time.Duration) {
	p := newBenchPeer(b, func(nc net.Conn, subID string) { streamDeliveries(nc, subID, n) })
	h := NewHAClient("bench", NewDefaultServerChooser("tcp://"+p.ln.Addr().String()+"/amps/json"), nil)
	b.Cleanup(func() { _ = h.Close() })
	return h, func() time.Duration {
		b.ReportAllocs()
		b.ResetTimer()
		cpu := cpuNow()
		h.Start(context.Background())
		return cpu
	}
}
