package scenario

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/nats-io/nats.go"
	"github.com/redpanda-data/benthos/v4/public/service"
)

// The Benthos core build has no NATS input; this one behaves like the NATS
// input of Redpanda Connect: a core NATS subscription delivers into a
// buffered channel (500,000 messages by default), and each Read hands out
// one message. Core NATS has no acknowledgement, so the AckFunc does
// nothing. A full channel makes nats.go drop messages as a slow consumer;
// the input counts them so that a run can fail instead of reporting a rate
// over lost messages.

const natsInputName = "nats_bench"

// natsInputStats is what a run reads back from its input.
type natsInputStats struct {
	dropped atomic.Int64
	errs    atomic.Int64
}

func natsInputSpec() *service.ConfigSpec {
	return service.NewConfigSpec().
		Summary("Reads messages from a core NATS subject.").
		Field(service.NewStringField("url").Description("NATS server URL.")).
		Field(service.NewStringField("subject").Description("Subject to subscribe to.")).
		Field(service.NewStringField("queue").Description("Optional queue group.").Default("")).
		Field(service.NewIntField("buffer").Description("Messages buffered between the subscription and the pipeline.").Default(500_000))
}

// registerNATSInput adds the input to env; stats receives its counters.
func registerNATSInput(env *service.Environment, stats *natsInputStats) error {
	return env.RegisterInput(natsInputName, natsInputSpec(), func(conf *service.ParsedConfig, mgr *service.Resources) (service.Input, error) {
		in := &natsInput{stats: stats}
		var err error
		if in.url, err = conf.FieldString("url"); err != nil {
			return nil, err
		}
		if in.subject, err = conf.FieldString("subject"); err != nil {
			return nil, err
		}
		if in.queue, err = conf.FieldString("queue"); err != nil {
			return nil, err
		}
		if in.buffer, err = conf.FieldInt("buffer"); err != nil {
			return nil, err
		}
		if in.buffer < 1 {
			return nil, fmt.Errorf("buffer must be at least 1, got %d", in.buffer)
		}
		return service.AutoRetryNacks(in), nil
	})
}

type natsInput struct {
	url, subject, queue string
	buffer              int
	stats               *natsInputStats

	nc  *nats.Conn
	sub *nats.Subscription
	ch  chan *nats.Msg
}

func (in *natsInput) Connect(ctx context.Context) error {
	if in.nc != nil {
		return nil
	}
	nc, err := nats.Connect(in.url, nats.Name("benthos"),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			in.stats.errs.Add(1)
		}))
	if err != nil {
		return fmt.Errorf("nats input: %w", err)
	}
	ch := make(chan *nats.Msg, in.buffer)
	var sub *nats.Subscription
	if in.queue != "" {
		sub, err = nc.ChanQueueSubscribe(in.subject, in.queue, ch)
	} else {
		sub, err = nc.ChanSubscribe(in.subject, ch)
	}
	if err != nil {
		nc.Close()
		return fmt.Errorf("nats input: subscribe %q: %w", in.subject, err)
	}
	in.nc, in.sub, in.ch = nc, sub, ch
	return nil
}

func (in *natsInput) Read(ctx context.Context) (*service.Message, service.AckFunc, error) {
	if in.ch == nil {
		return nil, nil, service.ErrNotConnected
	}
	select {
	case m, ok := <-in.ch:
		if !ok {
			return nil, nil, service.ErrNotConnected
		}
		return service.NewMessage(m.Data), func(context.Context, error) error { return nil }, nil
	case <-ctx.Done():
		return nil, nil, ctx.Err()
	}
}

func (in *natsInput) Close(ctx context.Context) error {
	if in.nc == nil {
		return nil
	}
	if d, err := in.sub.Dropped(); err == nil {
		in.stats.dropped.Add(int64(d))
	}
	err := in.sub.Unsubscribe()
	in.nc.Close()
	in.nc = nil
	if errors.Is(err, nats.ErrConnectionClosed) {
		err = nil
	}
	return err
}
