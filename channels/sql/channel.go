package sql

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"ampsflume/flume"
)

func init() {
	flume.RegisterChannel(Spec, func(env flume.ChannelEnv) (flume.Channel, error) {
		cfg, err := ParseConfig(env.Name, env.Config)
		if err != nil {
			return nil, err
		}
		return New(env.Name, cfg, env.Counter)
	})
}

// fullError is a channel-full failure; it matches flume.ErrChannelFull.
type fullError string

func (e fullError) Error() string        { return string(e) }
func (e fullError) Is(target error) bool { return target == flume.ErrChannelFull }

const errFull fullError = "Space for commit to the table couldn't be acquired. " +
	"Sinks are likely not keeping up with sources, or capacity is too tight"

// errNoRoom is what a store's commit returns when the transaction's net puts
// do not fit; the channel waits for room and retries, then reports errFull.
var errNoRoom = errors.New("no room")

// store is where the events live. The channel drives the transaction state
// machine and the waiting; a store only moves rows.
type store interface {
	// open connects and prepares the schema.
	open(ctx context.Context) error
	// close disconnects. Open transactions were already released through
	// the context given to open being cancelled.
	close() error
	// take claims the lowest-id event no other transaction holds, or
	// returns nil when there is none.
	take(ctx context.Context, t *transaction) (*flume.Event, error)
	// commit inserts t's puts and deletes t's claimed rows atomically. It
	// returns errNoRoom, with nothing changed and the claims still held, when
	// the puts do not fit.
	commit(ctx context.Context, t *transaction) error
	// rollback releases t's claims, so that they are taken again first.
	rollback(t *transaction)
	// size is the number of events held.
	size(ctx context.Context) int
	// pollInterval is how often waiters look again without a wake-up from
	// this process; 0 means in-process wake-ups are enough.
	pollInterval() time.Duration
}

// signal wakes every goroutine waiting on it. Guarded by Channel.mu.
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

// Channel is a JDBC channel.
type Channel struct {
	name    string
	cfg     Config
	counter *flume.ChannelCounter
	store   store

	mu sync.Mutex
	// ctx is cancelled by Stop; every statement runs under it, so Stop
	// aborts waits and rolls back open database transactions.
	ctx     context.Context
	cancel  context.CancelFunc
	stopped bool
	// interrupts counts InterruptTakes calls; a transaction begun under an
	// older count does not wait for events.
	interrupts uint64
	// notEmpty fires after a commit with puts, hasRoom after a commit with
	// takes or a rollback; both on Stop.
	notEmpty, hasRoom signal
}

var (
	_ flume.Channel         = (*Channel)(nil)
	_ flume.TakeInterrupter = (*Channel)(nil)
)

// InterruptTakes implements flume.TakeInterrupter: the takes of every
// transaction begun so far stop waiting for events.
func (c *Channel) InterruptTakes() {
	c.mu.Lock()
	c.interrupts++
	c.notEmpty.notify()
	c.mu.Unlock()
}

// interruptedSince reports whether InterruptTakes was called since the
// count n was read.
func (c *Channel) interruptedSince(n uint64) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.interrupts != n
}

// New returns a JDBC channel. The database is opened by Start. A nil counter
// is replaced by a fresh one.
func New(name string, cfg Config, counter *flume.ChannelCounter) (*Channel, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if counter == nil {
		counter = new(flume.ChannelCounter)
	}
	c := &Channel{name: name, cfg: cfg, counter: counter, stopped: true}
	switch cfg.Backend {
	case BackendSQLite:
		c.store = newSQLite(name, cfg)
	case BackendPostgres:
		c.store = newPostgres(name, cfg)
	}
	return c, nil
}

// Counter returns the channel's counter.
func (c *Channel) Counter() *flume.ChannelCounter { return c.counter }

// Start opens the database, creating the schema if configured to, and
// recovers the events committed before a stop or a crash.
func (c *Channel) Start(context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.stopped {
		return nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := c.store.open(ctx); err != nil {
		cancel()
		return fmt.Errorf("channel %q: %w", c.name, err)
	}
	c.ctx, c.cancel, c.stopped = ctx, cancel, false
	c.counter.MarkStarted()
	return nil
}

// Stop refuses further work, wakes every waiter, rolls back open
// transactions and closes the database. Committed events stay in it.
func (c *Channel) Stop() error {
	c.mu.Lock()
	if c.stopped {
		c.mu.Unlock()
		return nil
	}
	c.stopped = true
	c.cancel()
	c.notEmpty.notify()
	c.hasRoom.notify()
	c.mu.Unlock()
	c.counter.MarkStopped()
	if err := c.store.close(); err != nil {
		return fmt.Errorf("channel %q: close: %w", c.name, err)
	}
	return nil
}

// Capacity is the configured capacity; 0 means unlimited.
func (c *Channel) Capacity() int { return c.cfg.Capacity }

// TransactionCapacity is the configured transactionCapacity.
func (c *Channel) TransactionCapacity() int { return c.cfg.TransactionCapacity }

// Size is the number of events held; see the package documentation for what
// each database counts.
func (c *Channel) Size() int {
	ctx, ok := c.context()
	if !ok {
		return 0
	}
	return c.store.size(ctx)
}

// Metrics returns the channel's counter values under Flume's names.
func (c *Channel) Metrics() []flume.Metric {
	return c.counter.Metrics(c.Size(), c.cfg.Capacity)
}

// context returns the running channel's context, or false once stopped.
func (c *Channel) context() (context.Context, bool) {
	ctx, _, ok := c.begin()
	return ctx, ok
}

// begin returns the running channel's context and interrupt count, or false
// once stopped.
func (c *Channel) begin() (context.Context, uint64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ctx, c.interrupts, !c.stopped
}

// arm returns the wake-up channel of s, taken before looking at the store so
// that a commit between the look and the wait is not missed, or false once
// stopped.
func (c *Channel) arm(s *signal) (<-chan struct{}, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopped {
		return nil, false
	}
	return s.wait(), true
}

// sleep waits for wake, the deadline or, with a store shared with other
// processes, the next poll. It returns false when the deadline has passed
// or the channel is stopped.
func (c *Channel) sleep(ctx context.Context, wake <-chan struct{}, deadline time.Time) bool {
	d := time.Until(deadline)
	if d <= 0 {
		return false
	}
	if p := c.store.pollInterval(); p > 0 && p < d {
		d = p
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-wake:
	case <-t.C:
	case <-ctx.Done():
		return false
	}
	return ctx.Err() == nil
}

func (c *Channel) wake(puts, freed bool) {
	if !puts && !freed {
		return
	}
	c.mu.Lock()
	if puts {
		c.notEmpty.notify()
	}
	if freed {
		c.hasRoom.notify()
	}
	c.mu.Unlock()
}

// NewTransaction returns a transaction in the NEW state.
func (c *Channel) NewTransaction() flume.Transaction { return &transaction{ch: c} }

func (c *Channel) errorf(op string, err error) error {
	return &flume.ChannelError{Channel: c.name, Op: op, Err: err}
}
