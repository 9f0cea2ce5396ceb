package ampserver

import (
	"bufio"
	"fmt"
	"net"
	"testing"
	"time"

	"ampsflume/amps/wire"
)

// benchSOWPublish publishes b.N messages over 10,000 keys of a transient
// SOW topic through one connection and waits for the last to be processed.
// ttl configures the topic's expiration; e is each publish's `e` header.
func benchSOWPublish(b *testing.B, ttl time.Duration, enabled bool, e string) {
	cfg := ordersConfig("")
	cfg.SOW[0].Expiration, cfg.SOW[0].ExpirationEnabled = ttl, enabled
	s := startServer(b, cfg)
	conn, err := net.Dial("tcp", s.TCPAddr().String())
	noErr(b, err)
	b.Cleanup(func() { conn.Close() })
	const keys = 10000
	frames := make([][]byte, keys)
	for i := range frames {
		frames[i] = wire.AppendFrame(nil, &wire.Header{Command: "p", Topic: "Orders", Expiration: e},
			fmt.Appendf(nil, `{"order_key":%d,"symbol":"MSFT","price":62.15,"qty":100}`, i))
	}
	flush := wire.AppendFrame(nil, &wire.Header{Command: "flush", CommandID: "f", AckType: "processed"}, nil)
	r := wire.NewReader(bufio.NewReader(conn), 0)
	w := bufio.NewWriterSize(conn, 64<<10)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		_, err := w.Write(frames[i%keys])
		noErr(b, err)
	}
	_, err = w.Write(flush)
	noErr(b, err)
	noErr(b, w.Flush())
	for {
		f, err := r.Next()
		noErr(b, err)
		var h wire.Header
		_, err = wire.ParseMessage(f, &h)
		noErr(b, err)
		if h.Command == "ack" && h.CommandID == "f" {
			break
		}
	}
}

func BenchmarkSOWPublish(b *testing.B) {
	b.Run("expiration=disabled", func(b *testing.B) { benchSOWPublish(b, 0, false, "") })
	b.Run("expiration=30s", func(b *testing.B) { benchSOWPublish(b, 30*time.Second, true, "") })
	b.Run("expiration=30s,e=60", func(b *testing.B) { benchSOWPublish(b, 30*time.Second, true, "60") })
}

// BenchmarkExpiryHeap: an update moves the key's entry in the heap; the
// heap holds one entry per key.
func BenchmarkExpiryHeap(b *testing.B) {
	x := expiry{byKey: map[string]*expEntry{}}
	const keys = 100000
	names := make([]string, keys)
	for i := range names {
		names[i] = fmt.Sprint(i)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		x.set(names[i%keys], int64(i+1))
	}
	b.StopTimer()
	require(b, len(x.heap) == min(b.N, keys), "heap %d entries", len(x.heap))
}
