package ampserver

import (
	"bufio"
	"fmt"
	"net"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"ampsflume/amps/wire"
)

// aggBenchProjection is the case: AVG, SUM, MIN and MAX per group.
const aggBenchProjection = "projection=[/g,AVG(/p) AS /avg,SUM(/q) AS /sum,MIN(/p) AS /min,MAX(/p) AS /max],grouping=[/g]"

// BenchmarkAggregatedPublish measures publishes replacing records of a SOW
// topic through the server (TCP, parse, SOW, fan-out) with an open
// aggregated subscription and, for comparison, with no subscription and
// with a plain subscription receiving every record. The run ends when the
// last publish is acknowledged as processed and every update has reached
// the subscriber (each publish keeps its record in its group, so it
// produces one update). The subscriber reads in the same process, so
// publishes/cpu-s includes its reading.
func BenchmarkAggregatedPublish(b *testing.B) {
	for _, c := range []struct {
		records, groups int
		sub             string
	}{
		{100_000, 1_000, "none"},
		{100_000, 1_000, "plain"},
		{100_000, 1_000, "aggregated"},
	} {
		name := fmt.Sprintf("records=%d/groups=%d/sub=%s", c.records, c.groups, c.sub)
		b.Run(name, func(b *testing.B) { benchAggregatedPublish(b, c.records, c.groups, c.sub) })
	}
}

// aggBenchDoc is record k's document; v varies the aggregated values.
func aggBenchDoc(b []byte, k, groups, v int) []byte {
	b = append(b, `{"order_key":`...)
	b = strconv.AppendInt(b, int64(k), 10)
	b = append(b, `,"g":`...)
	b = strconv.AppendInt(b, int64(k%groups), 10)
	b = append(b, `,"p":`...)
	b = strconv.AppendInt(b, int64(v%997), 10)
	b = append(b, `.25,"q":`...)
	b = strconv.AppendInt(b, int64(v%13), 10)
	return append(b, '}')
}

// aggBenchPublisher writes publish frames in batches and waits for the
// processed ack of the last one.
type aggBenchPublisher struct {
	b    *testing.B
	conn net.Conn
	r    *wire.Reader
	buf  []byte
	doc  []byte
	acks int
}

func (p *aggBenchPublisher) publish(k, groups, v int, ack bool) {
	p.doc = aggBenchDoc(p.doc[:0], k, groups, v)
	h := wire.Header{Command: "p", Topic: "Orders"}
	if ack {
		p.acks++
		h.CommandID = "a" + strconv.Itoa(p.acks)
		h.AckType = "processed"
	}
	p.buf = wire.AppendFrame(p.buf, &h, p.doc)
	if ack || len(p.buf) > 64<<10 {
		_, err := p.conn.Write(p.buf)
		noErr(p.b, err)
		p.buf = p.buf[:0]
	}
	if !ack {
		return
	}
	for {
		f, err := p.r.Next()
		noErr(p.b, err)
		var rh wire.Header
		_, err = wire.ParseMessage(f, &rh)
		noErr(p.b, err)
		if rh.Command == "ack" && rh.CommandID == h.CommandID {
			require(p.b, rh.Status == "success", "publish ack: %+v", rh)
			return
		}
	}
}

func benchAggregatedPublish(b *testing.B, records, groups int, sub string) {
	s := startServer(b, ordersConfig(""))
	conn, err := net.Dial("tcp", s.TCPAddr().String())
	noErr(b, err)
	b.Cleanup(func() { conn.Close() })
	pub := &aggBenchPublisher{b: b, conn: conn, r: wire.NewReader(bufio.NewReader(conn), 0)}
	for k := 0; k < records; k++ {
		pub.publish(k, groups, k, k == records-1)
	}
	var updates atomic.Int64
	switch sub {
	case "plain":
		benchAggregatedSubscriber(b, s, "", &updates)
	case "aggregated":
		benchAggregatedSubscriber(b, s, aggBenchProjection, &updates)
	}
	b.ReportAllocs()
	cpu0 := aggBenchCPUTime()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		k := (i * 7919) % records
		pub.publish(k, groups, i+records, i == b.N-1)
	}
	if sub != "none" {
		deadline := time.Now().Add(time.Minute)
		for updates.Load() < int64(b.N) {
			if time.Now().After(deadline) {
				b.Fatalf("subscriber received %d of %d updates", updates.Load(), b.N)
			}
			time.Sleep(100 * time.Microsecond)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "publishes/s")
	// On a shared machine wall time includes waiting for a core; the
	// process's CPU time gives the cost per CPU-second.
	if cpu := aggBenchCPUTime() - cpu0; cpu > 0 {
		b.ReportMetric(float64(b.N)/cpu.Seconds(), "publishes/cpu-s")
	}
}

func aggBenchCPUTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchAggregatedSubscriber opens a sow_and_subscribe with options (the
// aggregation, or none), reads its query part and counts the updates that
// follow.
func benchAggregatedSubscriber(b *testing.B, s *Server, options string, updates *atomic.Int64) {
	conn, err := net.Dial("tcp", s.TCPAddr().String())
	noErr(b, err)
	b.Cleanup(func() { conn.Close() })
	_, err = conn.Write(wire.AppendFrame(nil, &wire.Header{Command: "sow_and_subscribe", CommandID: "s", SubID: "s",
		Topic: "Orders", Options: options, AckType: "processed"}, nil))
	noErr(b, err)
	r := wire.NewReader(bufio.NewReaderSize(conn, 256<<10), 0)
	queried := 0
	for done := false; !done; {
		f, err := r.Next()
		noErr(b, err)
		var h wire.Header
		_, err = wire.ParseMessage(f, &h)
		noErr(b, err)
		switch h.Command {
		case "ack":
			require(b, h.Status == "success", "subscribe: %+v", h)
		case "sow":
			queried++
		case "group_end":
			done = true
		}
	}
	require(b, queried >= 1, "the query part returned no group")
	go func() {
		for {
			f, err := r.Next()
			if err != nil {
				return
			}
			var h wire.Header
			if _, err := wire.ParseMessage(f, &h); err == nil && h.Command == "p" {
				updates.Add(1)
			}
		}
	}()
}
