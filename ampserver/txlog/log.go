package txlog

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Defaults for a zero Options field.
const (
	DefaultSegmentSize   = 64 << 20
	DefaultFlushInterval = 100 * time.Millisecond
)

// segmentExt is the file name suffix of a journal segment.
const segmentExt = ".journal"

// indexEvery is the spacing, in records, of a segment's sparse index.
const indexEvery = 256

// writeChunk is how much an appender buffers before writing to the file.
const writeChunk = 256 << 10

// Options configures a Log.
type Options struct {
	// Dir holds the segment files; it is created if missing.
	Dir string
	// SegmentSize is the size at which a new segment is started
	// (MinJournalSize in the AMPS configuration).
	SegmentSize int64
	// FlushInterval is the group-commit period: records are fsynced at most
	// this long after Append. Negative disables the background loop (call
	// Sync yourself).
	FlushInterval time.Duration
	// OnDurable, if set, is called from the flushing goroutine with the
	// highest sequence number known to be on disk, each time it grows.
	OnDurable func(seq uint64)
	Logger    *slog.Logger
}

// segment is one journal file.
type segment struct {
	path   string
	first  uint64 // sequence number of its first record (or of the next, if empty)
	last   uint64 // sequence number of its last record; first-1 when empty
	size   int64  // bytes written to the file (records only)
	lastTS int64  // highest record timestamp
	index  []indexEntry
}

type indexEntry struct {
	seq uint64
	off int64
}

// Log is an open journal.
type Log struct {
	opts Options
	log  *slog.Logger

	syncMu sync.Mutex // serialises Sync

	mu      sync.Mutex
	segs    []*segment
	cur     *os.File // the last segment, open for appends
	buf     []byte   // encoded records not yet written to cur
	bufSize int64    // len(buf), counted into the segment's logical size
	next    uint64   // sequence number of the next record
	durable uint64   // highest fsynced sequence number
	closed  bool
	failed  error // a write error: the log refuses further appends
	clients map[string]uint64

	stop chan struct{}
	done chan struct{}
}

// Open opens (creating if needed) the journal in opts.Dir and recovers it.
func Open(opts Options) (*Log, error) {
	if opts.Dir == "" {
		return nil, errors.New("txlog: no journal directory")
	}
	if opts.SegmentSize <= 0 {
		opts.SegmentSize = DefaultSegmentSize
	}
	if opts.FlushInterval == 0 {
		opts.FlushInterval = DefaultFlushInterval
	}
	l := &Log{opts: opts, log: opts.Logger, next: 1, clients: map[string]uint64{}}
	if l.log == nil {
		l.log = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(opts.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("txlog: %w", err)
	}
	if err := l.recover(); err != nil {
		return nil, err
	}
	if err := l.openActive(); err != nil {
		return nil, err
	}
	l.durable = l.next - 1
	if opts.FlushInterval > 0 {
		l.stop, l.done = make(chan struct{}), make(chan struct{})
		go l.flushLoop()
	}
	return l, nil
}

func segmentName(first uint64) string {
	return fmt.Sprintf("%020d%s", first, segmentExt)
}

// recover scans every segment, rebuilding the indexes and the per-client
// sequence numbers, and truncates a torn tail of the last segment.
func (l *Log) recover() error {
	ents, err := os.ReadDir(l.opts.Dir)
	if err != nil {
		return fmt.Errorf("txlog: %w", err)
	}
	for _, e := range ents {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, segmentExt) {
			continue
		}
		first, err := strconv.ParseUint(strings.TrimSuffix(name, segmentExt), 10, 64)
		if err != nil || first == 0 {
			return fmt.Errorf("txlog: %s: unexpected segment file name", filepath.Join(l.opts.Dir, name))
		}
		l.segs = append(l.segs, &segment{path: filepath.Join(l.opts.Dir, name), first: first, last: first - 1})
	}
	sort.Slice(l.segs, func(i, j int) bool { return l.segs[i].first < l.segs[j].first })
	for i, sg := range l.segs {
		if i > 0 && sg.first != l.next {
			return fmt.Errorf("txlog: %s: starts at sequence %d, want %d (a segment is missing)", sg.path, sg.first, l.next)
		}
		l.next = sg.first
		lastSeg := i == len(l.segs)-1
		if err := l.scan(sg, lastSeg); err != nil {
			return err
		}
		l.next = sg.last + 1
	}
	return nil
}

// scanChunk is the read size of scan: recovery holds one chunk of a segment
// at a time (plus a record larger than that), not the whole file, so that
// opening a journal does not raise the heap by a segment's size.
const scanChunk = 1 << 20

