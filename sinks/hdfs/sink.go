package hdfs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"ampsflume/flume"
	"ampsflume/sinks/dedupe"
	"ampsflume/sinks/hdfs/fsys"
	"ampsflume/sinks/hdfs/seqfile"
)

func init() {
	flume.RegisterSink(Spec, func(env flume.SinkEnv) (flume.Sink, error) {
		cfg, err := ParseConfig(env.Name, env.Config)
		// The batch is checked against the channel (the spec marks the key
		// ChannelChecked) even when other keys are bad: one run reports all.
		var errs flume.ConfigErrors
		errs.Add(err)
		errs.Add(env.CheckBatch("hdfs.batchSize", cfg.BatchSize, err))
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

// Sink is the hdfs sink.
type Sink struct {
	name    string
	cfg     Config
	channel flume.Channel
	counter *flume.SinkCounter
	codec   *codecInfo
	log     *slog.Logger

	noTimestamp atomic.Int64
	unsafePath  atomic.Int64

	mu      sync.Mutex
	fs      fsys.FS
	host    Host
	buckets map[string]*bucket
	useSeq  uint64
	started bool
	scratch []byte
	stop    chan struct{}
	done    chan struct{}
	dd      *dedupeState // nil unless hdfs.dedupe.header is set
}

// New returns a sink writing the events of ch. A nil counter is replaced by
// a fresh one.
func New(name string, cfg Config, ch flume.Channel, counter *flume.SinkCounter) (*Sink, error) {
	if cfg.Path == nil || cfg.FilePrefix == nil {
		return nil, fmt.Errorf("hdfs sink %q: key %q: is required", name, "hdfs.path")
	}
	if cfg.BatchSize < 1 || cfg.MaxOpenFiles < 1 || cfg.CallTimeout <= 0 {
		return nil, fmt.Errorf("hdfs sink %q: batchSize, maxOpenFiles and callTimeout must be positive", name)
	}
	if cfg.Serializer == "" {
		cfg.Serializer = "text"
	}
	if cfg.SerializerConfig == nil {
		cfg.SerializerConfig = flume.MapContext(fmt.Sprintf("sink %q", name), nil)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Location == nil {
		cfg.Location = time.Local
	}
	if cfg.Scheme == "" {
		cfg.Scheme = "file"
	}
	if counter == nil {
		counter = new(flume.SinkCounter)
	}
	s := &Sink{name: name, cfg: cfg, channel: ch, counter: counter,
		log: slog.With("sink", name), buckets: map[string]*bucket{}}
	if cfg.DedupeHeader != "" {
		s.dd = &dedupeState{header: cfg.DedupeHeader, path: path.Join(cfg.Path.baseDir(), StateFile)}
	}
	if cfg.Codec != "" {
		c, ok := lookupCodec(cfg.Codec)
		if !ok {
			return nil, fmt.Errorf("hdfs sink %q: key %q: unsupported codec %q", name, "hdfs.codeC", cfg.Codec)
		}
		s.codec = &c
	}
	if seq := cfg.Sequence; seq != nil {
		switch {
		case s.codec == nil && seq.Compression != seqfile.None:
			return nil, fmt.Errorf("hdfs sink %q: key %q: %v compression needs a codec", name, "hdfs.codeC", seq.Compression)
		case s.codec != nil && seqCodec(s.codec.name) == nil:
			return nil, fmt.Errorf("hdfs sink %q: key %q: %s is not supported in SequenceFiles: use gzip or deflate", name, "hdfs.codeC", s.codec.name)
		case s.codec != nil && seq.Compression == seqfile.None:
			return nil, fmt.Errorf("hdfs sink %q: key %q: a codec needs BLOCK or RECORD compression", name, "hdfs.compressionType")
		}
	}
	return s, nil
}

// Counter returns the sink's counter.
func (s *Sink) Counter() *flume.SinkCounter { return s.counter }

// ExtraMetrics reports the events refused for a missing timestamp or an
// unsafe header value (each refusal rolls its batch back).
func (s *Sink) ExtraMetrics() []flume.Metric {
	m := []flume.Metric{
		{Name: "EventMissingTimestampCount", Value: float64(s.noTimestamp.Load())},
		{Name: "EventUnsafePathCount", Value: float64(s.unsafePath.Load())},
	}
	if s.dd != nil {
		m = append(m,
			flume.Metric{Name: "EventDuplicateSkippedCount", Value: float64(s.dd.skipped.Load())},
			flume.Metric{Name: "EventNoBookmarkCount", Value: float64(s.dd.noBM.Load())})
	}
	return m
}

// OpenFiles is the number of files being written.
func (s *Sink) OpenFiles() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, b := range s.buckets {
		if b.cur != nil {
			n++
		}
	}
	return n
}

func (s *Sink) openFS(ctx context.Context) (fsys.FS, error) {
	if s.cfg.FS != nil {
		return s.cfg.FS, nil
	}
	switch s.cfg.Scheme {
	case "file":
		return fsys.Local{}, nil
	case "hdfs":
		return fsys.DialHDFS(fsys.HDFSConfig{Address: s.cfg.Authority, User: s.cfg.HDFSUser, DialTimeout: s.cfg.CallTimeout})
	case "s3":
		return fsys.NewS3(s.cfg.S3)
	}
	return nil, fmt.Errorf("unsupported scheme %q", s.cfg.Scheme)
}

// Start connects to the file system, closes and renames the files a
// previous run left in use, and starts the roll timer.
func (s *Sink) Start(ctx context.Context) error {
	fs, err := s.openFS(ctx)
	if err != nil {
		s.counter.ConnectionFailed.Add(1)
		return fmt.Errorf("hdfs sink %q: %w", s.name, err)
	}
	host := s.cfg.Host
	if host == (Host{}) && (s.cfg.Path.usesHost() || s.cfg.FilePrefix.usesHost()) {
		host = lookupHost()
	}
	s.mu.Lock()
	s.fs, s.host = fs, host
	s.mu.Unlock()
	recorded := false
	if s.dd != nil {
		if err := os.MkdirAll(path.Dir(s.dd.path), 0o755); err != nil {
			return fmt.Errorf("hdfs sink %q: %w", s.name, err)
		}
		if recorded, err = s.recoverOutput(ctx); err != nil {
			return fmt.Errorf("hdfs sink %q: %w", s.name, err)
		}
	}
	if err := s.recoverInUse(ctx); err != nil {
		s.log.Error("recovering in-use files", "err", err)
	}
	if s.dd != nil && !recorded {
		// From now on every in-use file is accounted for by a record.
		if err := dedupe.Save(s.dd.path, s.dedupeSnapshot()); err != nil {
			return fmt.Errorf("hdfs sink %q: %w", s.name, err)
		}
	}
	s.mu.Lock()
	s.started = true
	if s.cfg.RollInterval > 0 || s.cfg.IdleTimeout > 0 {
		s.stop, s.done = make(chan struct{}), make(chan struct{})
		go s.rollTimer(s.stop, s.done)
	}
	s.mu.Unlock()
	s.counter.MarkStarted()
	return nil
}

// rollTimer checks the interval and idle rolls every second, the way
// Flume's scheduled closes would fire.
func (s *Sink) rollTimer(stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			s.mu.Lock()
			if s.started {
				s.checkRolls(context.Background())
			}
			s.mu.Unlock()
		}
	}
}

// Stop closes every open file under its final name.
func (s *Sink) Stop() error {
	s.mu.Lock()
	stop, done := s.stop, s.done
	s.stop, s.done = nil, nil
	s.started = false
	s.mu.Unlock()
	if stop != nil {
		close(stop)
		<-done
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var errs []error
	for k, b := range s.buckets {
		if b.cur != nil {
			if err := s.finish(context.Background(), b.cur); err != nil {
				errs = append(errs, err)
			}
			b.cur = nil
		}
		delete(s.buckets, k)
	}
	if s.fs != nil {
		if err := s.fs.Close(); err != nil {
			errs = append(errs, err)
		}
		s.fs = nil
	}
	s.counter.MarkStopped()
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("hdfs sink %q: %w", s.name, err)
	}
	return nil
}

// checkRolls closes the files whose rollInterval has passed and the buckets
// idle for idleTimeout. Called between transactions only.
func (s *Sink) checkRolls(ctx context.Context) {
	now := s.cfg.Now()
	for k, b := range s.buckets {
		idle := s.cfg.IdleTimeout > 0 && now.Sub(b.lastIO) >= s.cfg.IdleTimeout
		due := b.cur != nil && s.cfg.RollInterval > 0 && now.Sub(b.cur.opened) >= s.cfg.RollInterval
		if b.cur != nil && (idle || due) {
			if err := s.finish(ctx, b.cur); err != nil {
				s.log.Error("closing rolled file", "err", err)
			}
			b.cur = nil
		}
		if idle {
			delete(s.buckets, k)
		}
	}
}

// Process writes one transaction: take up to batchSize events, append each
// to its bucket's file, flush every file touched, then commit. On any
// failure the touched files are cut back to their committed length and
// closed, and the transaction is rolled back.
func (s *Sink) Process(ctx context.Context) (flume.Status, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.started {
		return flume.Backoff, fmt.Errorf("hdfs sink %q: not started", s.name)
	}
	s.checkRolls(ctx)

	tx := s.channel.NewTransaction()
	if err := tx.Begin(); err != nil {
		s.counter.ChannelReadFail.Add(1)
		_ = tx.Close()
		return flume.Backoff, fmt.Errorf("hdfs sink %q: %w", s.name, err)
	}
	var touched []*bucket
	n, err := s.writeBatch(ctx, tx, &touched)
	if err == nil {
	flush:
		for _, b := range touched {
			for _, f := range b.files() {
				if err = f.flush(); err != nil {
					s.counter.EventWriteFail.Add(int64(n))
					break flush
				}
			}
		}
	}
	recorded := false
	if err == nil && s.dd != nil && s.dd.batchWritten > 0 {
		// The batch is on disk once fsynced; record it before the commit.
		err = s.record(touched)
		recorded = err == nil || errors.Is(err, dedupe.ErrUnsynced)
	}
	if err == nil {
		if err = tx.Commit(); err != nil {
			err = fmt.Errorf("commit: %w", err)
		}
	}
	if err != nil && recorded {
		// The record covers the batch, so it stays in its files: the
		// channel gives it again and every event is skipped.
		s.settle(ctx, touched)
		_ = tx.Rollback()
		_ = tx.Close()
		return flume.Backoff, fmt.Errorf("hdfs sink %q: %w", s.name, err)
	}
	if err != nil {
		if s.dd != nil {
			s.endBatch(false)
		}
		for _, b := range touched {
			for _, f := range b.files() {
				s.abort(ctx, f)
			}
			b.cur, b.retiring, b.touched = nil, nil, false
		}
		_ = tx.Rollback()
		_ = tx.Close()
		return flume.Backoff, fmt.Errorf("hdfs sink %q: %w", s.name, err)
	}
	_ = tx.Close()
	s.settle(ctx, touched)
	s.evict(ctx)
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

// settle makes the batch's bytes the committed part of its files and
// closes the files it rolled.
func (s *Sink) settle(ctx context.Context, touched []*bucket) {
	if s.dd != nil {
		s.endBatch(true)
	}
	for _, b := range touched {
		for _, f := range b.files() {
			f.committed = f.pos
		}
		for _, f := range b.retiring {
			if err := s.finish(ctx, f); err != nil {
				s.log.Error("closing rolled file", "err", err)
			}
		}
		b.retiring, b.touched = nil, false
	}
}

func (s *Sink) writeBatch(ctx context.Context, tx flume.Transaction, touched *[]*bucket) (int, error) {
	n := 0
	for n < s.cfg.BatchSize {
		e, err := tx.Take()
		if err != nil {
			s.counter.ChannelReadFail.Add(1)
			return n, err
		}
		if e == nil {
			break
		}
		n++
		s.counter.EventDrainAttempt.Add(1)
		if s.dd != nil && !s.judge(e) {
			continue
		}
		b, err := s.bucketFor(e)
		if err != nil {
			s.counter.EventWriteFail.Add(1)
			return n, err
		}
		if !b.touched {
			b.touched = true
			*touched = append(*touched, b)
		}
		if err := s.append(ctx, b, e); err != nil {
			s.counter.EventWriteFail.Add(1)
			return n, err
		}
	}
	return n, nil
}

// bucketFor expands the path and prefix for e and returns their writer.
func (s *Sink) bucketFor(e *flume.Event) (*bucket, error) {
	var ts time.Time
	if s.cfg.Path.NeedsTime || s.cfg.FilePrefix.NeedsTime {
		var err error
		ts, err = Timestamp(e, s.cfg.UseLocalTimeStamp, s.cfg.Now(), s.cfg.Round, s.cfg.Location)
		if err != nil {
			if errors.Is(err, ErrNoTimestamp) {
				s.noTimestamp.Add(1)
			}
			return nil, err
		}
	}
	buf, err := s.cfg.Path.Expand(s.scratch[:0], e, ts, s.host)
	dirLen := len(buf)
	if err == nil {
		buf = append(buf, 0) // separator between dir and prefix
		buf, err = s.cfg.FilePrefix.Expand(buf, e, ts, s.host)
	}
	s.scratch = buf[:0]
	if err == nil && (s.cfg.Path.usesHeaders() || s.cfg.FilePrefix.usesHeaders()) {
		err = s.checkContained(string(buf[:dirLen]), string(buf[dirLen+1:]))
	}
	if err != nil {
		if errors.Is(err, ErrUnsafePath) {
			s.unsafePath.Add(1)
		}
		return nil, err
	}
	s.useSeq++
	if b, ok := s.buckets[string(buf)]; ok {
		b.lastUse = s.useSeq
		return b, nil
	}
	key := string(buf)
	dir, prefix := key[:dirLen], key[dirLen+1:]
	b := &bucket{key: key, dir: dir, prefix: prefix, counter: s.cfg.Now().UnixMilli(), lastUse: s.useSeq, lastIO: s.cfg.Now()}
	s.buckets[key] = b
	return b, nil
}

// checkContained is the last line of defence behind the header checks:
// whatever the escapes produced, no ".." element may appear after the
// template's literal base directory, and the file prefix may not be empty
// or climb.
func (s *Sink) checkContained(dir, prefix string) error {
	base := s.cfg.Path.baseDir()
	rest := strings.TrimPrefix(dir, base)
	if base == "" && strings.HasPrefix(rest, "/") && !strings.HasPrefix(s.cfg.Path.String(), "/") {
		return fmt.Errorf("path %q: %w: escapes made a relative path absolute", dir, ErrUnsafePath)
	}
	for _, el := range strings.Split(rest, "/") {
		if el == ".." {
			return fmt.Errorf("path %q: %w: escapes produced a \"..\" element", dir, ErrUnsafePath)
		}
	}
	for _, el := range strings.Split(prefix, "/") {
		if el == ".." || el == "." {
			return fmt.Errorf("file prefix %q: %w: escapes produced a %q element", prefix, ErrUnsafePath, el)
		}
	}
	if strings.HasPrefix(prefix, "/") {
		return fmt.Errorf("file prefix %q: %w: it is absolute", prefix, ErrUnsafePath)
	}
	return nil
}

// evict closes the least recently used buckets beyond hdfs.maxOpenFiles.
func (s *Sink) evict(ctx context.Context) {
	for len(s.buckets) > s.cfg.MaxOpenFiles {
		var lru *bucket
		for _, b := range s.buckets {
			if lru == nil || b.lastUse < lru.lastUse {
				lru = b
			}
		}
		if lru.cur != nil {
			if err := s.finish(ctx, lru.cur); err != nil {
				s.log.Error("closing least recently used file", "err", err)
			}
			lru.cur = nil
		}
		delete(s.buckets, lru.key)
	}
}

// lookupHost finds the values of %[localhost], %[IP] and %[FQDN] the way
// Java's InetAddress.getLocalHost does: the host name, the address it
// resolves to, and that address's reverse name.
func lookupHost() Host {
	name, _ := os.Hostname()
	h := Host{Name: name, IP: "127.0.0.1", FQDN: name}
	if addrs, err := net.LookupHost(name); err == nil && len(addrs) > 0 {
		h.IP = addrs[0]
		for _, a := range addrs {
			if ip := net.ParseIP(a); ip != nil && ip.To4() != nil {
				h.IP = a
				break
			}
		}
		if names, err := net.LookupAddr(h.IP); err == nil && len(names) > 0 {
			h.FQDN = strings.TrimSuffix(names[0], ".")
		}
	}
	return h
}
