package scenario

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"ampsflume/amps"

	"github.com/nats-io/nats.go"
)

func fanout1() *Scenario {
	return &Scenario{
		Name:     "fanout1",
		Title:    "Fan-out, 1 pub → 1 sub, 100-byte JSON",
		Ours:     "embedded ampserver + amps client",
		PeerDesc: "embedded nats-server + nats.go",
		Target:   1.0,
		Unit:     "msg/s delivered",
		Full:     Params{N: 2_000_000, Window: 200_000},
		Short:    Params{N: 20_000, Window: 5_000},
		Run: map[string]Side{
			Ours: func(ctx context.Context, p Params) (Result, error) { return oursFanout(ctx, p, 1) },
			Peer: func(ctx context.Context, p Params) (Result, error) { return peerFanout(ctx, p, 1) },
		},
	}
}

func fanout4() *Scenario {
	return &Scenario{
		Name:     "fanout4",
		Title:    "Fan-out, 1 pub → 4 subs, each matching ¼",
		Ours:     "ampserver, 4 content filters /symbol = 'X'",
		PeerDesc: "nats-server, 4 subjects (publisher routes by symbol)",
		Target:   1.0,
		Unit:     "msg/s delivered (total)",
		Full:     Params{N: 2_000_000, Window: 200_000},
		Short:    Params{N: 20_000, Window: 5_000},
		Run: map[string]Side{
			Ours: func(ctx context.Context, p Params) (Result, error) { return oursFanout(ctx, p, 4) },
			Peer: func(ctx context.Context, p Params) (Result, error) { return peerFanout(ctx, p, 4) },
		},
	}
}

// fanoutSink counts what the subscribers of one run received.
type fanoutSink struct {
	want      int64
	delivered atomic.Int64
	done      chan struct{}
	once      sync.Once
	counters  []*counter
}

func newFanoutSink(n, subs int) *fanoutSink {
	f := &fanoutSink{want: int64(n), done: make(chan struct{})}
	for i := 0; i < subs; i++ {
		if subs == 1 {
			f.counters = append(f.counters, newCounter(-1, 1))
		} else {
			f.counters = append(f.counters, newCounter(i, int64(subs)))
		}
	}
	return f
}

// add is called on subscriber i's delivery goroutine.
func (f *fanoutSink) add(i int, body []byte) {
	f.counters[i].add(body)
	if f.delivered.Add(1) == f.want {
		f.once.Do(func() { close(f.done) })
	}
}

func (f *fanoutSink) wait(ctx context.Context, d time.Duration) error {
	select {
	case <-f.done:
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return fmt.Errorf("timed out: delivered %d of %d", f.delivered.Load(), f.want)
	}
	return nil
}

// check verifies every subscriber got its whole share, in order.
func (f *fanoutSink) check() (count, bytes int64, err error) {
	share := f.want / int64(len(f.counters))
	for i, c := range f.counters {
		if c.invalid != nil {
			return 0, 0, fmt.Errorf("subscriber %d: %w", i, c.invalid)
		}
		if err := expect(c.n, share, fmt.Sprintf("subscriber %d", i)); err != nil {
			return 0, 0, err
		}
		count += c.n
		bytes += c.bytes
	}
	return count, bytes, nil
}

func oursFanout(ctx context.Context, p Params, subs int) (Result, error) {
	if p.N%subs != 0 {
		return Result{}, fmt.Errorf("N=%d must be a multiple of %d", p.N, subs)
	}
	srv, err := startOurs(ctx, "")
	if err != nil {
		return Result{}, err
	}
	defer srv.close()
	sink := newFanoutSink(p.N, subs)
	for i := 0; i < subs; i++ {
		c, err := srv.client(ctx, fmt.Sprintf("sub%d", i))
		if err != nil {
			return Result{}, err
		}
		defer c.Close()
		cmd := amps.Command{Name: amps.CmdSubscribe, Topic: topic}
		if subs > 1 {
			cmd.Filter = fmt.Sprintf("/symbol = '%s'", Symbols[i])
		}
		// The handler checks each body and keeps nothing, so it takes the
		// client's borrowed delivery (no Message or payload copy per
		// message), as a user's high-rate handler would.
		if _, err := c.ExecuteHandlerBorrowed(ctx, cmd, func(m *amps.Message) { sink.add(i, m.Data) }); err != nil {
			return Result{}, err
		}
	}
	pub, err := srv.client(ctx, "pub")
	if err != nil {
		return Result{}, err
	}
	defer pub.Close()
	w := window{max: int64(p.Window), received: sink.delivered.Load}
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
	if err := sink.wait(ctx, 5*time.Minute); err != nil {
		return Result{}, err
	}
	r := t.result(0, 0)
	r.Count, r.Bytes, err = sink.check()
	return r, err
}

func peerFanout(ctx context.Context, p Params, subs int) (Result, error) {
	if p.N%subs != 0 {
		return Result{}, fmt.Errorf("N=%d must be a multiple of %d", p.N, subs)
	}
	srv, err := startPeer("", 0)
	if err != nil {
		return Result{}, err
	}
	defer srv.close()
	sink := newFanoutSink(p.N, subs)
	subjects := make([]string, 4)
	for i := range subjects {
		subjects[i] = subject
		if subs > 1 {
			subjects[i] = subject + "." + Symbols[i]
		}
	}
	var nsubs []*nats.Subscription
	for i := 0; i < subs; i++ {
		nc, err := srv.connect(fmt.Sprintf("sub%d", i))
		if err != nil {
			return Result{}, err
		}
		defer nc.Close()
		sub, err := nc.Subscribe(subjects[i], func(m *nats.Msg) { sink.add(i, m.Data) })
		if err != nil {
			return Result{}, err
		}
		// No client-side limit: a message dropped as a slow consumer would
		// fail the run, and the window bounds the backlog anyway.
		if err := sub.SetPendingLimits(-1, -1); err != nil {
			return Result{}, err
		}
		if err := nc.Flush(); err != nil {
			return Result{}, err
		}
		nsubs = append(nsubs, sub)
	}
	pub, err := srv.connect("pub")
	if err != nil {
		return Result{}, err
	}
	defer pub.Close()
	w := window{max: int64(p.Window), received: sink.delivered.Load}
	body := newPayload()
	t := startTimer()
	for i := int64(0); i < int64(p.N); i++ {
		if err := w.wait(ctx, i); err != nil {
			return Result{}, err
		}
		sym := int(i % 4)
		body.set(i, sym)
		if err := pub.Publish(subjects[sym], body); err != nil {
			return Result{}, err
		}
	}
	if err := pub.Flush(); err != nil {
		return Result{}, err
	}
	if err := sink.wait(ctx, 5*time.Minute); err != nil {
		for i, s := range nsubs {
			if d, _ := s.Dropped(); d > 0 {
				err = fmt.Errorf("%w (subscriber %d dropped %d)", err, i, d)
			}
		}
		return Result{}, err
	}
	r := t.result(0, 0)
	r.Count, r.Bytes, err = sink.check()
	return r, err
}