// scan reads one segment. A bad record ends the last segment (it is
// truncated there); in any other segment it is an error.
func (l *Log) scan(sg *segment, lastSeg bool) error {
	f, err := os.Open(sg.path)
	if err != nil {
		return fmt.Errorf("txlog: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("txlog: %w", err)
	}
	size := fi.Size()
	buf := make([]byte, 0, min(int64(scanChunk), size))
	var (
		r    Record
		base int64 // file offset of buf[0]
		pos  int   // read position in buf
		read int64 // bytes read from the file
		want = sg.first
	)
	for {
		n, err := decodeFrame(buf[pos:], &r)
		// A frame that claims to end past the end of the file is a torn
		// tail: it is not read.
		if errors.Is(err, errShort) && read < size && base+int64(pos)+frameLen(buf[pos:]) <= size {
			// Keep the partial frame and read after it.
			rest := copy(buf[:cap(buf)], buf[pos:])
			base += int64(pos)
			buf, pos = buf[:rest], 0
			if fl := frameLen(buf); fl > int64(cap(buf)) {
				nb := make([]byte, rest, fl) // a record larger than a chunk
				copy(nb, buf)
				buf = nb
			}
			m, err := io.ReadFull(f, buf[rest:min(int64(cap(buf)), int64(rest)+size-read)])
			read += int64(m)
			buf = buf[:rest+m]
			if err != nil {
				return fmt.Errorf("txlog: read %s: %w", sg.path, err)
			}
			continue
		}
		if err == nil && r.Seq != want {
			err = fmt.Errorf("sequence %d where %d was expected", r.Seq, want)
		}
		off := base + int64(pos)
		if err != nil {
			if pos == len(buf) && read == size {
				break // the end of the segment, on a record boundary
			}
			if !lastSeg {
				return fmt.Errorf("txlog: %s: offset %d: %w", sg.path, off, err)
			}
			l.log.Warn("transaction log: truncating a torn tail", "file", sg.path, "offset", off, "bytes", size-off, "err", err)
			if err := os.Truncate(sg.path, off); err != nil {
				return fmt.Errorf("txlog: truncate %s: %w", sg.path, err)
			}
			sg.size = off
			return nil
		}
		l.noteRecord(sg, &r, off)
		pos += n
		want++
	}
	sg.size = size
	return nil
}

// frameLen is the size of the frame at the start of b, as its header
// tells (0 when the header is incomplete).
func frameLen(b []byte) int64 {
	if len(b) < frameHeader {
		return 0
	}
	return int64(frameHeader) + int64(binary.LittleEndian.Uint32(b))
}

// noteRecord updates a segment's metadata for a record at off.
func (l *Log) noteRecord(sg *segment, r *Record, off int64) {
	if (r.Seq-sg.first)%indexEvery == 0 {
		sg.index = append(sg.index, indexEntry{seq: r.Seq, off: off})
	}
	sg.last = r.Seq
	if r.Timestamp > sg.lastTS {
		sg.lastTS = r.Timestamp
	}
	if r.ClientName != "" && r.ClientSeq > l.clients[r.ClientName] {
		l.clients[r.ClientName] = r.ClientSeq
	}
}

// openActive opens the last segment for appends, creating the first one.
func (l *Log) openActive() error {
	if len(l.segs) == 0 {
		return l.newSegment()
	}
	sg := l.segs[len(l.segs)-1]
	f, err := os.OpenFile(sg.path, os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("txlog: %w", err)
	}
	// Open counts every recovered record as durable, but a process killed
	// between an append and its group commit leaves records that are only
	// in the page cache: a machine crash after this start could still lose
	// them, and their sequence numbers (and so bookmarks a subscriber or a
	// queue consumer already holds) would be issued again. One fsync here
	// makes what recovery found as durable as it is counted.
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("txlog: sync %s: %w", sg.path, err)
	}
	l.cur = f
	return nil
}

// newSegment starts a segment at l.next; the caller holds mu (or is Open).
func (l *Log) newSegment() error {
	sg := &segment{path: filepath.Join(l.opts.Dir, segmentName(l.next)), first: l.next, last: l.next - 1}
	f, err := os.OpenFile(sg.path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("txlog: %w", err)
	}
	syncDir(l.opts.Dir)
	l.segs = append(l.segs, sg)
	l.cur = f
	return nil
}

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}

// ClientSeqs returns, per client name, the highest publish sequence number
// found in the journal when it was opened.
func (l *Log) ClientSeqs() map[string]uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	m := make(map[string]uint64, len(l.clients))
	for k, v := range l.clients {
		m[k] = v
	}
	return m
}

// ErrClosed is returned by operations on a closed Log.
var ErrClosed = errors.New("txlog: closed")

// Append journals r, setting r.Seq. The record is durable only after a
// later Sync (or flush of the background loop) covers its sequence number.
func (l *Log) Append(r *Record) (uint64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return 0, ErrClosed
	}
	if l.failed != nil {
		return 0, l.failed
	}
	sg := l.segs[len(l.segs)-1]
	if sg.size+l.bufSize >= l.opts.SegmentSize && sg.last >= sg.first {
		if err := l.roll(); err != nil {
			l.failed = err
			return 0, err
		}
		sg = l.segs[len(l.segs)-1]
	}
	r.Seq = l.next
	off := sg.size + l.bufSize
	start := len(l.buf)
	l.buf = appendRecord(l.buf, r)
	l.bufSize += int64(len(l.buf) - start)
	l.next++
	l.noteRecord(sg, r, off)
	if len(l.buf) >= writeChunk {
		if err := l.writeOut(); err != nil {
			return 0, err
		}
	}
	return r.Seq, nil
}

