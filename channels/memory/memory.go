package memory

import (
	"context"
	"sync"
	"time"

	"ampsflume/flume"
)

func init() {
	flume.RegisterChannel(Spec, func(env flume.ChannelEnv) (flume.Channel, error) {
		cfg, err := ParseConfig(env.Config)
		if err != nil {
			return nil, err
		}
		return New(env.Name, cfg, env.Counter)
	})
}

// fullError is a channel-full failure with Flume's message; it matches
// flume.ErrChannelFull.
type fullError string

func (e fullError) Error() string        { return string(e) }
func (e fullError) Is(target error) bool { return target == flume.ErrChannelFull }

const (
	errQueueFull fullError = "Space for commit to queue couldn't be acquired. " +
		"Sinks are likely not keeping up with sources, or the buffer size is too tight"
	errBytesFull fullError = "Cannot commit transaction. Byte capacity allocated to store event body reached. " +
		"Raise byteCapacity, as the sinks may not be keeping up with the sources"
)

// signal wakes every goroutine waiting on it. The channel is made only when
// somebody waits, so the fast path allocates nothing. Guarded by the
// Channel's mutex.
type signal struct{ c chan struct{} }

func (s *signal) wait() <-chan struct{} {
	if s.c == nil {
		s.c = make(chan struct{})
	}
	return s.c
}

func (s *signal) notify() {
	if s.c != nil {
		close(s.c)
		s.c = nil
	}
}

// Channel is a memory channel.
type Channel struct {
	name    string
	counter *flume.ChannelCounter

	mu  sync.Mutex
	cfg Config
	// queue holds the committed events not taken by any transaction.
	queue ring
	// used counts queued events plus events taken by open transactions:
	// both hold a place, since a rollback returns taken events.
	used int
	// usedSlots is the byte-slot equivalent of used.
	usedSlots int64
	stopped   bool
	// interrupts counts InterruptTakes calls; a transaction begun under an
	// older count does not wait for events.
	interrupts uint64
	// notEmpty fires when events enter the queue, hasRoom when places are
	// freed, and both on Stop.
	notEmpty, hasRoom signal
	// spare holds the emptied event lists of ended transactions, so that a
	// steady stream of batches stops allocating them.
	spare [][]*flume.Event
}

// maxSpare bounds the lists kept: enough for the sources and sinks that use
// a channel at the same time, each list at most transactionCapacity long.
const maxSpare = 8

// spareLocked returns a spare event list, or nil when there is none.
func (c *Channel) spareLocked() []*flume.Event {
	n := len(c.spare)
	if n == 0 {
		return nil
	}
	b := c.spare[n-1]
	c.spare[n-1] = nil
	c.spare = c.spare[:n-1]
	return b
}

// recycleLocked keeps an ended transaction's list for reuse, emptied so that
// it holds no event alive.
func (c *Channel) recycleLocked(b []*flume.Event) {
	if cap(b) == 0 || len(c.spare) >= maxSpare {
		return
	}
	clear(b)
	c.spare = append(c.spare, b[:0])
}

var (
	_ flume.Channel         = (*Channel)(nil)
	_ flume.Reconfigurable  = (*Channel)(nil)
	_ flume.TakeInterrupter = (*Channel)(nil)
)

// New returns a memory channel. A nil counter is replaced by a fresh one.
func New(name string, cfg Config, counter *flume.ChannelCounter) (*Channel, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if counter == nil {
		counter = new(flume.ChannelCounter)
	}
	return &Channel{name: name, counter: counter, cfg: cfg, queue: newRing(cfg.Capacity)}, nil
}

// Counter returns the channel's counter.
func (c *Channel) Counter() *flume.ChannelCounter { return c.counter }

// Start opens the channel; after a Stop it reopens it with its contents.
func (c *Channel) Start(context.Context) error {
	c.mu.Lock()
	c.stopped = false
	c.mu.Unlock()
	c.counter.MarkStarted()
	return nil
}

// Stop refuses further work and wakes every waiter. Queued events are kept
// for a later Start.
func (c *Channel) Stop() error {
	c.mu.Lock()
	c.stopped = true
	c.notEmpty.notify()
	c.hasRoom.notify()
	c.mu.Unlock()
	c.counter.MarkStopped()
	return nil
}

// InterruptTakes ends the waits of the takes of every transaction begun so
// far: they return (nil, nil) without waiting for the keep-alive. The engine
// calls it when it stops the channel's sinks.
func (c *Channel) InterruptTakes() {
	c.mu.Lock()
	c.interrupts++
	c.notEmpty.notify()
	c.mu.Unlock()
}

// Capacity is the configured capacity.
func (c *Channel) Capacity() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cfg.Capacity
}

// TransactionCapacity is the configured transactionCapacity.
func (c *Channel) TransactionCapacity() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cfg.TransactionCapacity
}

// Size is the number of queued events, not counting those taken by open
// transactions (Flume's ChannelSize).
func (c *Channel) Size() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.queue.len()
}

// Metrics returns the channel's counter values under Flume's names.
func (c *Channel) Metrics() []flume.Metric {
	c.mu.Lock()
	size, capacity := c.queue.len(), c.cfg.Capacity
	c.mu.Unlock()
	return c.counter.Metrics(size, capacity)
}

// Reconfigure applies a new configuration to the running channel, keeping its
// events. A capacity below the number of events held takes effect at once
// for new commits, which fail as channel-full until sinks have drained the
// excess; no event is dropped.
func (c *Channel) Reconfigure(ctx *flume.Context) error {
	cfg, err := ParseConfig(ctx)
	if err != nil {
		return err
	}
	return c.Apply(cfg)
}

// Apply is Reconfigure with an already parsed configuration.
func (c *Channel) Apply(cfg Config) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	// The ring must keep room for every event held, including those that
	// open transactions may roll back.
	if size := max(cfg.Capacity, c.used); size != len(c.queue.buf) {
		c.queue = c.queue.resize(size)
	}
	c.cfg = cfg
	c.hasRoom.notify()
	return nil
}

// waitLocked releases the lock, waits for s, the deadline or Stop, and takes
// the lock again. It returns false when the deadline passed or the channel is
// stopped.
func (c *Channel) waitLocked(s *signal, deadline time.Time) bool {
	if c.stopped {
		return false
	}
	d := time.Until(deadline)
	if d <= 0 {
		return false
	}
	ch := s.wait()
	c.mu.Unlock()
	t := time.NewTimer(d)
	select {
	case <-ch:
	case <-t.C:
	}
	t.Stop()
	c.mu.Lock()
	return !c.stopped
}

// fits reports whether a commit of net puts and slots leaves the channel
// within its capacities.
func (c *Channel) fits(net int, netSlots int64) (bool, fullError) {
	if net > 0 && c.used+net > c.cfg.Capacity {
		return false, errQueueFull
	}
	if slots := c.cfg.byteSlots(); slots > 0 && netSlots > 0 && c.usedSlots+netSlots > slots {
		return false, errBytesFull
	}
	return true, ""
}

// NewTransaction returns a transaction in the NEW state.
func (c *Channel) NewTransaction() flume.Transaction { return &transaction{ch: c} }

func (c *Channel) errorf(op string, err error) error {
	return &flume.ChannelError{Channel: c.name, Op: op, Err: err}
}
