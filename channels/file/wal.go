package file

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"ampsflume/flume"
)

// Segment files are named log-<id>.wal. Each starts with a 16-byte header:
// the magic "flumeWAL", a u32 format version and the u32 segment id, so a
// file copied or renamed by hand is detected rather than misread.
const (
	segMagic      = "flumeWAL"
	segVersion    = 1
	segHeaderSize = 16
	segPrefix     = "log-"
	segSuffix     = ".wal"
)

func segName(id uint32) string { return fmt.Sprintf("%s%08d%s", segPrefix, id, segSuffix) }

// parseSegName returns the id of a segment file name.
func parseSegName(name string) (uint32, bool) {
	s, ok := strings.CutPrefix(name, segPrefix)
	if !ok {
		return 0, false
	}
	s, ok = strings.CutSuffix(s, segSuffix)
	if !ok {
		return 0, false
	}
	id, err := strconv.ParseUint(s, 10, 32)
	if err != nil || id == 0 {
		return 0, false
	}
	return uint32(id), true
}

func segHeader(id uint32) []byte {
	b := make([]byte, 0, segHeaderSize)
	b = append(b, segMagic...)
	b = binary.BigEndian.AppendUint32(b, segVersion)
	return binary.BigEndian.AppendUint32(b, id)
}

func checkSegHeader(b []byte, id uint32) error {
	if len(b) < segHeaderSize {
		return fmt.Errorf("%w: segment header of %d bytes", errShort, len(b))
	}
	if string(b[:8]) != segMagic {
		return fmt.Errorf("%w: not a channel log segment (bad magic)", errBadRecord)
	}
	if v := binary.BigEndian.Uint32(b[8:]); v != segVersion {
		return fmt.Errorf("%w: unsupported segment version %d", errBadRecord, v)
	}
	if got := binary.BigEndian.Uint32(b[12:]); got != id {
		return fmt.Errorf("%w: header says segment %d, file name says %d", errBadRecord, got, id)
	}
	return nil
}

