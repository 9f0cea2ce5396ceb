package scenario

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"time"

	"ampsflume/amps"
	"ampsflume/ampserver/txlog"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// syncInterval is how often both sides fsync their journal: ampserver's
// group-commit period (txlog.DefaultFlushInterval), given to JetStream as
// its sync_interval so both put the same work on the disk. ampserver acks a
// publish as persisted only after the fsync that covers it; JetStream acks
// once the message is in its store, before the fsync. The difference in
// guarantees favours the peer.
const syncInterval = txlog.DefaultFlushInterval

const streamName = "ORDERS"

func durablePublish() *Scenario {
	return &Scenario{
		Name:     "durable",
		Title:    "Durable publish with persisted acks",
		Ours:     "ampserver with a transaction log (acks after fsync)",
		PeerDesc: "JetStream async publish, file store (acks before fsync)",
		Target:   1.0,
		Unit:     "msg/s acknowledged",
		Full:     Params{N: 1_000_000, Window: 200_000},
		Short:    Params{N: 10_000, Window: 5_000},
		Run:      map[string]Side{Ours: oursDurable, Peer: peerDurable},
	}
}

func replayScenario() *Scenario {
	return &Scenario{
		Name:     "replay",
		Title:    "Durable replay of journaled messages from EPOCH",
		Ours:     "txlog + bookmark subscription (bookmark 0)",
		PeerDesc: "JetStream file store + ordered consumer",
		Target:   2.0,
		Unit:     "msg/s replayed",
		Full:     Params{N: 1_000_000, Window: 200_000},
		Short:    Params{N: 10_000, Window: 5_000},
		Run:      map[string]Side{Ours: oursReplay, Peer: peerReplay},
		Prepare:  map[string]Side{Ours: oursDurable, Peer: peerDurable},
	}
}

// journalDir is where a run keeps its journal: the shared directory when
// the data is prepared for later replays, else the run's own.
func journalDir(p Params, name string) string {
	if p.Shared != "" {
		return filepath.Join(p.Shared, name)
	}
	return filepath.Join(p.Dir, name)
}

// oursDurable publishes N messages with sequence numbers asking for
// persisted acks, and ends when the ack for the last one arrives.
func oursDurable(ctx context.Context, p Params) (Result, error) {
	dir := journalDir(p, "journal")
	srv, err := startOurs(ctx, dir)
	if err != nil {
		return Result{}, err
	}
	stopped := false
	defer func() {
		if !stopped {
			srv.close()
		}
	}()
	pub, err := srv.client(ctx, "pub")
	if err != nil {
		return Result{}, err
	}
	defer pub.Close()
	var acked atomic.Int64
	done := make(chan struct{})
	pub.OnPersisted(func(seq uint64) {
		if int64(seq) > acked.Load() {
			acked.Store(int64(seq))
			if seq == uint64(p.N) {
				close(done)
			}
		}
	})
	w := window{max: int64(p.Window), received: acked.Load}
	body := newPayload()
	t := startTimer()
	for i := int64(0); i < int64(p.N); i++ {
		if err := w.wait(ctx, i); err != nil {
			return Result{}, err
		}
		body.set(i, int(i%4))
		cmd := amps.Command{Name: amps.CmdPublish, Topic: topic, Data: body, Seq: uint64(i + 1), HasSeq: true, AckType: amps.AckPersisted}
		if err := pub.Send(cmd); err != nil {
			return Result{}, err
		}
	}
	select {
	case <-done:
	case <-time.After(5 * time.Minute):
		return Result{}, fmt.Errorf("persisted acks up to %d of %d", acked.Load(), p.N)
	}
	r := t.result(int64(p.N), int64(p.N)*PayloadSize)
	pub.Close()
	srv.close()
	stopped = true
	// The receiving side is the journal: it must hold exactly N records.
	l, err := txlog.Open(txlog.Options{Dir: dir, FlushInterval: -1, Logger: quiet})
	if err != nil {
		return Result{}, err
	}
	defer l.Close()
	if err := expect(int64(l.NextSeq()-l.FirstSeq()), int64(p.N), "journal records"); err != nil {
		return Result{}, err
	}
	return r, nil
}

