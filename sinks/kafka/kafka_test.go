package kafka

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"go.uber.org/goleak"

	"ampsflume/avrorpc"
	"ampsflume/channels/memory"
	"ampsflume/flume"
	"ampsflume/kafkaconf"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func cluster(t *testing.T, partitions int32, topics ...string) *kfake.Cluster {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(partitions, topics...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func memChannel(t testing.TB, capacity int) *memory.Channel {
	t.Helper()
	cfg := memory.DefaultConfig()
	cfg.Capacity, cfg.TransactionCapacity, cfg.KeepAlive = capacity, min(capacity, 1000), 10*time.Millisecond
	ch, err := memory.New("mem", cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := ch.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ch.Stop() })
	return ch
}

func put(t testing.TB, ch flume.Channel, events ...*flume.Event) {
	t.Helper()
	tx := ch.NewTransaction()
	if err := tx.Begin(); err != nil {
		t.Fatal(err)
	}
	for _, e := range events {
		if err := tx.Put(e); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	tx.Close()
}

func newSink(t testing.TB, c *kfake.Cluster, ch flume.Channel, kv map[string]string) *Sink {
	t.Helper()
	props := map[string]string{"kafka.bootstrap.servers": c.ListenAddrs()[0]}
	for k, v := range kv {
		props[k] = v
	}
	cfg, err := ParseConfig(flume.MapContext(`sink "k"`, props))
	if err != nil {
		t.Fatal(err)
	}
	s := New("k", cfg, ch, nil)
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Stop() })
	return s
}

// drainSink runs Process until the channel is empty.
func drainSink(t testing.TB, s *Sink, ch flume.Channel) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for ch.Size() > 0 {
		if _, err := s.Process(ctx); err != nil {
			t.Fatalf("Process: %v", err)
		}
	}
}

// consume reads exactly n records of topic from the start.
func consume(t *testing.T, c *kfake.Cluster, topic string, n int) []*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var out []*kgo.Record
	for len(out) < n {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatalf("consumed %d of %d records of %s: %v", len(out), n, topic, err)
		}
		fs.EachError(func(_ string, _ int32, err error) { t.Fatalf("fetch: %v", err) })
		out = append(out, fs.Records()...)
	}
	// Anything beyond n is a duplicate or a stray record: look briefly.
	ctx2, cancel2 := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel2()
	out = append(out, cl.PollFetches(ctx2).Records()...)
	if len(out) != n {
		t.Fatalf("topic %s holds %d records, want exactly %d", topic, len(out), n)
	}
	return out
}

func seqEvents(n int, headers func(i int) map[string]string) []*flume.Event {
	out := make([]*flume.Event, n)
	for i := range out {
		var h map[string]string
		if headers != nil {
			h = headers(i)
		}
		out[i] = flume.NewEvent([]byte(strconv.Itoa(i)), h)
	}
	return out
}

func TestDeliversExactly(t *testing.T) {
	const n = 1000
	c := cluster(t, 1, DefaultTopic)
	ch := memChannel(t, 2000)
	put(t, ch, seqEvents(n, func(i int) map[string]string { return map[string]string{"key": "k" + strconv.Itoa(i%7)} })...)
	s := newSink(t, c, ch, map[string]string{"flumeBatchSize": "100"})
	drainSink(t, s, ch)
	recs := consume(t, c, DefaultTopic, n)
	for i, r := range recs {
		if string(r.Value) != strconv.Itoa(i) || string(r.Key) != "k"+strconv.Itoa(i%7) {
			t.Fatalf("record %d = key %q value %q", i, r.Key, r.Value)
		}
	}
	if got := s.counter.EventDrainSuccess.Load(); got != n {
		t.Fatalf("EventDrainSuccess = %d, want %d", got, n)
	}
	if got := s.counter.BatchComplete.Load(); got != n/100 {
		t.Fatalf("BatchComplete = %d, want %d", got, n/100)
	}
	// An empty channel is a back-off, not an error.
	st, err := s.Process(context.Background())
	if err != nil || st != flume.Backoff {
		t.Fatalf("Process on an empty channel = %v, %v", st, err)
	}
}

