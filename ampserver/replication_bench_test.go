package ampserver

import (
	"fmt"
	"testing"

	"ampsflume/amps"
)

// BenchmarkReplicatedPublish measures persisted publishes (each with `s`
// and a persisted ack; the benchmark waits for the last ack) on one
// instance alone and on the first instance of a pair replicating sync or
// async, over loopback.
func BenchmarkReplicatedPublish(b *testing.B) {
	for _, mode := range []string{"alone", "async", "sync"} {
		b.Run(mode, func(b *testing.B) {
			var s *Server
			if mode == "alone" {
				s = startServer(b, journalConfig(b.TempDir()))
			} else {
				replA, replB := freePort(b), freePort(b)
				s = startServer(b, replicaConfig(b.TempDir(), "A", replA, mode, map[string]string{"B": replB}))
				startServer(b, replicaConfig(b.TempDir(), "B", replB, mode, map[string]string{"A": replA}))
				linkUp(b, s)
			}
			c := ampsClient(b, s, "bench")
			acked := make(chan uint64, 1024)
			c.OnPersisted(func(seq uint64) {
				for { // keep the latest: the last ack must not be dropped
					select {
					case acked <- seq:
						return
					default:
						select {
						case <-acked:
						default:
						}
					}
				}
			})
			data := make([][]byte, 1000)
			for i := range data {
				data[i] = []byte(fmt.Sprintf(`{"order_key":%d,"symbol":"IBM","price":100.5,"qty":%d}`, i, i))
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				noErr(b, c.Send(amps.Command{Name: amps.CmdPublish, Topic: "Orders", Seq: uint64(i + 1), HasSeq: true,
					AckType: "persisted", Data: data[i%len(data)]}))
			}
			waitSeq(b, acked, uint64(b.N))
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
		})
	}
}
