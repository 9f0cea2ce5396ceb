package scenario

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"ampsflume/flume/agent"
	"ampsflume/flume/config"
	// The components of the pipeline register themselves.
	_ "ampsflume/channels/memory"
	_ "ampsflume/sinks/fileroll"
	_ "ampsflume/sources/amps"

	"github.com/redpanda-data/benthos/v4/public/service"

	_ "github.com/redpanda-data/benthos/v4/public/components/io"
	_ "github.com/redpanda-data/benthos/v4/public/components/pure"
)

func pipeline() *Scenario {
	return &Scenario{
		Name:     "pipeline",
		Title:    "Pipeline: broker → newline-delimited file",
		Ours:     "ampserver → AMPS source → memory channel → file_roll (in-process agent)",
		PeerDesc: "nats-server → Benthos v4 (NATS input, 500 K buffer) → file output",
		Target:   2.0,
		Unit:     "msg/s into the file",
		Full:     Params{N: 1_000_000, Window: 100_000},
		Short:    Params{N: 10_000, Window: 2_000},
		Run:      map[string]Side{Ours: oursPipeline, Peer: peerPipeline},
	}
}

// agentConfig is the in-process agent: the AMPS source, a memory channel
// and a file_roll sink that never rolls, in batches of 1000.
func agentConfig(uri, outDir string) string {
	return fmt.Sprintf(`a.sources = r
a.channels = c
a.sinks = k
a.sources.r.type = amps
a.sources.r.clientName = flume
a.sources.r.uri = %s
a.sources.r.topic = %s
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
`, uri, topic, outDir)
}

// ourPipeline is a server and an agent draining its topic into a file.
type ourPipeline struct {
	srv *ourServer
	ag  *agent.Agent
	out string
}

func startOurPipeline(ctx context.Context, dir string) (*ourPipeline, error) {
	srv, err := startOurs(ctx, "")
	if err != nil {
		return nil, err
	}
	out := filepath.Join(dir, "out")
	props, err := config.Parse("bench.properties", []byte(agentConfig(srv.uri, out)))
	if err != nil {
		srv.close()
		return nil, err
	}
	cfg, probs := props.Agent("a", config.Options{})
	if probs.HasErrors() {
		srv.close()
		return nil, probs.Err()
	}
	ag := agent.New(agent.Options{Logger: quiet})
	if err := ag.Start(ctx, cfg); err != nil {
		srv.close()
		return nil, err
	}
	op := &ourPipeline{srv: srv, ag: ag, out: out}
	if err := waitFor(ctx, time.Minute, "the source's subscription", func() bool { return srv.subscriptions("flume") > 0 }); err != nil {
		op.close()
		return nil, err
	}
	return op, nil
}

func (op *ourPipeline) close() {
	op.ag.Stop()
	op.srv.close()
}

func oursPipeline(ctx context.Context, p Params) (Result, error) {
	op, err := startOurPipeline(ctx, p.Dir)
	if err != nil {
		return Result{}, err
	}
	defer op.close()
	pub, err := op.srv.client(ctx, "pub")
	if err != nil {
		return Result{}, err
	}
	defer pub.Close()
	tctx, cancel := context.WithCancel(ctx)
	defer cancel()
	tl := newTailer(onlyFileIn(op.out), int64(p.N), false)
	go tl.run(tctx)
	w := window{max: int64(p.Window), received: tl.lines.Load}
	body := newPayload()
	t := startTimer()
	for i := int64(0); i < int64(p.N); i++ {
		if err := w.wait(ctx, i); err != nil {
			return Result{}, err
		}
		body.set(i, int(i%4))
		if err := pub.Publish(topic, body); err != nil {
			return Result{}, err
		}
	}
	if err := tl.wait(ctx, 5*time.Minute); err != nil {
		return Result{}, err
	}
	return t.result(tl.c.n, tl.c.bytes), nil
}

