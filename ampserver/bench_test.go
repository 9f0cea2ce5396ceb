package ampserver

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"ampsflume/amps/wire"
)

// benchSubscriber counts deliveries on its own connection.
func benchSubscriber(b *testing.B, s *Server, filter string, count *atomic.Int64) {
	conn, err := net.Dial("tcp", s.TCPAddr().String())
	noErr(b, err)
	b.Cleanup(func() { conn.Close() })
	_, err = conn.Write(wire.AppendFrame(nil, &wire.Header{Command: "subscribe", CommandID: "s", Topic: "Orders", Filter: filter, AckType: "processed"}, nil))
	noErr(b, err)
	r := wire.NewReader(bufio.NewReaderSize(conn, 256<<10), 0)
	f, err := r.Next()
	noErr(b, err)
	var h wire.Header
	_, err = wire.ParseMessage(f, &h)
	require(b, err == nil && h.Status == "success", "subscribe: %+v %v", h, err)
	go func() {
		for {
			if _, err := r.Next(); err != nil {
				return
			}
			count.Add(1)
		}
	}()
}

func benchPubSub(b *testing.B, subs int, filter string) {
	benchPubSubWith(b, subs, func(int) string { return filter }, []string{"MSFT"}, subs)
}

// benchPubSubWith publishes messages whose symbols cycle through symbols
// to subs subscribers filtering with filter(i); each message is delivered
// perMsg times in all.
func benchPubSubWith(b *testing.B, subs int, filter func(i int) string, symbols []string, perMsg int) {
	cfg := ordersConfig("")
	cfg.SOW = nil // plain topic: measure routing, not the SOW
	s := startServer(b, cfg)
	var count atomic.Int64
	for i := 0; i < subs; i++ {
		benchSubscriber(b, s, filter(i), &count)
	}
	pub, err := net.Dial("tcp", s.TCPAddr().String())
	noErr(b, err)
	defer pub.Close()
	var batch []byte
	const perWrite = 64
	for i := 0; i < perWrite; i++ {
		payload := []byte(`{"order_key":12345,"symbol":"` + symbols[i%len(symbols)] + `","price":62.15,"qty":100,"side":"buy","trader":"t01"}`)
		batch = wire.AppendFrame(batch, &wire.Header{Command: "p", Topic: "Orders"}, payload)
	}
	want := int64(b.N * perMsg)
	b.ResetTimer()
	cpu0 := processCPU()
	start := time.Now()
	for sent := 0; sent < b.N; sent += perWrite {
		n := min(perWrite, b.N-sent)
		frameLen := len(batch) / perWrite
		_, err := pub.Write(batch[:n*frameLen])
		noErr(b, err)
	}
	deadline := time.Now().Add(time.Minute)
	for count.Load() < want {
		if time.Now().After(deadline) {
			b.Fatalf("delivered %d of %d", count.Load(), want)
		}
		time.Sleep(100 * time.Microsecond)
	}
	b.StopTimer()
	b.ReportMetric(float64(want)/time.Since(start).Seconds(), "delivered_msgs/s")
	// CPU time moves much less than wall time on a shared machine; it
	// includes the benchmark's raw-socket publisher and subscribers.
	if cpu := processCPU() - cpu0; cpu > 0 {
		b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
	}
}

func BenchmarkPubSub1x1(b *testing.B) { benchPubSub(b, 1, "") }

func BenchmarkPubSub1x10Filtered(b *testing.B) {
	benchPubSub(b, 10, "/qty > 50 AND /symbol = 'MSFT'")
}

// BenchmarkPubSub1x4Symbols is the server's part of the compare scenario
// fanout4: four subscribers with `/symbol = 'X'` filters, each message
// matching one of them.
func BenchmarkPubSub1x4Symbols(b *testing.B) {
	symbols := []string{"MSFT", "AAPL", "GOOG", "AMZN"}
	benchPubSubWith(b, 4, func(i int) string { return "/symbol = '" + symbols[i] + "'" }, symbols, 1)
}

func ExampleServer() {
	cfg := DefaultConfig() // one JSON TCP transport on an OS-chosen port
	cfg.SOW = []SOWTopicConfig{{Name: "Orders", MessageType: "json", Keys: []string{"/order_key"}}}
	s, err := New(cfg, WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	if err != nil {
		panic(err)
	}
	if err := s.Start(context.Background()); err != nil {
		panic(err)
	}
	defer s.Shutdown(context.Background())
	fmt.Println(s.TCPAddr() != nil)
	// Output: true
}
