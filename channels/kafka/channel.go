package kafka

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"ampsflume/flume"
	"ampsflume/kafkaconf"
)

func init() {
	flume.RegisterChannel(Spec, func(env flume.ChannelEnv) (flume.Channel, error) {
		cfg, err := ParseConfig(env.Config)
		if err != nil {
			return nil, err
		}
		c := New(env.Name, cfg, env.Counter)
		c.log = env.Log()
		return c, nil
	})
}

// maxBuffered bounds the records fetched ahead of takes.
const maxBuffered = 1000

// assignWait bounds how long Start waits for the group to assign partitions,
// so that the first takes find events; the channel works without it.
const assignWait = 10 * time.Second

// Channel is a Kafka channel.
type Channel struct {
	name    string
	cfg     Config
	counter *flume.ChannelCounter
	log     *slog.Logger

	client *kgo.Client
	admin  *kadm.Client
	cancel context.CancelFunc
	done   chan struct{}
	// capMu serialises the capacity check and produce of put commits.
	capMu sync.Mutex
	// commitMu orders offset commits so they never move backwards.
	commitMu sync.Mutex

	mu      sync.Mutex
	stopped bool
	// interrupts counts InterruptTakes calls; a transaction begun under an
	// older count does not wait for records.
	interrupts uint64
	// buf holds fetched records not taken by any transaction, in order.
	buf []*kgo.Record
	// held holds, per partition, the offsets of records in buf or taken by
	// an open transaction: the group must not commit past the smallest.
	held map[int32]map[int64]struct{}
	// next is, per assigned partition, the offset after the last fetched
	// record: what to commit when nothing of the partition is held.
	next map[int32]int64
	// arrived fires when records enter buf, room when buf drains; both on
	// Stop.
	arrived, room chan struct{}
	assigned      chan struct{}
}

var (
	_ flume.Channel         = (*Channel)(nil)
	_ flume.TakeInterrupter = (*Channel)(nil)
)

// InterruptTakes implements flume.TakeInterrupter: the takes of every
// transaction begun so far stop waiting for records.
func (c *Channel) InterruptTakes() {
	c.mu.Lock()
	c.interrupts++
	// Stop closes arrived for good (waking every waiter); before Start
	// there is none.
	if c.arrived != nil && !c.stopped {
		close(c.arrived)
		c.arrived = make(chan struct{})
	}
	c.mu.Unlock()
}

// New returns a Kafka channel. A nil counter is replaced by a fresh one.
func New(name string, cfg Config, counter *flume.ChannelCounter) *Channel {
	if counter == nil {
		counter = &flume.ChannelCounter{}
	}
	return &Channel{name: name, cfg: cfg, counter: counter, log: slog.With("channel", name)}
}

// Start connects, joins the consumer group and starts fetching.
func (c *Channel) Start(ctx context.Context) error {
	c.mu.Lock()
	c.stopped = false
	c.buf = nil
	c.held = map[int32]map[int64]struct{}{}
	c.next = map[int32]int64{}
	c.arrived, c.room, c.assigned = make(chan struct{}), make(chan struct{}), make(chan struct{})
	c.mu.Unlock()
	var once sync.Once
	opts := []kgo.Opt{
		kgo.SeedBrokers(c.cfg.Brokers...),
		kgo.RecordPartitioner(kafkaconf.Partitioner()),
		kgo.ProducerLinger(0),
		kgo.ConsumerGroup(c.cfg.Group),
		kgo.ConsumeTopics(c.cfg.Topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.DisableAutoCommit(),
		kgo.OnPartitionsAssigned(func(_ context.Context, _ *kgo.Client, m map[string][]int32) {
			once.Do(func() { close(c.assigned) })
		}),
		kgo.OnPartitionsRevoked(func(_ context.Context, _ *kgo.Client, m map[string][]int32) { c.forget(m[c.cfg.Topic]) }),
		kgo.OnPartitionsLost(func(_ context.Context, _ *kgo.Client, m map[string][]int32) { c.forget(m[c.cfg.Topic]) }),
	}
	opts = append(opts, c.cfg.ProducerOpts...)
	opts = append(opts, c.cfg.ConsumerOpts...)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return fmt.Errorf("kafka channel %q: %w", c.name, err)
	}
	pctx, cancel := context.WithCancel(context.Background())
	c.client, c.admin, c.cancel, c.done = cl, kadm.NewClient(cl), cancel, make(chan struct{})
	go c.poll(pctx)
	select {
	case <-c.assigned:
	case <-time.After(assignWait):
		c.log.Warn("no partitions assigned yet; takes will find events once the group settles",
			"topic", c.cfg.Topic, "group", c.cfg.Group)
	case <-ctx.Done():
	}
	c.counter.MarkStarted()
	return nil
}

// Stop stops fetching and closes the client, leaving the group without
// committing anything more: open transactions' takes are redelivered to the
// group later.
func (c *Channel) Stop() error {
	c.mu.Lock()
	if c.stopped || c.client == nil {
		c.stopped = true
		c.mu.Unlock()
		return nil
	}
	c.stopped = true
	close(c.arrived)
	close(c.room)
	c.mu.Unlock()
	c.cancel()
	<-c.done
	c.client.Close()
	c.counter.MarkStopped()
	return nil
}

