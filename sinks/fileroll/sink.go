package fileroll

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"ampsflume/flume"
	"ampsflume/serializer"
	"ampsflume/sinks/dedupe"
)

func init() {
	flume.RegisterSink(Spec, func(env flume.SinkEnv) (flume.Sink, error) {
		cfg, err := ParseConfig(env.Config)
		// The batch is checked against the channel (the spec marks the key
		// ChannelChecked) even when other keys are bad: one run reports all.
		var errs flume.ConfigErrors
		errs.Add(err)
		errs.Add(env.CheckBatch("sink.batchSize", cfg.BatchSize, err))
		if err := errs.Err(); err != nil {
			return nil, err
		}
		s, err := New(env.Name, cfg, env.Channel, env.Counter)
		if err != nil {
			return nil, err
		}
		s.log = env.Log()
		return s, nil
	})
}

// Sink is a rolling file sink.
type Sink struct {
	name    string
	cfg     Config
	channel flume.Channel
	counter *flume.SinkCounter
	serB    *serializer.Builder
	serCfg  *flume.Context // the serializer's keys, relative to its prefix
	log     *slog.Logger

	mu       sync.Mutex
	paths    pathManager
	file     File
	path     string
	w        *bufio.Writer
	ser      serializer.Serializer // writes to w; one per file
	batch    []*flume.Event        // the events of the batch being written
	offset   int64                 // bytes in the file that belong to committed batches
	pos      int64                 // bytes handed to the file so far
	nextRoll time.Time
	started  bool
	dd       *dedupeState // nil unless sink.dedupe.header is set
}

// New returns a sink writing the events of ch. A nil counter is replaced by
// a fresh one.
func New(name string, cfg Config, ch flume.Channel, counter *flume.SinkCounter) (*Sink, error) {
	if cfg.Directory == "" {
		return nil, fmt.Errorf("file_roll sink %q: key %q: is required", name, "sink.directory")
	}
	if cfg.BatchSize < 1 {
		return nil, fmt.Errorf("file_roll sink %q: key %q: must be at least 1", name, "sink.batchSize")
	}
	if cfg.Serializer == "" {
		cfg.Serializer = "text"
	}
	serB, err := lookupSerializer(cfg.Serializer)
	if err != nil {
		return nil, fmt.Errorf("file_roll sink %q: key %q: %w", name, "sink.serializer", err)
	}
	serCfg := flume.MapContext(fmt.Sprintf("sink %q serializer", name),
		map[string]string{"appendNewline": strconv.FormatBool(cfg.AppendNewline)})
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.OpenFile == nil {
		cfg.OpenFile = openExclusive
	}
	if counter == nil {
		counter = new(flume.SinkCounter)
	}
	var dd *dedupeState
	if cfg.DedupeHeader != "" {
		// The record may only describe bytes that are on disk.
		cfg.Fsync = true
		dd = &dedupeState{header: cfg.DedupeHeader, path: filepath.Join(cfg.Directory, StateFile)}
	}
	return &Sink{
		dd:   dd,
		name: name, cfg: cfg, channel: ch, counter: counter, serB: serB, serCfg: serCfg,
		log: slog.With("sink", name),
		paths: pathManager{
			rollTime: cfg.RollTimeNames, prefix: cfg.Prefix, extension: cfg.Extension,
			series: cfg.Now().UnixMilli(),
		},
	}, nil
}

// Counter returns the sink's counter.
func (s *Sink) Counter() *flume.SinkCounter { return s.counter }

// CurrentFile is the path of the file being written, "" when none is open.
func (s *Sink) CurrentFile() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.path
}

