package file

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"ampsflume/flume"
)

func init() {
	flume.RegisterChannel(Spec, func(env flume.ChannelEnv) (flume.Channel, error) {
		cfg, err := ParseConfig(env.Config)
		if err != nil {
			return nil, err
		}
		c, err := New(env.Name, cfg, env.Counter)
		if err != nil {
			return nil, err
		}
		c.log = env.Log().With("type", "file")
		return c, nil
	})
}

// Channel is the durable file channel. Its methods are safe for concurrent
// use; each Transaction belongs to one goroutine.
type Channel struct {
	name    string
	cfg     Config
	fs      fs
	counter *flume.ChannelCounter
	log     *slog.Logger

	mu       sync.Mutex
	q        queue
	reserved int // queued + taken by open transactions + staged puts
	inflight map[*txn]struct{}
	nextTxid uint64
	running  bool
	failed   error
	// interrupts counts InterruptTakes calls; a transaction begun under an
	// older count does not wait for events.
	interrupts uint64
	// notEmpty and roomFreed are closed (and replaced) to wake waiters.
	notEmpty  chan struct{}
	roomFreed chan struct{}
	stopped   chan struct{}

	w     *wal
	locks []io.Closer
	bg    sync.WaitGroup

	ckptMu sync.Mutex // one checkpoint at a time

	spaceMu    sync.Mutex
	spaceDirs  []string // checkpointDir and dataDirs, probed for free space
	lastFree   int64
	sinceProbe int64

	checkpointErrors       atomic.Int64
	backupCheckpointErrors atomic.Int64
	tornTails              atomic.Int64
	checkpoints            atomic.Int64
}

// New returns a configured, not yet started channel. Start opens the
// directories and replays the log.
func New(name string, cfg Config, counter *flume.ChannelCounter) (*Channel, error) {
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("file channel %q: %w", name, err)
	}
	if counter == nil {
		counter = &flume.ChannelCounter{}
	}
	fsys := cfg.fs
	if fsys == nil {
		fsys = osFS{}
	}
	if cfg.spillBytes <= 0 {
		cfg.spillBytes = defaultSpillBytes
	}
	cfg.spillBytes = min(cfg.spillBytes, int(cfg.MaxFileSize/2))
	return &Channel{
		name: name, cfg: cfg, fs: fsys, counter: counter,
		log:       slog.Default().With("channel", name, "type", "file"),
		spaceDirs: append([]string{cfg.CheckpointDir}, cfg.DataDirs...),
	}, nil
}

var _ flume.TakeInterrupter = (*Channel)(nil)

// InterruptTakes implements flume.TakeInterrupter: the takes of every
// transaction begun so far stop waiting for events.
func (c *Channel) InterruptTakes() {
	c.mu.Lock()
	c.interrupts++
	if c.notEmpty != nil {
		broadcast(&c.notEmpty)
	}
	c.mu.Unlock()
}

// Capacity implements flume.Channel.
func (c *Channel) Capacity() int { return c.cfg.Capacity }

// TransactionCapacity implements flume.Channel.
func (c *Channel) TransactionCapacity() int { return c.cfg.TransactionCapacity }

// Size implements flume.Channel: committed events not taken by an open
// transaction.
func (c *Channel) Size() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.q.len()
}

// Counter returns the channel's counter.
func (c *Channel) Counter() *flume.ChannelCounter { return c.counter }

// ExtraMetrics implements flume.MetricsReporter with the file channel's
// counters beyond the standard ChannelCounter.
func (c *Channel) ExtraMetrics() []flume.Metric {
	c.mu.Lock()
	open, unhealthy := 0.0, 0.0
	if c.running {
		open = 1
	}
	if c.healthLocked() != nil {
		unhealthy = 1
	}
	c.mu.Unlock()
	return []flume.Metric{
		{Name: "CheckpointWriteErrorCount", Value: float64(c.checkpointErrors.Load())},
		{Name: "CheckpointBackupWriteErrorCount", Value: float64(c.backupCheckpointErrors.Load())},
		{Name: "Open", Value: open},
		{Name: "Unhealthy", Value: unhealthy},
		{Name: "TornTailTruncationCount", Value: float64(c.tornTails.Load())},
		{Name: "CheckpointCount", Value: float64(c.checkpoints.Load())},
	}
}

// StatusInfo implements flume.StatusReporter.
func (c *Channel) StatusInfo() map[string]string {
	m := map[string]string{"checkpointDir": c.cfg.CheckpointDir}
	c.mu.Lock()
	if err := c.healthLocked(); err != nil {
		m["error"] = err.Error()
	}
	c.mu.Unlock()
	return m
}

func (c *Channel) errorf(op string, err error) error {
	return &flume.ChannelError{Channel: c.name, Op: op, Err: err}
}

