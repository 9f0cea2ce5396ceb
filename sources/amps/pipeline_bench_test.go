package amps

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	_ "ampsflume/channels/memory"
	"ampsflume/flume/agent"
	"ampsflume/flume/config"
	_ "ampsflume/sinks/fileroll"
)

// genFeed hands out n generated 100-byte messages as fast as the source
// reads them (Next) or takes them (Run, which the source uses), then blocks
// until closed. Bodies are carved from 16 KiB blocks
// the way the AMPS client carves its payload copies, so the feed itself
// costs what the client's delivery does, not an allocation per message.
type genFeed struct {
	n, sent int
	m       Message
	block   []byte
	closed  chan struct{}
}

func (f *genFeed) Next(ctx context.Context) (*Message, error) {
	if f.sent == f.n {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-f.closed:
			return nil, fmt.Errorf("feed closed")
		}
	}
	const size = 100
	if len(f.block) < size {
		f.block = make([]byte, 16<<10)
	}
	body := f.block[:size:size]
	f.block = f.block[size:]
	copy(body, benchTemplate)
	for i, v := size-1, f.sent; i >= size-10; i-- {
		body[i] = byte('0' + v%10)
		v /= 10
	}
	f.sent++
	f.m = Message{Command: "publish", Topic: "Orders", SubID: "s1", Data: body}
	return &f.m, nil
}

// Run pushes the same messages the way the default feed does: each one lent
// for the call, its body in a buffer reused for the next (the client's read
// buffer), so the source's copy is the only one.
func (f *genFeed) Run(ctx context.Context, handle func(*Message)) error {
	const size = 100
	body := make([]byte, size)
	copy(body, benchTemplate)
	for ; f.sent < f.n; f.sent++ {
		for i, v := size-1, f.sent; i >= size-10; i-- {
			body[i] = byte('0' + v%10)
			v /= 10
		}
		f.m = Message{Command: "publish", Topic: "Orders", SubID: "s1", Data: body}
		handle(&f.m)
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-f.closed:
		return fmt.Errorf("feed closed")
	}
}

func (f *genFeed) Close() error { close(f.closed); return nil }

var benchTemplate = bytes.Repeat([]byte{'x'}, 100)

var benchFeeds atomic.Pointer[genFeed]

func init() {
	RegisterClientFactory("bench-generated", func(context.Context, ClientConfig) (Feed, error) {
		return benchFeeds.Load(), nil
	})
}

// BenchmarkAgentPipeline runs the agent path of the compare "pipeline"
// scenario without a server: this source (fed by a generator) → memory
// channel → file_roll, batches of 1000, in a real agent with its runners.
// One op is one event written to the file; allocs/op is per event.
func BenchmarkAgentPipeline(b *testing.B) {
	out := b.TempDir()
	props, err := config.Parse("bench.properties", []byte(fmt.Sprintf(`a.sources = r
a.channels = c
a.sinks = k
a.sources.r.type = amps
a.sources.r.clientFactoryClass = bench-generated
a.sources.r.clientName = bench
a.sources.r.uri = tcp://127.0.0.1:1/amps/json
a.sources.r.topic = Orders
a.sources.r.maxBatch = 1000
a.sources.r.channels = c
a.channels.c.type = memory
a.channels.c.capacity = 100000
a.channels.c.transactionCapacity = 1000
a.sinks.k.type = file_roll
a.sinks.k.channel = c
a.sinks.k.sink.directory = %s
a.sinks.k.sink.rollInterval = 0
a.sinks.k.sink.batchSize = 1000
`, out)))
	if err != nil {
		b.Fatal(err)
	}
	cfg, probs := props.Agent("a", config.Options{})
	if probs.HasErrors() {
		b.Fatal(probs.Err())
	}
	benchFeeds.Store(&genFeed{n: b.N, closed: make(chan struct{})})
	ag := agent.New(agent.Options{Logger: quietLog})
	b.ReportAllocs()
	b.ResetTimer()
	if err := ag.Start(context.Background(), cfg); err != nil {
		b.Fatal(err)
	}
	want := int64(b.N) * 101 // text serializer: body and newline
	for {
		m, _ := filepath.Glob(filepath.Join(out, "*"))
		if len(m) == 1 {
			if fi, err := os.Stat(m[0]); err == nil && fi.Size() >= want {
				break
			}
		}
		time.Sleep(time.Millisecond)
	}
	b.StopTimer()
	ag.Stop()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