func TestTopicsAndFormat(t *testing.T) {
	c := cluster(t, 4, "t-us", "t-eu", "override", "fixed", "p-hdr", "p-def", "avro")
	cases := []struct {
		name   string
		kv     map[string]string
		header map[string]string
		topic  string
		check  func(t *testing.T, r *kgo.Record)
	}{
		{
			name: "header substitution", kv: map[string]string{"kafka.topic": "t-%{region}"},
			header: map[string]string{"region": "us"}, topic: "t-us",
		},
		{
			name: "topic override", kv: map[string]string{"kafka.topic": "t-eu"},
			header: map[string]string{"topic": "override"}, topic: "override",
		},
		{
			name: "override disabled", kv: map[string]string{"kafka.topic": "t-eu", "allowTopicOverride": "false"},
			header: map[string]string{"topic": "override"}, topic: "t-eu",
		},
		{
			name: "custom topic header", kv: map[string]string{"kafka.topic": "t-eu", "topicHeader": "dest"},
			header: map[string]string{"dest": "fixed", "topic": "override"}, topic: "fixed",
		},
		{
			name: "partition header", kv: map[string]string{"kafka.topic": "p-hdr", "partitionIdHeader": "p"},
			header: map[string]string{"p": "3"}, topic: "p-hdr",
			check: func(t *testing.T, r *kgo.Record) {
				if r.Partition != 3 {
					t.Fatalf("partition %d, want 3", r.Partition)
				}
			},
		},
		{
			name: "default partition", kv: map[string]string{"kafka.topic": "p-def", "defaultPartitionId": "2", "partitionIdHeader": "p"},
			topic: "p-def",
			check: func(t *testing.T, r *kgo.Record) {
				if r.Partition != 2 {
					t.Fatalf("partition %d, want 2", r.Partition)
				}
			},
		},
		{
			name: "flume event format", kv: map[string]string{"kafka.topic": "avro", "useFlumeEventFormat": "true"},
			header: map[string]string{"a": "1"}, topic: "avro",
			check: func(t *testing.T, r *kgo.Record) {
				e, err := avrorpc.UnmarshalEvent(r.Value)
				if err != nil {
					t.Fatal(err)
				}
				if string(e.Body) != "body" || e.Headers["a"] != "1" {
					t.Fatalf("decoded event %+v", e)
				}
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ch := memChannel(t, 10)
			put(t, ch, flume.NewEvent([]byte("body"), tc.header))
			s := newSink(t, c, ch, tc.kv)
			drainSink(t, s, ch)
			r := consume(t, c, tc.topic, 1)[0]
			if string(r.Value) != "body" && tc.check == nil {
				t.Fatalf("value %q", r.Value)
			}
			if tc.check != nil {
				tc.check(t, r)
			}
		})
	}
}

func TestBadPartitionHeaderRollsBack(t *testing.T) {
	c := cluster(t, 2, DefaultTopic)
	ch := memChannel(t, 10)
	put(t, ch, flume.NewEvent([]byte("x"), map[string]string{"p": "seven"}))
	s := newSink(t, c, ch, map[string]string{"partitionIdHeader": "p"})
	_, err := s.Process(context.Background())
	var pe *kafkaconf.PartitionHeaderError
	if !errors.As(err, &pe) || pe.Header != "p" {
		t.Fatalf("Process with a non-numeric partition header: err = %v", err)
	}
	if ch.Size() != 1 {
		t.Fatalf("channel size %d after the failed batch, want 1 (rolled back)", ch.Size())
	}
	// A partition that does not exist fails the produce, also rolled back.
	tx := ch.NewTransaction()
	tx.Begin()
	tx.Take()
	tx.Commit()
	tx.Close()
	put(t, ch, flume.NewEvent([]byte("x"), map[string]string{"p": "9"}))
	if _, err := s.Process(context.Background()); err == nil {
		t.Fatal("Process into partition 9 of a 2-partition topic succeeded")
	}
	if ch.Size() != 1 {
		t.Fatalf("channel size %d after the failed produce, want 1", ch.Size())
	}
}

// TestBrokerFailureRollsBack injects produce failures with kfake's control
// hooks: the first batches are refused, the sink rolls back and, once the
// broker recovers, delivers every event exactly once.
func TestBrokerFailureRollsBack(t *testing.T) {
	const n, failures = 300, 3
	c := cluster(t, 1, DefaultTopic)
	var refusing atomic.Bool
	refusing.Store(true)
	c.ControlKey(int16(kmsg.Produce), func(req kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		if !refusing.Load() {
			c.DropControl()
			return nil, nil, false
		}
		pr := req.(*kmsg.ProduceRequest)
		resp := pr.ResponseKind().(*kmsg.ProduceResponse)
		for _, rt := range pr.Topics {
			st := kmsg.NewProduceResponseTopic()
			st.Topic, st.TopicID = rt.Topic, rt.TopicID
			for _, p := range rt.Partitions {
				sp := kmsg.NewProduceResponseTopicPartition()
				sp.Partition = p.Partition
				sp.ErrorCode = kerr.TopicAuthorizationFailed.Code
				st.Partitions = append(st.Partitions, sp)
			}
			resp.Topics = append(resp.Topics, st)
		}
		return resp, nil, true
	})
	ch := memChannel(t, 1000)
	put(t, ch, seqEvents(n, nil)...)
	s := newSink(t, c, ch, map[string]string{"flumeBatchSize": "100", "kafka.producer.acks": "all"})
	ctx := context.Background()
	for i := range failures {
		_, err := s.Process(ctx)
		if !errors.Is(err, kerr.TopicAuthorizationFailed) {
			t.Fatalf("attempt %d: err = %v, want the broker's refusal", i, err)
		}
		if ch.Size() != n {
			t.Fatalf("attempt %d: channel size %d, want %d (batch rolled back)", i, ch.Size(), n)
		}
	}
	refusing.Store(false)
	drainSink(t, s, ch)
	recs := consume(t, c, DefaultTopic, n)
	for i, r := range recs {
		if string(r.Value) != strconv.Itoa(i) {
			t.Fatalf("record %d = %q", i, r.Value)
		}
	}
	if got := s.counter.EventWriteFail.Load(); got != failures {
		t.Fatalf("EventWriteFail = %d, want %d", got, failures)
	}
}