// healthLocked returns why the channel refuses work, or nil.
func (c *Channel) healthLocked() error {
	if !c.running {
		return flume.ErrChannelClosed
	}
	if c.failed != nil {
		return c.failed
	}
	if err := c.w.err(); err != nil {
		return fmt.Errorf("log failed, restart the channel to recover: %w", err)
	}
	return nil
}

// fail stops the channel from accepting work after an error that leaves
// its state uncertain; a restart replays the log and recovers.
func (c *Channel) fail(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.failed == nil {
		c.failed = err
		c.log.Error("file channel failed; it refuses work until restarted", "err", err)
	}
}

func broadcast(ch *chan struct{}) {
	close(*ch)
	*ch = make(chan struct{})
}

// Start opens the directories, takes their locks, replays the log from the
// last checkpoint and starts the background fsync and checkpoint loops.
func (c *Channel) Start(ctx context.Context) error {
	c.mu.Lock()
	if c.running {
		c.mu.Unlock()
		return nil
	}
	c.mu.Unlock()
	if err := c.open(); err != nil {
		c.release()
		return fmt.Errorf("file channel %q: %w", c.name, err)
	}
	c.counter.MarkStarted()
	return nil
}

func (c *Channel) dirs() []string {
	d := append([]string{c.cfg.CheckpointDir}, c.cfg.DataDirs...)
	if c.cfg.UseDualCheckpoints {
		d = append(d, c.cfg.BackupCheckpointDir)
	}
	return d
}

func (c *Channel) open() error {
	for _, d := range c.dirs() {
		if err := c.fs.MkdirAll(d, 0o755); err != nil {
			return fmt.Errorf("create directory %s: %w", d, err)
		}
		l, err := c.fs.Lock(filepath.Join(d, lockName))
		if err != nil {
			return err
		}
		c.locks = append(c.locks, l)
	}
	c.w = newWAL(c.fs, c.cfg.DataDirs, c.cfg.MaxFileSize)
	st, err := c.replay()
	if err != nil {
		return err
	}
	if err := c.w.startNew(); err != nil {
		return err
	}
	c.mu.Lock()
	c.q = st.q
	c.reserved = c.q.len()
	c.nextTxid = st.nextTxid
	c.inflight = map[*txn]struct{}{}
	c.failed = nil
	c.notEmpty, c.roomFreed, c.stopped = make(chan struct{}), make(chan struct{}), make(chan struct{})
	c.running = true
	c.mu.Unlock()
	if c.q.len() > c.cfg.Capacity {
		c.log.Warn("more events on disk than capacity; puts fail until sinks drain them",
			"events", c.q.len(), "capacity", c.cfg.Capacity)
	}
	// A checkpoint right after replay makes the next start fast and lets
	// the segments replay consumed be deleted.
	if err := c.checkpoint(); err != nil {
		return err
	}
	interval := time.Duration(0)
	if !c.cfg.FsyncPerTransaction {
		interval = c.cfg.FsyncInterval
		if interval <= 0 {
			interval = DefaultFsyncInterval
		}
	}
	c.w.startFlusher(interval)
	if c.cfg.CheckpointInterval > 0 {
		stopped := c.stopped
		c.bg.Add(1)
		go func() {
			defer c.bg.Done()
			t := time.NewTicker(c.cfg.CheckpointInterval)
			defer t.Stop()
			for {
				select {
				case <-stopped:
					return
				case <-t.C:
					if err := c.checkpoint(); err != nil {
						c.log.Error("checkpoint failed", "err", err)
					}
				}
			}
		}()
	}
	c.log.Info("file channel started", "events", c.q.len(), "checkpointDir", c.cfg.CheckpointDir, "dataDirs", c.cfg.DataDirs)
	return nil
}

// Stop writes a final checkpoint (with checkpointOnClose), stops the
// background loops and releases the files and locks. Open transactions fail
// with flume.ErrChannelClosed.
func (c *Channel) Stop() error {
	c.mu.Lock()
	if !c.running {
		c.mu.Unlock()
		return nil
	}
	c.running = false
	failed := c.failed
	close(c.stopped)
	broadcast(&c.notEmpty)
	broadcast(&c.roomFreed)
	c.mu.Unlock()
	c.bg.Wait()
	var errs []error
	if failed == nil && c.w.err() == nil {
		if c.cfg.CheckpointOnClose {
			if err := c.checkpointAt(true); err != nil {
				errs = append(errs, err)
			}
		} else if err := c.w.syncTo(c.w.end()); err != nil {
			errs = append(errs, err)
		}
	}
	errs = append(errs, c.release())
	c.counter.MarkStopped()
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("file channel %q: stop: %w", c.name, err)
	}
	return nil
}

// release closes the log and drops the locks, without syncing anything.
func (c *Channel) release() error {
	var first error
	if c.w != nil {
		first = c.w.close()
	}
	for _, l := range c.locks {
		if err := l.Close(); err != nil && first == nil {
			first = err
		}
	}
	c.locks = nil
	return first
}