// writeOut hands buffered records to the operating system; mu is held.
func (l *Log) writeOut() error {
	if len(l.buf) == 0 {
		return nil
	}
	sg := l.segs[len(l.segs)-1]
	if _, err := l.cur.Write(l.buf); err != nil {
		l.failed = fmt.Errorf("txlog: write %s: %w", sg.path, err)
		return l.failed
	}
	sg.size += l.bufSize
	l.buf, l.bufSize = l.buf[:0], 0
	if cap(l.buf) > 4*writeChunk {
		l.buf = nil
	}
	return nil
}

// roll completes the current segment (written and fsynced) and starts the
// next; mu is held.
func (l *Log) roll() error {
	if err := l.writeOut(); err != nil {
		return err
	}
	if err := l.cur.Sync(); err != nil {
		return fmt.Errorf("txlog: sync: %w", err)
	}
	if err := l.cur.Close(); err != nil {
		return fmt.Errorf("txlog: close: %w", err)
	}
	l.durable = l.next - 1
	return l.newSegment()
}

// NextSeq is the sequence number the next Append will get. Every record
// with a smaller number has been appended.
func (l *Log) NextSeq() uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.next
}

// FirstSeq is the sequence number of the oldest record (NextSeq when the
// journal is empty).
func (l *Log) FirstSeq() uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.segs[0].first
}

// Durable is the highest sequence number known to be on disk.
func (l *Log) Durable() uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.durable
}

// Sync writes and fsyncs every record appended so far, then reports the new
// durable point to OnDurable. Concurrent calls share the work in order.
func (l *Log) Sync() error {
	l.syncMu.Lock()
	defer l.syncMu.Unlock()
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return ErrClosed
	}
	target := l.next - 1
	if target == l.durable {
		l.mu.Unlock()
		return nil
	}
	if err := l.writeOut(); err != nil {
		l.mu.Unlock()
		return err
	}
	f := l.cur
	l.mu.Unlock()
	// Appends go on while the disk works; a segment roll meanwhile closes
	// f after syncing it, which covers target too.
	if err := f.Sync(); err != nil && !errors.Is(err, os.ErrClosed) {
		l.mu.Lock()
		l.failed = fmt.Errorf("txlog: sync: %w", err)
		l.mu.Unlock()
		return l.failed
	}
	l.mu.Lock()
	if target > l.durable {
		l.durable = target
	}
	d := l.durable
	l.mu.Unlock()
	if l.opts.OnDurable != nil {
		l.opts.OnDurable(d)
	}
	return nil
}

func (l *Log) flushLoop() {
	defer close(l.done)
	tk := time.NewTicker(l.opts.FlushInterval)
	defer tk.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-tk.C:
			if err := l.Sync(); err != nil && !errors.Is(err, ErrClosed) {
				l.log.Error("transaction log flush failed", "err", err)
			}
		}
	}
}

// Close syncs and closes the journal.
func (l *Log) Close() error {
	if l.stop != nil {
		close(l.stop)
		<-l.done
		l.stop = nil
	}
	err := l.Sync()
	if errors.Is(err, ErrClosed) {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.closed = true
	if cerr := l.cur.Close(); err == nil {
		err = cerr
	}
	return err
}

// ensureWritten makes sure records below seq are in the file, for readers.
func (l *Log) ensureWritten() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return ErrClosed
	}
	return l.writeOut()
}

// segmentFor returns the segment index holding seq (or where it would be),
// and a copy of that segment's readable extent; ok is false past the end.
func (l *Log) segmentInfo(i int) (sg segment, active, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if i < 0 || i >= len(l.segs) {
		return segment{}, false, false
	}
	s := l.segs[i]
	return segment{path: s.path, first: s.first, last: s.last, size: s.size, lastTS: s.lastTS}, i == len(l.segs)-1, true
}

// locate returns the segment index and a file offset at or before seq.
func (l *Log) locate(seq uint64) (int, int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	i := sort.Search(len(l.segs), func(i int) bool { return l.segs[i].first > seq }) - 1
	if i < 0 {
		return 0, 0
	}
	sg := l.segs[i]
	j := sort.Search(len(sg.index), func(j int) bool { return sg.index[j].seq > seq }) - 1
	if j < 0 {
		return i, 0
	}
	return i, sg.index[j].off
}

// firstSegmentAfter returns the index of the first segment whose records
// may have a timestamp at or after ts.
func (l *Log) firstSegmentAfter(ts int64) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i, sg := range l.segs {
		if sg.last >= sg.first && sg.lastTS >= ts {
			return i
		}
	}
	return len(l.segs)
}