// TestBrokerDownRollsBack stops the only broker's ability to answer by
// closing connections (as a crashed broker does); with a delivery timeout the
// batch fails, rolls back, and is delivered once the broker is back.
func TestBrokerDownRollsBack(t *testing.T) {
	const n = 50
	c := cluster(t, 1, DefaultTopic)
	var down atomic.Bool
	down.Store(true)
	c.ControlKey(int16(kmsg.Produce), func(kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		if !down.Load() {
			c.DropControl()
			return nil, nil, false
		}
		return nil, errors.New("broker down"), true
	})
	ch := memChannel(t, 100)
	put(t, ch, seqEvents(n, nil)...)
	s := newSink(t, c, ch, map[string]string{"kafka.producer.delivery.timeout.ms": "1000", "kafka.producer.retry.backoff.ms": "20"})
	ctx := context.Background()
	if _, err := s.Process(ctx); err == nil {
		t.Fatal("Process while the broker is down succeeded")
	}
	if ch.Size() != n {
		t.Fatalf("channel size %d, want %d", ch.Size(), n)
	}
	down.Store(false)
	drainSink(t, s, ch)
	consume(t, c, DefaultTopic, n)
}

func TestConfigErrors(t *testing.T) {
	cases := []struct {
		kv  map[string]string
		key string
	}{
		{map[string]string{}, "kafka.bootstrap.servers"},
		{map[string]string{"kafka.bootstrap.servers": "nohost"}, "kafka.bootstrap.servers"},
		{map[string]string{"kafka.bootstrap.servers": "h:1", "kafka.producer.frobnicate": "1"}, "kafka.producer.frobnicate"},
		{map[string]string{"kafka.bootstrap.servers": "h:1", "kafka.producer.acks": "2"}, "kafka.producer.acks"},
		{map[string]string{"kafka.bootstrap.servers": "h:1", "kafka.producer.linger.ms": "soon"}, "kafka.producer.linger.ms"},
		{map[string]string{"kafka.bootstrap.servers": "h:1", "kafka.producer.compression.type": "brotli"}, "kafka.producer.compression.type"},
		{map[string]string{"kafka.bootstrap.servers": "h:1", "flumeBatchSize": "0"}, "flumeBatchSize"},
		{map[string]string{"kafka.bootstrap.servers": "h:1", "defaultPartitionId": "-3"}, "defaultPartitionId"},
	}
	for _, tc := range cases {
		_, err := ParseConfig(flume.MapContext(`sink "k"`, tc.kv))
		var ce *flume.ConfigError
		if !errors.As(err, &ce) || ce.Key != tc.key {
			t.Errorf("%v: err = %v, want a ConfigError about %q", tc.kv, err, tc.key)
		}
	}
	ok := map[string]string{
		"kafka.bootstrap.servers": "a:1, b:2", "kafka.producer.acks": "all", "kafka.producer.linger.ms": "5",
		"kafka.producer.compression.type": "zstd", "kafka.producer.key.serializer": "org.apache.kafka.common.serialization.StringSerializer",
		"kafka.producer.batch.size": "16384", "kafka.producer.retries": "3", "kafka.producer.client.id": "x",
	}
	cfg, err := ParseConfig(flume.MapContext(`sink "k"`, ok))
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(cfg.Brokers) != "[a:1 b:2]" || cfg.BatchSize != 100 || cfg.Topic != DefaultTopic || !cfg.AllowTopicOverride {
		t.Fatalf("cfg = %+v", cfg)
	}
}

func TestSubstitute(t *testing.T) {
	h := map[string]string{"a": "x", "b": "y"}
	for in, want := range map[string]string{
		"plain": "plain", "%{a}": "x", "t-%{a}-%{b}": "t-x-y", "%{missing}z": "z", "open%{a": "open%{a",
	} {
		if got := substitute(in, h); got != want {
			t.Errorf("substitute(%q) = %q, want %q", in, got, want)
		}
	}
}