// abandon simulates a crash of the process for tests: no checkpoint, no
// fsync; files and locks are released as the kernel would.
func (c *Channel) abandon() {
	c.mu.Lock()
	if c.running {
		c.running = false
		close(c.stopped)
		broadcast(&c.notEmpty)
		broadcast(&c.roomFreed)
	}
	c.mu.Unlock()
	c.bg.Wait()
	_ = c.release()
}

// checkSpace fails with a channel-full error while a directory has less than
// minimumRequiredSpace free after writing n more bytes. The probe runs at
// each transaction's first put and after every 16 MB written, so a disk
// that fills up is noticed promptly and one that empties again is noticed at
// the next batch.
func (c *Channel) checkSpace(n int, probe bool) error {
	if c.cfg.MinimumRequiredSpace <= 0 {
		return nil
	}
	c.spaceMu.Lock()
	defer c.spaceMu.Unlock()
	if probe || c.sinceProbe >= 16<<20 || c.lastFree-c.sinceProbe-int64(n) < c.cfg.MinimumRequiredSpace {
		free := int64(-1)
		for _, d := range c.spaceDirs {
			var v uint64
			var err error
			if c.cfg.FreeSpace != nil {
				v, err = c.cfg.FreeSpace(d)
			} else {
				v, err = c.fs.FreeSpace(d)
			}
			if err != nil {
				return fmt.Errorf("checking free space: %w", err)
			}
			if free < 0 || int64(v) < free {
				free = int64(v)
			}
		}
		c.lastFree, c.sinceProbe = free, 0
	}
	if c.lastFree-c.sinceProbe-int64(n) < c.cfg.MinimumRequiredSpace {
		return fmt.Errorf("%w: usable space exhausted: %d bytes free, minimumRequiredSpace is %d; free disk space (the channel resumes by itself)",
			flume.ErrChannelFull, c.lastFree-c.sinceProbe, c.cfg.MinimumRequiredSpace)
	}
	c.sinceProbe += int64(n)
	return nil
}

// checkpoint writes a checkpoint and deletes the segments it makes
// unnecessary.
func (c *Channel) checkpoint() error { return c.checkpointAt(false) }

func (c *Channel) checkpointAt(closing bool) error {
	c.ckptMu.Lock()
	defer c.ckptMu.Unlock()
	c.mu.Lock()
	if !c.running && !closing {
		c.mu.Unlock()
		return flume.ErrChannelClosed
	}
	ck := &checkpoint{pos: c.w.end(), nextTxid: c.nextTxid}
	for t := range c.inflight {
		ck.queue = append(ck.queue, t.takes...)
		if t.spilled {
			ck.pending = append(ck.pending, pendingTx{txid: t.id,
				puts: append([]ptr(nil), t.puts...), takes: append([]ptr(nil), t.takes[:t.spilledTakes]...)})
		}
	}
	// The queue itself is written from a frozen view, outside the lock.
	ck.rest = c.q.freeze()
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		c.q.thaw()
		c.mu.Unlock()
	}()

	if err := c.w.syncTo(ck.pos); err != nil {
		c.checkpointErrors.Add(1)
		return fmt.Errorf("checkpoint: %w", err)
	}
	if err := writeCheckpoint(c.fs, c.cfg.CheckpointDir, ck); err != nil {
		c.checkpointErrors.Add(1)
		return fmt.Errorf("checkpoint: %w", err)
	}
	if c.cfg.UseDualCheckpoints {
		if err := writeCheckpoint(c.fs, c.cfg.BackupCheckpointDir, ck); err != nil {
			c.backupCheckpointErrors.Add(1)
			c.log.Warn("backup checkpoint failed", "err", err)
		}
	}
	c.checkpoints.Add(1)

	// Segments before the checkpoint's position that hold no queued or
	// pending event are no longer needed by anyone.
	ref := map[uint32]bool{}
	for _, p := range ck.queue {
		ref[p.seg()] = true
	}
	for _, part := range ck.rest.parts {
		ref[part.ch.seg] = true
	}
	for _, t := range ck.pending {
		for _, p := range t.puts {
			ref[p.seg()] = true
		}
	}
	var dead []uint32
	for _, id := range c.w.segmentIDs() {
		if id < ck.pos.seg() && !ref[id] {
			dead = append(dead, id)
		}
	}
	for _, err := range c.w.remove(dead) {
		c.log.Warn("deleting a consumed segment failed", "err", err)
	}
	return nil
}

// NewTransaction implements flume.Channel.
func (c *Channel) NewTransaction() flume.Transaction { return &txn{c: c} }

var _ flume.Channel = (*Channel)(nil)
var _ flume.MetricsReporter = (*Channel)(nil)