// Start creates the directory and schedules the first roll.
func (s *Sink) Start(context.Context) error {
	if err := os.MkdirAll(s.cfg.Directory, 0o755); err != nil {
		return fmt.Errorf("file_roll sink %q: key %q: %w", s.name, "sink.directory", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.dd != nil {
		if err := s.recoverOutput(); err != nil {
			return err
		}
	}
	s.started = true
	if s.cfg.RollInterval > 0 {
		s.nextRoll = s.cfg.Now().Add(s.cfg.RollInterval)
	}
	s.counter.MarkStarted()
	return nil
}

// Stop flushes and closes the current file.
func (s *Sink) Stop() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.started = false
	err := s.closeFile()
	s.counter.MarkStopped()
	return err
}

// closeFile flushes and closes the current file, if any.
func (s *Sink) closeFile() error {
	if s.file == nil {
		return nil
	}
	err := s.ser.BeforeClose()
	if err == nil {
		err = s.w.Flush()
	}
	if err == nil && s.cfg.Fsync {
		err = s.file.Sync()
	}
	if cerr := s.file.Close(); err == nil {
		err = cerr
	}
	s.counter.ConnectionClosed.Add(1)
	path := s.path
	s.file, s.w, s.ser, s.path, s.offset = nil, nil, nil, "", 0
	if err != nil {
		return fmt.Errorf("file_roll sink %q: closing %s: %w", s.name, path, err)
	}
	return nil
}

// openFile opens the next file, skipping names that already exist.
func (s *Sink) openFile() error {
	for range 1000 {
		path := filepath.Join(s.cfg.Directory, s.paths.next(s.cfg.Now()))
		f, err := s.cfg.OpenFile(path)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			s.counter.ConnectionFailed.Add(1)
			return fmt.Errorf("file_roll sink %q: %w", s.name, err)
		}
		s.counter.ConnectionCreated.Add(1)
		s.file, s.path, s.offset, s.pos = f, path, 0, 0
		s.w = bufio.NewWriterSize(&offsetWriter{s: s}, 64<<10)
		ser, err := s.serB.New(s.serCfg, s.w)
		if err == nil {
			err = ser.AfterCreate()
		}
		if err != nil {
			_ = f.Close()
			_ = os.Remove(path)
			s.file, s.w, s.path = nil, nil, ""
			s.counter.ConnectionFailed.Add(1)
			return fmt.Errorf("file_roll sink %q: serializer for %s: %w", s.name, path, err)
		}
		s.ser = ser
		if s.dd != nil {
			// Named by the record before anything is written to it, the
			// new file is the only one that can hold unrecorded bytes.
			if err := s.save(); err != nil {
				_ = f.Close()
				_ = os.Remove(path)
				s.file, s.w, s.ser, s.path = nil, nil, nil, ""
				return err
			}
		}
		return nil
	}
	s.counter.ConnectionFailed.Add(1)
	return fmt.Errorf("file_roll sink %q: no free file name in %s", s.name, s.cfg.Directory)
}

// offsetWriter passes the buffer's writes to the current file.
type offsetWriter struct{ s *Sink }

func (o *offsetWriter) Write(p []byte) (int, error) {
	n, err := o.s.file.Write(p)
	o.s.pos += int64(n)
	return n, err
}

