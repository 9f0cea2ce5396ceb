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
	cfg := ordersConfig("")
	cfg.SOW = nil // plain topic: measure routing, not the SOW
	s := startServer(b, cfg)
	var count atomic.Int64
	for i := 0; i < subs; i++ {
		benchSubscriber(b, s, filter, &count)
	}
	pub, err := net.Dial("tcp", s.TCPAddr().String())
	noErr(b, err)
	defer pub.Close()
	payload := []byte(`{"order_key":12345,"symbol":"MSFT","price":62.15,"qty":100,"side":"buy","trader":"t01"}`)
	var batch []byte
	const perWrite = 64
	for i := 0; i < perWrite; i++ {
		batch = wire.AppendFrame(batch, &wire.Header{Command: "p", Topic: "Orders"}, payload)
	}
	want := int64(b.N * subs)
	b.ResetTimer()
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
}

func BenchmarkPubSub1x1(b *testing.B) { benchPubSub(b, 1, "") }

func BenchmarkPubSub1x10Filtered(b *testing.B) {
	benchPubSub(b, 10, "/qty > 50 AND /symbol = 'MSFT'")
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
