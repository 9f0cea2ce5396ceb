package plugins

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"ampsflume/flume/agent"
	"ampsflume/flume/config"
)

// BenchmarkSeqMemoryNull measures the engine with the real components:
// seq → memory → null, batches of 1000, b.N events end to end.
func BenchmarkSeqMemoryNull(b *testing.B) {
	text := fmt.Sprintf(`a.sources = r
a.channels = c
a.sinks = k
a.sources.r.type = seq
a.sources.r.totalEvents = %d
a.sources.r.batchSize = 1000
a.sources.r.channels = c
a.channels.c.type = memory
a.channels.c.capacity = 100000
a.channels.c.transactionCapacity = 1000
a.sinks.k.type = null
a.sinks.k.batchSize = 1000
a.sinks.k.channel = c
`, b.N)
	p, err := config.Parse("bench.properties", []byte(text))
	if err != nil {
		b.Fatal(err)
	}
	cfg, probs := p.Agent("a", config.Options{})
	if probs.HasErrors() {
		b.Fatal(probs.Err())
	}
	ag := agent.New(agent.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	if err := ag.Start(context.Background(), cfg); err != nil {
		b.Fatal(err)
	}
	drained := func() float64 {
		for _, c := range ag.Gather() {
			if c.Type == "SINK" {
				for _, m := range c.Metrics {
					if m.Name == "EventDrainSuccessCount" {
						return m.Value
					}
				}
			}
		}
		return 0
	}
	for drained() < float64(b.N) {
		time.Sleep(time.Millisecond)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	ag.Stop()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "events/s")
}