// listSegments finds the segments of the data directories, sorted by id.
func listSegments(fsys fs, dirs []string) ([]segInfo, error) {
	var out []segInfo
	seen := map[uint32]string{}
	for _, d := range dirs {
		names, err := fsys.ReadDir(d)
		if err != nil {
			return nil, fmt.Errorf("list data directory %s: %w", d, err)
		}
		for _, n := range names {
			id, ok := parseSegName(n)
			if !ok {
				continue
			}
			p := filepath.Join(d, n)
			if prev, dup := seen[id]; dup {
				return nil, fmt.Errorf("segment %d exists twice: %s and %s", id, prev, p)
			}
			seen[id] = p
			out = append(out, segInfo{id: id, path: p})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
	return out, nil
}

type segInfo struct {
	id   uint32
	path string
}

type segment struct {
	segInfo
	f file
}

// wal is the write-ahead log: a sequence of segments, one of them active.
// Appends are serialised by the channel; fsyncs are batched (group commit):
// a committer that finds no fsync under way runs one itself, covering
// everything appended so far, and committers arriving meanwhile wait for
// the next one, which one of them runs. Concurrent commits thus share an
// fsync, and a lone committer pays no hand-off to another goroutine (two
// wake-ups per commit, which on a loaded machine cost as much as a small
// batch's write).
type wal struct {
	fs      fs
	dirs    []string
	maxSize int64

	mu     sync.Mutex // guards segs, active, size, nextID, failed
	segs   map[uint32]*segment
	active *segment
	size   int64
	nextID uint32
	failed error
	// broken is set with failed, so that err, asked at every put, needs
	// no lock while the log is healthy.
	broken atomic.Bool

	// fileMu is held for reading while a file is fsynced or read outside mu
	// and for writing while a file is closed, so a segment is never closed
	// under a reader.
	fileMu sync.RWMutex

	written atomic.Uint64 // ptr just past the last appended byte

	syncMu  sync.Mutex
	cond    *sync.Cond
	synced  ptr
	syncErr error
	closed  bool
	syncing bool // a committer is running an fsync for the others
	done    chan struct{}
	wg      sync.WaitGroup
}

func newWAL(fsys fs, dirs []string, maxSize int64) *wal {
	w := &wal{fs: fsys, dirs: dirs, maxSize: maxSize, segs: map[uint32]*segment{},
		done: make(chan struct{})}
	w.cond = sync.NewCond(&w.syncMu)
	return w
}

// addSegment registers an existing segment (found at replay) for reading.
func (w *wal) addSegment(s *segment) {
	w.mu.Lock()
	w.segs[s.id] = s
	if s.id >= w.nextID {
		w.nextID = s.id + 1
	}
	w.mu.Unlock()
}

// startNew creates a fresh active segment; called once after replay, so
// that segments written before a restart are never appended to again.
func (w *wal) startNew() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.nextID == 0 {
		w.nextID = 1
	}
	return w.rollLocked()
}

// rollLocked makes the active segment durable and opens the next one.
func (w *wal) rollLocked() error {
	if w.active != nil {
		if err := w.active.f.Sync(); err != nil {
			return w.failLocked(fmt.Errorf("fsync %s: %w", w.active.path, err))
		}
	}
	id := w.nextID
	dir := w.dirs[int(id)%len(w.dirs)]
	p := filepath.Join(dir, segName(id))
	f, err := w.fs.OpenFile(p, os.O_RDWR|os.O_CREATE|os.O_EXCL|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("create segment %s: %w", p, err)
	}
	if _, err := f.Write(segHeader(id)); err != nil {
		f.Close()
		_ = w.fs.Remove(p)
		return fmt.Errorf("write segment header %s: %w", p, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return w.failLocked(fmt.Errorf("fsync %s: %w", p, err))
	}
	if err := w.fs.SyncDir(dir); err != nil {
		f.Close()
		return w.failLocked(fmt.Errorf("fsync directory %s: %w", dir, err))
	}
	w.nextID++
	s := &segment{segInfo{id, p}, f}
	w.segs[id] = s
	w.active, w.size = s, segHeaderSize
	end := mkptr(id, segHeaderSize)
	w.written.Store(uint64(end))
	// Everything before the new segment is durable now.
	w.syncMu.Lock()
	w.synced = max(w.synced, end)
	w.cond.Broadcast()
	w.syncMu.Unlock()
	return nil
}

// failLocked makes err sticky: after a failed fsync nothing can be assumed
// about unsynced data, so the log refuses further work until reopened.
func (w *wal) failLocked(err error) error {
	if w.failed == nil {
		w.failed = err
		w.broken.Store(true)
	}
	w.syncMu.Lock()
	if w.syncErr == nil {
		w.syncErr = err
	}
	w.cond.Broadcast()
	w.syncMu.Unlock()
	return err
}

func (w *wal) err() error {
	if !w.broken.Load() {
		return nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.failed
}

// isNoSpace reports whether err means the disk is full.
func isNoSpace(err error) bool {
	return errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT)
}

// append writes buf (whole records) at the end of the log and returns the
// position of its first byte and the position just past it. A failed write
// is cut off again, so the log never keeps half a batch; if even that fails
// the log fails.
func (w *wal) append(buf []byte) (base, end ptr, err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.failed != nil {
		return 0, 0, w.failed
	}
	if int64(len(buf))+segHeaderSize > w.maxSize {
		return 0, 0, fmt.Errorf("%d bytes of records exceed maxFileSize %d", len(buf), w.maxSize)
	}
	if w.size+int64(len(buf)) > w.maxSize {
		if err := w.rollLocked(); err != nil {
			return 0, 0, err
		}
	}
	s := w.active
	n, werr := s.f.Write(buf)
	if werr == nil && n != len(buf) {
		werr = fmt.Errorf("short write of %d of %d bytes", n, len(buf))
	}
	if werr != nil {
		werr = fmt.Errorf("write %s: %w", s.path, werr)
		if terr := s.f.Truncate(w.size); terr != nil {
			return 0, 0, w.failLocked(fmt.Errorf("%v; cutting off the partial write failed too: %w", werr, terr))
		}
		if isNoSpace(werr) {
			werr = fmt.Errorf("%w: %w", flume.ErrChannelFull, werr)
		}
		return 0, 0, werr
	}
	base = mkptr(s.id, w.size)
	w.size += int64(len(buf))
	end = mkptr(s.id, w.size)
	w.written.Store(uint64(end))
	return base, end, nil
}

// end is the position just past the last appended byte.
func (w *wal) end() ptr { return ptr(w.written.Load()) }

// startFlusher runs the goroutine that fsyncs every interval when commits
// do not wait for durability (fsyncPerTransaction=false). Committers that
// do wait run their fsyncs themselves (waitSynced).
func (w *wal) startFlusher(interval time.Duration) {
	if interval <= 0 {
		return
	}
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-t.C:
			case <-w.done:
				return
			}
			w.syncNow()
		}
	}()
}

// syncNow fsyncs the active segment and releases every committer whose
// records it covers.
func (w *wal) syncNow() {
	w.mu.Lock()
	if w.active == nil || w.failed != nil {
		w.mu.Unlock()
		return
	}
	s, target := w.active, w.end()
	w.syncMu.Lock()
	already := w.synced >= target
	w.syncMu.Unlock()
	if already {
		w.mu.Unlock()
		return
	}
	// Taken before mu is released, so that the segment cannot be rolled
	// away and closed between choosing it and fsyncing it.
	w.fileMu.RLock()
	w.mu.Unlock()
	err := s.f.Sync()
	w.fileMu.RUnlock()
	if err != nil {
		w.mu.Lock()
		_ = w.failLocked(fmt.Errorf("fsync %s: %w", s.path, err))
		w.mu.Unlock()
		return
	}
	w.syncMu.Lock()
	w.synced = max(w.synced, target)
	w.cond.Broadcast()
	w.syncMu.Unlock()
}

