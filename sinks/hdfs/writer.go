package hdfs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strconv"
	"time"

	"ampsflume/flume"
	"ampsflume/serializer"
	"ampsflume/sinks/hdfs/fsys"
)

// stream is what a serializer writes to: the batch's bytes collect in buf
// (compressed, for a CompressedStream), and reach the file only when the
// batch is flushed. Each flush ends a compression member, so the file is a
// valid compressed file after every committed batch.
type stream struct {
	buf     bytes.Buffer
	comp    compressor // nil for DataStream
	started bool       // a member is open in comp
	pend    []byte     // small writes gathered for the compressor
}

// compressChunk is how much is gathered before the compressor sees it: a
// compressor call per tiny event costs more than the compression.
const compressChunk = 64 << 10

func (s *stream) Write(p []byte) (int, error) {
	if s.comp == nil {
		return s.buf.Write(p)
	}
	s.pend = append(s.pend, p...)
	if len(s.pend) >= compressChunk {
		if err := s.compress(); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

func (s *stream) compress() error {
	if len(s.pend) == 0 {
		return nil
	}
	if !s.started {
		s.comp.Reset(&s.buf)
		s.started = true
	}
	_, err := s.comp.Write(s.pend)
	s.pend = s.pend[:0]
	return err
}

// finish ends the open compression member, if any.
func (s *stream) finish() error {
	if s.comp == nil {
		return nil
	}
	if err := s.compress(); err != nil {
		return err
	}
	if !s.started {
		return nil
	}
	s.started = false
	return s.comp.Close()
}

// outFile is one file being written.
type outFile struct {
	file      fsys.File
	inUse     string // name while written
	final     string // name once complete
	st        *stream
	ser       serializer.Serializer
	committed int64 // bytes of committed batches
	pos       int64 // bytes handed to the file
	events    int64 // events written (Flume's eventCounter)
	bodyBytes int64 // body bytes written (Flume's processSize)
	opened    time.Time
}

// flush hands the batch to the file and makes it visible.
func (f *outFile) flush() error {
	if err := f.ser.Flush(); err != nil {
		return fmt.Errorf("serializing for %s: %w", f.inUse, err)
	}
	if err := f.st.finish(); err != nil {
		return fmt.Errorf("compressing for %s: %w", f.inUse, err)
	}
	if f.st.buf.Len() > 0 {
		n, err := f.file.Write(f.st.buf.Bytes())
		f.pos += int64(n)
		f.st.buf.Reset()
		if err != nil {
			return fmt.Errorf("writing %s: %w", f.inUse, err)
		}
	}
	if err := f.file.Flush(); err != nil {
		return fmt.Errorf("flushing %s: %w", f.inUse, err)
	}
	return nil
}

// bucket is the writer of one expanded directory + file prefix: Flume's
// BucketWriter. It has at most one open file, and the files it rolled during
// the current transaction, which are closed once the transaction commits.
type bucket struct {
	key      string // dir + "/" + prefix
	dir      string
	prefix   string
	counter  int64 // Flume's fileExtensionCounter: starts at the creation time in ms
	cur      *outFile
	retiring []*outFile
	lastUse  uint64    // for least-recently-used eviction
	lastIO   time.Time // last append, for hdfs.idleTimeout
	touched  bool      // written in the current transaction
}

// open starts the bucket's next file, skipping names that exist.
func (s *Sink) open(ctx context.Context, b *bucket) error {
	ext := s.cfg.FileSuffix
	var comp compressor
	if s.codec != nil {
		if s.cfg.Sequence == nil { // a SequenceFile compresses inside its records
			comp = s.codec.make(io.Discard)
		}
		if ext == "" {
			ext = s.codec.ext // as Flume names compressed SequenceFiles too
		}
	}
	for range 100 {
		n := b.counter
		b.counter++
		base := b.prefix + "." + strconv.FormatInt(n, 10) + ext
		final := path.Join(b.dir, base)
		inUse := path.Join(b.dir, s.cfg.InUsePrefix+base+s.cfg.InUseSuffix)
		cctx, cancel := context.WithTimeout(ctx, s.cfg.CallTimeout)
		file, err := s.fs.Create(cctx, inUse)
		cancel()
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			s.counter.ConnectionFailed.Add(1)
			return fmt.Errorf("creating %s: %w", inUse, err)
		}
		st := &stream{comp: comp}
		var ser serializer.Serializer
		if s.cfg.Sequence != nil {
			ser = s.newSeqSerializer(st)
		} else {
			ser, err = serializer.New(s.cfg.Serializer, s.cfg.SerializerConfig, st)
		}
		if err == nil {
			err = ser.AfterCreate()
		}
		if err != nil {
			_ = file.Close()
			_ = s.fs.Remove(ctx, inUse)
			return fmt.Errorf("serializer for %s: %w", inUse, err)
		}
		s.counter.ConnectionCreated.Add(1)
		b.cur = &outFile{file: file, inUse: inUse, final: final, st: st, ser: ser, opened: s.cfg.Now()}
		s.log.Debug("opened", "file", inUse)
		return nil
	}
	s.counter.ConnectionFailed.Add(1)
	return fmt.Errorf("no free file name for %s in %s", b.prefix, b.dir)
}

// shouldRotate is Flume's check before each append.
func (s *Sink) shouldRotate(f *outFile) bool {
	return (s.cfg.RollCount > 0 && f.events >= s.cfg.RollCount) ||
		(s.cfg.RollSize > 0 && f.bodyBytes >= s.cfg.RollSize)
}

// append writes one event to the bucket, rolling first when the current file
// is full. A rolled file is kept until the transaction ends: it holds part of
// the batch, which is only final at commit.
func (s *Sink) append(ctx context.Context, b *bucket, e *flume.Event) error {
	if b.cur != nil && s.shouldRotate(b.cur) {
		b.retiring = append(b.retiring, b.cur)
		b.cur = nil
	}
	if b.cur == nil {
		if err := s.open(ctx, b); err != nil {
			return err
		}
	}
	f := b.cur
	if err := f.ser.Write(e); err != nil {
		return fmt.Errorf("serializing for %s: %w", f.inUse, err)
	}
	f.events++
	f.bodyBytes += int64(len(e.Body))
	b.lastIO = s.cfg.Now()
	return nil
}

// files lists the bucket's files touched by the current transaction.
func (b *bucket) files() []*outFile {
	out := b.retiring
	if b.cur != nil {
		out = append(out[:len(out):len(out)], b.cur)
	}
	return out
}

// finish closes a complete file and gives it its final name. Everything in
// it has been flushed and committed; a failure leaves the in-use file for
// the recovery at the next start.
func (s *Sink) finish(ctx context.Context, f *outFile) error {
	err := f.ser.BeforeClose()
	if err == nil {
		err = f.flush()
	}
	if cerr := f.file.Close(); err == nil {
		err = cerr
	}
	s.counter.ConnectionClosed.Add(1)
	if err != nil {
		return fmt.Errorf("closing %s: %w", f.inUse, err)
	}
	return s.rename(ctx, f.inUse, f.final)
}

func (s *Sink) rename(ctx context.Context, from, to string) error {
	if from == to {
		return nil
	}
	cctx, cancel := context.WithTimeout(ctx, s.cfg.CallTimeout)
	defer cancel()
	if err := s.fs.Rename(cctx, from, to); err != nil {
		return fmt.Errorf("renaming %s to %s: %w", from, to, err)
	}
	s.log.Debug("closed", "file", to)
	return nil
}

// abort drops a failed transaction's bytes from a file: the file is cut back
// to its committed length and closed as it is then (a valid file, since
// every committed batch ended a block and a compression member), or removed
// if nothing in it was committed. Its serializer's state is thrown away with
// it: the retried batch goes to a new file.
func (s *Sink) abort(ctx context.Context, f *outFile) {
	err := f.file.Truncate(f.committed)
	if cerr := f.file.Close(); err == nil {
		err = cerr
	}
	s.counter.ConnectionClosed.Add(1)
	if err != nil {
		s.log.Error("cannot cut a failed batch out of the file; the retry may repeat its events",
			"file", f.inUse, "committed", f.committed, "err", err)
	}
	if f.committed == 0 && err == nil {
		if err := s.fs.Remove(ctx, f.inUse); err != nil {
			s.log.Error("cannot remove an empty in-use file", "file", f.inUse, "err", err)
		}
		return
	}
	if err := s.rename(ctx, f.inUse, f.final); err != nil {
		s.log.Error("file left with its in-use name; it is renamed at the next start", "err", err)
	}
}