// poll keeps buf filled.
func (c *Channel) poll(ctx context.Context) {
	defer close(c.done)
	for {
		c.mu.Lock()
		for len(c.buf) >= maxBuffered && !c.stopped {
			room := c.room
			c.mu.Unlock()
			<-room
			c.mu.Lock()
		}
		want := maxBuffered - len(c.buf)
		stopped := c.stopped
		c.mu.Unlock()
		if stopped {
			return
		}
		fs := c.client.PollRecords(ctx, want)
		if ctx.Err() != nil || fs.IsClientClosed() {
			return
		}
		fs.EachError(func(t string, p int32, err error) {
			c.log.Warn("fetch failed", "topic", t, "partition", p, "err", err)
		})
		recs := fs.Records()
		if len(recs) == 0 {
			continue
		}
		c.mu.Lock()
		n := 0
		for _, r := range recs {
			if r.Topic != c.cfg.Topic {
				continue
			}
			if c.held[r.Partition] == nil {
				c.held[r.Partition] = map[int64]struct{}{}
			}
			c.held[r.Partition][r.Offset] = struct{}{}
			c.next[r.Partition] = r.Offset + 1
			c.buf = append(c.buf, r)
			n++
		}
		if n > 0 && !c.stopped {
			close(c.arrived)
			c.arrived = make(chan struct{})
		}
		c.mu.Unlock()
	}
}

// forget drops the state of partitions the group took away: their buffered
// records will be fetched by the new owner, and commits of transactions that
// took from them skip them (those events may be delivered twice).
func (c *Channel) forget(parts []int32) {
	if len(parts) == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	gone := map[int32]bool{}
	for _, p := range parts {
		gone[p] = true
		delete(c.held, p)
		delete(c.next, p)
	}
	kept := c.buf[:0]
	for _, r := range c.buf {
		if !gone[r.Partition] {
			kept = append(kept, r)
		}
	}
	clear(c.buf[len(kept):])
	c.buf = kept
}

// NewTransaction returns a transaction on the channel.
func (c *Channel) NewTransaction() flume.Transaction { return &transaction{ch: c} }

// Capacity is the configured lag bound, or math.MaxInt32 when unbounded.
func (c *Channel) Capacity() int {
	if c.cfg.Capacity > 0 {
		return c.cfg.Capacity
	}
	return math.MaxInt32
}

// TransactionCapacity is the configured bound, or math.MaxInt32.
func (c *Channel) TransactionCapacity() int {
	if c.cfg.TransactionCapacity > 0 {
		return c.cfg.TransactionCapacity
	}
	return math.MaxInt32
}

// Size is the group's lag on the topic, asked of the brokers; -1 when they
// cannot be reached.
func (c *Channel) Size() int {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	n, err := c.lag(ctx)
	if err != nil {
		c.log.Warn("cannot compute the channel size", "err", err)
		return -1
	}
	return int(n)
}

// Metrics reports Flume's channel counters.
func (c *Channel) Metrics() []flume.Metric {
	capacity := c.cfg.Capacity
	return c.counter.Metrics(max(c.Size(), 0), capacity)
}

// lag is the number of records between the group's committed offsets (the
// log start where none) and the end of each partition.
func (c *Channel) lag(ctx context.Context) (int64, error) {
	c.mu.Lock()
	adm := c.admin
	c.mu.Unlock()
	if adm == nil {
		return 0, flume.ErrChannelClosed
	}
	ends, err := adm.ListEndOffsets(ctx, c.cfg.Topic)
	if err != nil {
		return 0, err
	}
	if err := ends.Error(); err != nil {
		return 0, err
	}
	starts, err := adm.ListStartOffsets(ctx, c.cfg.Topic)
	if err != nil {
		return 0, err
	}
	committed, err := adm.FetchOffsets(ctx, c.cfg.Group)
	if err != nil {
		return 0, err
	}
	var total int64
	ends.Each(func(end kadm.ListedOffset) {
		from := int64(0)
		if s, ok := starts.Lookup(end.Topic, end.Partition); ok {
			from = s.Offset
		}
		if o, ok := committed.Lookup(end.Topic, end.Partition); ok && o.At >= 0 {
			from = max(from, o.At)
		}
		total += max(end.Offset-from, 0)
	})
	return total, nil
}

func (c *Channel) errorf(op string, err error) error {
	return &flume.ChannelError{Channel: c.name, Op: op, Err: err}
}

// fullError is a put commit refused because the lag would exceed capacity.
type fullError struct{ size, puts, capacity int64 }

func (e fullError) Error() string {
	return fmt.Sprintf("capacity %d reached (%d events queued, %d to put); sinks are likely not keeping up", e.capacity, e.size, e.puts)
}

func (e fullError) Is(target error) bool { return target == flume.ErrChannelFull }

var errDecode = errors.New("record is not an AvroFlumeEvent")
