package kafka

import (
	"context"
	"strconv"
	"testing"

	"github.com/twmb/franz-go/pkg/kfake"

	"ampsflume/flume"
)

// BenchmarkSeqMemoryKafka measures seq-like events (decimal bodies, no
// headers) moving from a memory channel through the sink into an in-process
// kfake broker, in batches of 1000 with acks=1. It reports events/s.
func BenchmarkSeqMemoryKafka(b *testing.B) {
	for _, format := range []string{"body", "flume-event"} {
		b.Run(format, func(b *testing.B) {
			c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, DefaultTopic))
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			const batch = 1000
			ch := memChannel(b, 10*batch)
			s := newSink(b, c, ch, map[string]string{
				"flumeBatchSize": strconv.Itoa(batch), "useFlumeEventFormat": strconv.FormatBool(format == "flume-event"),
			})
			events := make([]*flume.Event, batch)
			ctx := context.Background()
			b.ResetTimer()
			for done := 0; done < b.N; done += batch {
				b.StopTimer()
				for i := range events {
					events[i] = flume.NewEvent([]byte(strconv.Itoa(done+i)), nil)
				}
				put(b, ch, events...)
				b.StartTimer()
				if _, err := s.Process(ctx); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}
