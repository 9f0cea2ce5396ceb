package kafka

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"go.uber.org/goleak"

	"ampsflume/flume"
	"ampsflume/flume/channeltest"
	"ampsflume/internal/poll"
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

func newChannel(t *testing.T, c *kfake.Cluster, kv map[string]string) *Channel {
	t.Helper()
	props := map[string]string{"kafka.bootstrap.servers": c.ListenAddrs()[0], "pollTimeout": "200"}
	for k, v := range kv {
		props[k] = v
	}
	cfg, err := ParseConfig(flume.MapContext(`channel "k"`, props))
	if err != nil {
		t.Fatal(err)
	}
	return New("k", cfg, nil)
}

// TestConformance runs the channel suite against a one-partition topic (the
// suite checks FIFO order, which Kafka gives per partition only), with the
// capacity extension configured so the capacity cases apply.
func TestConformance(t *testing.T) {
	channeltest.Run(t, func(t *testing.T, capacity, txCapacity int) flume.Channel {
		c := cluster(t, 1, DefaultTopic)
		return newChannel(t, c, map[string]string{
			"capacity": strconv.Itoa(capacity), "transactionCapacity": strconv.Itoa(txCapacity),
		})
	})
}

func start(t *testing.T, ch *Channel) {
	t.Helper()
	if err := ch.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ch.Stop() })
}

func putN(t *testing.T, ch flume.Channel, from, to int) {
	t.Helper()
	tx := ch.NewTransaction()
	tx.Begin()
	for i := from; i < to; i++ {
		if err := tx.Put(flume.NewEvent([]byte(strconv.Itoa(i)), map[string]string{"i": strconv.Itoa(i)})); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	tx.Close()
}

// takeN takes n events in one transaction, waiting up to a deadline.
func takeN(t *testing.T, tx flume.Transaction, n int) []string {
	t.Helper()
	var out []string
	// Take itself waits up to the channel's poll timeout for records.
	poll.Until(t, 20*time.Second, func() error {
		for len(out) < n {
			e, err := tx.Take()
			if err != nil {
				t.Fatal(err)
			}
			if e == nil {
				return fmt.Errorf("took %d of %d", len(out), n)
			}
			if e.Headers["i"] != string(e.Body) {
				t.Fatalf("headers %v for body %q", e.Headers, e.Body)
			}
			out = append(out, string(e.Body))
		}
		return nil
	})
	return out
}

// TestRestartResumes stops a channel with committed, uncommitted and
// untouched events and starts a new instance in the same group: it gets
// every event not committed, in order, and none that was.
func TestRestartResumes(t *testing.T) {
	c := cluster(t, 1, DefaultTopic)
	first := newChannel(t, c, nil)
	start(t, first)
	putN(t, first, 0, 100)
	tx := first.NewTransaction()
	tx.Begin()
	takeN(t, tx, 30)
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	tx.Close()
	open := first.NewTransaction()
	open.Begin()
	takeN(t, open, 10) // never committed: the agent dies with it open
	if err := first.Stop(); err != nil {
		t.Fatal(err)
	}

	second := newChannel(t, c, nil)
	start(t, second)
	if n := second.Size(); n != 70 {
		t.Fatalf("Size after restart = %d, want 70", n)
	}
	tx = second.NewTransaction()
	tx.Begin()
	got := takeN(t, tx, 70)
	for i, b := range got {
		if b != strconv.Itoa(30+i) {
			t.Fatalf("event %d after restart = %s, want %d", i, b, 30+i)
		}
	}
	if e, err := tx.Take(); e != nil || err != nil {
		t.Fatalf("extra take = %v, %v", e, err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	tx.Close()
	if n := second.Size(); n != 0 {
		t.Fatalf("Size after draining = %d", n)
	}
}

// TestBodiesOnly checks parseAsFlumeEvent=false: bodies travel, headers do
// not, and a second group sees the same events independently.
func TestBodiesOnly(t *testing.T) {
	c := cluster(t, 3, "raw")
	a := newChannel(t, c, map[string]string{"kafka.topic": "raw", "parseAsFlumeEvent": "false", "kafka.consumer.group.id": "g1"})
	b := newChannel(t, c, map[string]string{"kafka.topic": "raw", "parseAsFlumeEvent": "false", "kafka.consumer.group.id": "g2"})
	start(t, a)
	start(t, b)
	tx := a.NewTransaction()
	tx.Begin()
	for i := range 20 {
		tx.Put(flume.NewEvent([]byte(strconv.Itoa(i)), map[string]string{"key": strconv.Itoa(i % 3)}))
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	tx.Close()
	for _, ch := range []*Channel{a, b} {
		tx := ch.NewTransaction()
		tx.Begin()
		seen := map[string]bool{}
		poll.Until(t, 20*time.Second, func() error {
			for len(seen) < 20 {
				e, err := tx.Take()
				if err != nil {
					t.Fatal(err)
				}
				if e == nil {
					return fmt.Errorf("group saw %d distinct events, want 20", len(seen))
				}
				if len(e.Headers) != 0 {
					t.Fatalf("headers %v with parseAsFlumeEvent=false", e.Headers)
				}
				seen[string(e.Body)] = true
			}
			return nil
		})
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		tx.Close()
	}
}

func TestConfig(t *testing.T) {
	cfg, err := ParseConfig(flume.MapContext(`channel "k"`, map[string]string{
		"kafka.bootstrap.servers": "h:9092", "migrateZookeeperOffsets": "false",
		"kafka.consumer.auto.offset.reset": "latest", "kafka.consumer.session.timeout.ms": "10000",
		"kafka.producer.linger.ms": "1",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Topic != DefaultTopic || cfg.Group != DefaultGroup || !cfg.ParseAsFlumeEvent || cfg.PollTimeout != 500*time.Millisecond {
		t.Fatalf("defaults: %+v", cfg)
	}
	for _, tc := range []struct {
		kv  map[string]string
		key string
	}{
		{map[string]string{}, "kafka.bootstrap.servers"},
		{map[string]string{"kafka.bootstrap.servers": "h:1", "kafka.consumer.max.poll.records": "5"}, "kafka.consumer.max.poll.records"},
		{map[string]string{"kafka.bootstrap.servers": "h:1", "kafka.consumer.auto.offset.reset": "middle"}, "kafka.consumer.auto.offset.reset"},
		{map[string]string{"kafka.bootstrap.servers": "h:1", "pollTimeout": "-1"}, "pollTimeout"},
		{map[string]string{"kafka.bootstrap.servers": "h:1", "capacity": "5", "transactionCapacity": "6"}, "transactionCapacity"},
	} {
		_, err := ParseConfig(flume.MapContext(`channel "k"`, tc.kv))
		var ce *flume.ConfigError
		if !errors.As(err, &ce) || ce.Key != tc.key {
			t.Errorf("%v: err = %v, want a ConfigError about %q", tc.kv, err, tc.key)
		}
	}
}

// TestInterruptTakes: a sink being stopped does not wait out the poll
// timeout of its take.
func TestInterruptTakes(t *testing.T) {
	ch := newChannel(t, cluster(t, 1, DefaultTopic), map[string]string{"pollTimeout": "3600000"})
	start(t, ch)
	channeltest.Interrupt(t, ch)
}