// peerDurable publishes N messages with JetStream's async publish and ends
// when every publish is acknowledged.
func peerDurable(ctx context.Context, p Params) (Result, error) {
	srv, err := startPeer(journalDir(p, "jetstream"), syncInterval)
	if err != nil {
		return Result{}, err
	}
	defer srv.close()
	nc, err := srv.connect("pub")
	if err != nil {
		return Result{}, err
	}
	defer nc.Close()
	var failed atomic.Int64
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncErrHandler(func(jetstream.JetStream, *nats.Msg, error) {
		failed.Add(1)
	}))
	if err != nil {
		return Result{}, err
	}
	stream, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: streamName, Subjects: []string{subject}, Storage: jetstream.FileStorage})
	if err != nil {
		return Result{}, err
	}
	body := newPayload()
	t := startTimer()
	for i := int64(0); i < int64(p.N); i++ {
		body.set(i, int(i%4))
		// PublishAsync keeps the data until the ack: each message needs
		// its own copy.
		// When the client's window of 4000 pending acks stays full longer
		// than the stall wait, PublishAsync gives up with an error: wait
		// for acks and publish the same message again.
		for {
			_, err := js.PublishAsync(subject, append([]byte(nil), body...))
			if err == nil {
				break
			}
			if !errors.Is(err, jetstream.ErrTooManyStalledMsgs) {
				return Result{}, err
			}
			select {
			case <-js.PublishAsyncComplete():
			case <-time.After(time.Second):
			}
		}
	}
	select {
	case <-js.PublishAsyncComplete():
	case <-time.After(5 * time.Minute):
		return Result{}, fmt.Errorf("JetStream: %d publishes still pending", js.PublishAsyncPending())
	}
	r := t.result(int64(p.N), int64(p.N)*PayloadSize)
	if n := failed.Load(); n > 0 {
		return Result{}, fmt.Errorf("JetStream: %d publishes failed", n)
	}
	info, err := stream.Info(ctx)
	if err != nil {
		return Result{}, err
	}
	return r, expect(int64(info.State.Msgs), int64(p.N), "stream messages")
}

// oursReplay restarts a server on the prepared journal and replays it all
// through a bookmark subscription from EPOCH.
func oursReplay(ctx context.Context, p Params) (Result, error) {
	srv, err := startOurs(ctx, journalDir(p, "journal"))
	if err != nil {
		return Result{}, err
	}
	defer srv.close()
	c, err := srv.client(ctx, "replayer")
	if err != nil {
		return Result{}, err
	}
	defer c.Close()
	sink := newFanoutSink(p.N, 1)
	t := startTimer()
	cmd := amps.Command{Name: amps.CmdSubscribe, Topic: topic, Bookmark: txlog.Epoch}
	if _, err := c.ExecuteHandlerBorrowed(ctx, cmd, func(m *amps.Message) { sink.add(0, m.Data) }); err != nil {
		return Result{}, err
	}
	if err := sink.wait(ctx, 5*time.Minute); err != nil {
		return Result{}, err
	}
	r := t.result(0, 0)
	r.Count, r.Bytes, err = sink.check()
	return r, err
}

// peerReplay restarts nats-server on the prepared store and reads the
// stream from the start with an ordered consumer.
func peerReplay(ctx context.Context, p Params) (Result, error) {
	srv, err := startPeer(journalDir(p, "jetstream"), syncInterval)
	if err != nil {
		return Result{}, err
	}
	defer srv.close()
	nc, err := srv.connect("replayer")
	if err != nil {
		return Result{}, err
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return Result{}, err
	}
	// Wait for the stream to be recovered before timing.
	err = waitFor(ctx, time.Minute, "stream recovery", func() bool {
		s, err := js.Stream(ctx, streamName)
		if err != nil {
			return false
		}
		info, err := s.Info(ctx)
		return err == nil && info.State.Msgs == uint64(p.N)
	})
	if err != nil {
		return Result{}, err
	}
	sink := newFanoutSink(p.N, 1)
	t := startTimer()
	cons, err := js.OrderedConsumer(ctx, streamName, jetstream.OrderedConsumerConfig{DeliverPolicy: jetstream.DeliverAllPolicy})
	if err != nil {
		return Result{}, err
	}
	cc, err := cons.Consume(func(m jetstream.Msg) { sink.add(0, m.Data()) })
	if err != nil {
		return Result{}, err
	}
	defer cc.Stop()
	if err := sink.wait(ctx, 5*time.Minute); err != nil {
		return Result{}, err
	}
	r := t.result(0, 0)
	r.Count, r.Bytes, err = sink.check()
	return r, err
}
