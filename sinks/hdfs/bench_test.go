package hdfs

import (
	"context"
	"strconv"
	"testing"

	"ampsflume/flume"
)

// BenchmarkSeqMemoryGzip: sequence-generator events (decimal bodies, no
// headers) through a memory channel into the sink on the local disk, gzip
// CompressedStream, 1000-event batches.
func BenchmarkSeqMemoryGzip(b *testing.B) {
	b.Run("seq", func(b *testing.B) { benchGzip(b, 0) })
	// The same numbers padded to 200-byte lines, closer to real log events.
	b.Run("200B", func(b *testing.B) { benchGzip(b, 199) })
}

func benchGzip(b *testing.B, pad int) {
	dir := b.TempDir()
	ch := newChannel(b)
	cfg, err := ParseConfig("k1", flume.MapContext(`sink "k1"`, map[string]string{
		"hdfs.path": "file://" + dir, "hdfs.fileType": "CompressedStream", "hdfs.codeC": "gzip",
		"hdfs.batchSize": "1000", "hdfs.rollInterval": "0", "hdfs.rollCount": "0", "hdfs.rollSize": "134217728",
	}))
	if err != nil {
		b.Fatal(err)
	}
	s, err := New("k1", cfg, ch, nil)
	if err != nil {
		b.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = s.Stop() })
	const batch = 1000
	var bytes int64
	next := int64(0)
	b.ResetTimer()
	for done := 0; done < b.N; {
		n := min(batch, b.N-done)
		events := make([]*flume.Event, n)
		for i := range events {
			body := strconv.AppendInt(nil, next, 10)
			for len(body) < pad {
				body = append(body, ' ')
			}
			events[i] = flume.NewEvent(body, nil)
			bytes += int64(len(events[i].Body)) + 1
			next++
		}
		putEvents(b, ch, events...)
		if _, err := s.Process(context.Background()); err != nil {
			b.Fatal(err)
		}
		done += n
	}
	if err := s.Stop(); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	if got := s.Counter().EventDrainSuccess.Load(); got != int64(b.N) {
		b.Fatalf("drained %d of %d", got, b.N)
	}
	sec := b.Elapsed().Seconds()
	b.ReportMetric(float64(b.N)/sec, "events/s")
	b.ReportMetric(float64(bytes)/sec/1e6, "MB/s")
}