// waitSynced blocks until the log is durable up to p. The first committer
// to find no fsync under way runs it (it covers the appends of everyone
// waiting); the others wait for it and, if it did not reach their
// position, elect the next one among themselves.
func (w *wal) waitSynced(p ptr) error {
	w.syncMu.Lock()
	defer w.syncMu.Unlock()
	for w.synced < p {
		if w.syncErr != nil {
			return w.syncErr
		}
		if w.closed {
			return flume.ErrChannelClosed
		}
		if w.syncing {
			w.cond.Wait()
			continue
		}
		w.syncing = true
		w.syncMu.Unlock()
		w.syncNow()
		w.syncMu.Lock()
		w.syncing = false
		w.cond.Broadcast()
	}
	return nil
}

// syncTo makes the log durable up to p without the flusher (used by
// checkpoints and close, when the flusher may be stopped).
func (w *wal) syncTo(p ptr) error {
	w.syncMu.Lock()
	done := w.synced >= p
	w.syncMu.Unlock()
	if done {
		return nil
	}
	w.syncNow()
	w.syncMu.Lock()
	defer w.syncMu.Unlock()
	if w.synced >= p {
		return nil
	}
	if w.syncErr != nil {
		return w.syncErr
	}
	return fmt.Errorf("log not durable up to %v", p)
}

// read returns the event of the PUT record at p.
func (w *wal) read(p ptr) (*flume.Event, error) {
	w.mu.Lock()
	s := w.segs[p.seg()]
	w.mu.Unlock()
	if s == nil {
		return nil, fmt.Errorf("event %v: segment %d is missing", p, p.seg())
	}
	w.fileMu.RLock()
	defer w.fileMu.RUnlock()
	var hdr [recordHeaderSize]byte
	if _, err := s.f.ReadAt(hdr[:], p.off()); err != nil {
		return nil, fmt.Errorf("read %s at offset %d: %w", s.path, p.off(), err)
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if n < minPayload || int64(n) > w.maxSize {
		return nil, fmt.Errorf("%w in %s at offset %d: length %d out of range", errBadRecord, s.path, p.off(), n)
	}
	b := make([]byte, recordHeaderSize+int(n))
	copy(b, hdr[:])
	if _, err := s.f.ReadAt(b[recordHeaderSize:], p.off()+recordHeaderSize); err != nil {
		return nil, fmt.Errorf("read %s at offset %d: %w", s.path, p.off(), err)
	}
	r, _, err := decodeRecord(b, w.maxSize, true)
	if err == nil && r.typ != recPut {
		err = fmt.Errorf("%w: record type %d where a put was expected", errBadRecord, r.typ)
	}
	if err != nil {
		return nil, fmt.Errorf("%w (in %s at offset %d)", err, s.path, p.off())
	}
	return r.event, nil
}

// remove deletes segments no longer needed (never the active one).
func (w *wal) remove(ids []uint32) []error {
	var errs []error
	dirs := map[string]bool{}
	for _, id := range ids {
		w.mu.Lock()
		s := w.segs[id]
		if s == nil || s == w.active {
			w.mu.Unlock()
			continue
		}
		delete(w.segs, id)
		w.mu.Unlock()
		w.fileMu.Lock()
		_ = s.f.Close()
		w.fileMu.Unlock()
		if err := w.fs.Remove(s.path); err != nil {
			errs = append(errs, fmt.Errorf("delete segment %s: %w", s.path, err))
			continue
		}
		dirs[filepath.Dir(s.path)] = true
	}
	for d := range dirs {
		if err := w.fs.SyncDir(d); err != nil {
			errs = append(errs, fmt.Errorf("fsync directory %s: %w", d, err))
		}
	}
	return errs
}

// segmentIDs lists the open segments.
func (w *wal) segmentIDs() []uint32 {
	w.mu.Lock()
	defer w.mu.Unlock()
	ids := make([]uint32, 0, len(w.segs))
	for id := range w.segs {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return ids
}

// close stops the flusher and closes every file. It does not fsync: the
// caller decides (a clean stop syncs first; a simulated crash does not).
func (w *wal) close() error {
	w.syncMu.Lock()
	w.closed = true
	w.cond.Broadcast()
	w.syncMu.Unlock()
	select {
	case <-w.done:
	default:
		close(w.done)
	}
	w.wg.Wait()
	w.mu.Lock()
	defer w.mu.Unlock()
	w.fileMu.Lock()
	defer w.fileMu.Unlock()
	var first error
	for id, s := range w.segs {
		if err := s.f.Close(); err != nil && first == nil {
			first = fmt.Errorf("close %s: %w", s.path, err)
		}
		delete(w.segs, id)
	}
	w.active = nil
	return first
}