// Process writes one batch: roll if due, open the file, take up to
// batchSize events, write and flush them, then commit.
func (s *Sink) Process(ctx context.Context) (flume.Status, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.started {
		return flume.Backoff, fmt.Errorf("file_roll sink %q: not started", s.name)
	}
	if s.cfg.RollInterval > 0 {
		if now := s.cfg.Now(); !now.Before(s.nextRoll) {
			// Fixed rate, like Flume's timer: missed rolls collapse into
			// one, and the schedule keeps its phase.
			for !now.Before(s.nextRoll) {
				s.nextRoll = s.nextRoll.Add(s.cfg.RollInterval)
			}
			if err := s.closeFile(); err != nil {
				s.log.Error("closing rolled file", "err", err)
			}
		}
	}
	if s.file == nil {
		if err := s.openFile(); err != nil {
			return flume.Backoff, err
		}
	}
	if s.dd != nil && s.dd.needCut {
		if err := s.cut(); err != nil {
			return flume.Backoff, err
		}
	}

	tx := s.channel.NewTransaction()
	if err := tx.Begin(); err != nil {
		s.counter.ChannelReadFail.Add(1)
		_ = tx.Close()
		return flume.Backoff, fmt.Errorf("file_roll sink %q: %w", s.name, err)
	}
	n, err := s.writeBatch(tx)
	recorded := false
	if err == nil {
		if err = s.ser.Flush(); err == nil {
			err = s.w.Flush()
		}
		if err == nil && s.cfg.Fsync {
			err = s.file.Sync()
		}
		if err != nil {
			s.counter.EventWriteFail.Add(int64(n))
			err = fmt.Errorf("file_roll sink %q: writing %s: %w", s.name, s.path, err)
		} else if s.dd != nil && s.pos > s.offset {
			// The batch is on disk; record it before the commit.
			err = s.save()
			recorded = err == nil || errors.Is(err, dedupe.ErrUnsynced)
		}
		if err == nil {
			if err = tx.Commit(); err != nil {
				err = fmt.Errorf("file_roll sink %q: %w", s.name, err)
			}
		}
	}
	if err != nil && recorded {
		// The record covers the batch, so it stays in the file: the
		// channel gives it again and every event is skipped.
		s.offset = s.pos
		s.endBatch(true)
		_ = tx.Rollback()
		_ = tx.Close()
		return flume.Backoff, err
	}
	if err != nil {
		s.undoBatch()
		if s.dd != nil {
			s.endBatch(false)
		}
		_ = tx.Rollback()
		_ = tx.Close()
		return flume.Backoff, err
	}
	_ = tx.Close()
	if s.dd != nil {
		s.endBatch(true)
	}
	s.offset = s.pos
	s.counter.EventDrainSuccess.Add(int64(n))
	switch {
	case n == 0:
		s.counter.BatchEmpty.Add(1)
	case n < s.cfg.BatchSize:
		s.counter.BatchUnderflow.Add(1)
	default:
		s.counter.BatchComplete.Add(1)
	}
	if n < s.cfg.BatchSize {
		return flume.Backoff, nil
	}
	return flume.Ready, nil
}

// writeBatch takes up to batchSize events in one go (flume.TakeBatch) and
// serializes them.
func (s *Sink) writeBatch(tx flume.Transaction) (int, error) {
	evs, err := flume.TakeBatch(tx, s.batch[:0], s.cfg.BatchSize)
	n := len(evs)
	s.counter.EventDrainAttempt.Add(int64(n))
	// The batch's events are not kept past this call.
	defer func() { clear(evs); s.batch = evs[:0] }()
	if err != nil {
		s.counter.ChannelReadFail.Add(1)
		return n, fmt.Errorf("file_roll sink %q: %w", s.name, err)
	}
	for _, e := range evs {
		if s.dd != nil && !s.judge(e) {
			continue
		}
		if err := s.ser.Write(e); err != nil {
			s.counter.EventWriteFail.Add(int64(n))
			return n, fmt.Errorf("file_roll sink %q: writing %s: %w", s.name, s.path, err)
		}
	}
	return n, nil
}

// undoBatch drops what the failed batch wrote: the buffered bytes and
// whatever already reached the file, so the retried batch is written once.
// If the file cannot be cut back it is abandoned and the next batch goes to a
// new file.
func (s *Sink) undoBatch() {
	s.w.Reset(&offsetWriter{s: s})
	err := s.file.Truncate(s.offset)
	if err == nil {
		_, err = s.file.Seek(s.offset, io.SeekStart)
	}
	if err == nil {
		s.pos = s.offset
		return
	}
	if s.dd != nil {
		// The record names this file: abandoning it would leave the
		// batch's bytes in it for good. Retry the cut before the next batch.
		s.dd.needCut = true
		s.log.Error("cannot remove a failed batch from the file; retrying before the next batch",
			"file", s.path, "offset", s.offset, "err", err)
		return
	}
	s.log.Error("cannot remove a failed batch from the file; it may be repeated in the next file",
		"file", s.path, "offset", s.offset, "err", err)
	_ = s.file.Close()
	s.counter.ConnectionClosed.Add(1)
	s.file, s.w, s.ser, s.path, s.offset = nil, nil, nil, "", 0
}