func peerPipeline(ctx context.Context, p Params) (Result, error) {
	srv, err := startPeer("", 0)
	if err != nil {
		return Result{}, err
	}
	defer srv.close()
	env := service.NewEnvironment()
	var stats natsInputStats
	if err := registerNATSInput(env, &stats); err != nil {
		return Result{}, err
	}
	out := filepath.Join(p.Dir, "out.txt")
	b := env.NewStreamBuilder()
	err = b.SetYAML(fmt.Sprintf(`
input:
  %s:
    url: %q
    subject: %q
output:
  file:
    path: %q
    codec: lines
logger:
  level: none
`, natsInputName, srv.url, subject, out))
	if err != nil {
		return Result{}, err
	}
	stream, err := b.Build()
	if err != nil {
		return Result{}, err
	}
	sctx, stop := context.WithCancel(ctx)
	defer stop()
	ran := make(chan error, 1)
	go func() { ran <- stream.Run(sctx) }()
	defer func() {
		stopCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = stream.Stop(stopCtx)
	}()
	if err := waitFor(ctx, time.Minute, "the NATS input's subscription", func() bool { return srv.srv.GlobalAccount().SubscriptionInterest(subject) }); err != nil {
		return Result{}, err
	}
	pub, err := srv.connect("pub")
	if err != nil {
		return Result{}, err
	}
	defer pub.Close()
	tctx, cancel := context.WithCancel(ctx)
	defer cancel()
	tl := newTailer(fixedPath(out), int64(p.N), false)
	go tl.run(tctx)
	w := window{max: int64(p.Window), received: tl.lines.Load}
	body := newPayload()
	t := startTimer()
	for i := int64(0); i < int64(p.N); i++ {
		if err := w.wait(ctx, i); err != nil {
			return Result{}, err
		}
		body.set(i, int(i%4))
		if err := pub.Publish(subject, body); err != nil {
			return Result{}, err
		}
	}
	if err := pub.Flush(); err != nil {
		return Result{}, err
	}
	if err := tl.wait(ctx, 5*time.Minute); err != nil {
		if n := stats.errs.Load(); n > 0 {
			err = fmt.Errorf("%w (%d NATS slow-consumer errors: messages dropped)", err, n)
		}
		return Result{}, err
	}
	r := t.result(tl.c.n, tl.c.bytes)
	if n := stats.errs.Load(); n > 0 {
		return Result{}, fmt.Errorf("NATS input reported %d errors", n)
	}
	select {
	case err := <-ran:
		return Result{}, fmt.Errorf("benthos stream ended early: %v", err)
	default:
	}
	return r, nil
}

func latency() *Scenario {
	return &Scenario{
		Name:   "latency",
		Title:  "Publish-to-file latency at 100 K msg/s (ours only)",
		Ours:   "ampserver → AMPS source → memory channel → file_roll",
		Target: 0, // reported against the p99 < 5 ms goal instead
		Unit:   "msg/s into the file",
		Full:   Params{Rate: 100_000, Length: 3 * time.Second},
		Short:  Params{Rate: 20_000, Length: 200 * time.Millisecond},
		Run:    map[string]Side{Ours: oursLatency},
	}
}

// oursLatency publishes at a steady rate with the publish time in each
// payload; the tailer measures when each line lands in the file.
func oursLatency(ctx context.Context, p Params) (Result, error) {
	n := int64(float64(p.Rate) * p.Length.Seconds())
	op, err := startOurPipeline(ctx, p.Dir)
	if err != nil {
		return Result{}, err
	}
	defer op.close()
	pub, err := op.srv.client(ctx, "pub")
	if err != nil {
		return Result{}, err
	}
	defer pub.Close()
	tctx, cancel := context.WithCancel(ctx)
	defer cancel()
	tl := newTailer(onlyFileIn(op.out), n, true)
	tl.lat = make([]time.Duration, 0, n)
	go tl.run(tctx)
	body := newPayload()
	// Drift-free pacing in ticks of 1 ms: message i is due at start + i/rate.
	t := startTimer()
	perTick := max(int64(p.Rate)/1000, 1)
	for i := int64(0); i < n; {
		due := t.start.Add(time.Duration(i) * time.Second / time.Duration(p.Rate))
		if d := time.Until(due); d > 0 {
			time.Sleep(d)
		}
		for k := int64(0); k < perTick && i < n; k++ {
			body.set(i, int(i%4))
			body.setTS(time.Now().UnixNano())
			if err := pub.Publish(topic, body); err != nil {
				return Result{}, err
			}
			i++
		}
	}
	if err := tl.wait(ctx, 5*time.Minute); err != nil {
		return Result{}, err
	}
	r := t.result(tl.c.n, tl.c.bytes)
	q := percentiles(tl.lat, 0.5, 0.99, 0.999, 1)
	r.Extra = map[string]float64{
		"p50_ms":  ms(q[0]),
		"p99_ms":  ms(q[1]),
		"p999_ms": ms(q[2]),
		"max_ms":  ms(q[3]),
	}
	return r, nil
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
