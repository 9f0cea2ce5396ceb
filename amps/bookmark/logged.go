package bookmark

import (
	"bufio"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
)

// LoggedOptions configures a LoggedStore.
type LoggedOptions struct {
	// Sync makes Flush, Prune and Close also fsync the file, so that
	// discards survive a power loss and not only a process crash. Losing
	// discards only causes redelivery, never loss, so it is off by default.
	Sync bool
	// Logger receives recovery warnings; slog.Default() when nil.
	Logger *slog.Logger
}

// LoggedStore is a Store that appends every change to a file and rebuilds
// its state from that file when opened, so that a subscription resumes where
// it left off after a restart. Records are buffered until Flush (or until
// the buffer fills); losing buffered records in a crash only causes
// duplicates to be delivered again, never gaps, because records are written
// in order and a discard never precedes its receive.
type LoggedStore struct {
	mu     sync.Mutex
	path   string
	opts   LoggedOptions
	f      *os.File
	w      *bufio.Writer
	subs   map[string]*subscription
	buf    []byte
	err    error // sticky write error
	closed bool
	torn   int64
}

var _ Store = (*LoggedStore)(nil)

// ErrClosed is returned by operations on a closed store.
var ErrClosed = errors.New("bookmark store closed")

// OpenLogged opens (creating if needed) the log at path and recovers its
// state. A torn final record is cut off with a warning; corruption anywhere
// else is an error matching ErrCorrupt.
func OpenLogged(path string, opts LoggedOptions) (*LoggedStore, error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	data, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("bookmark log %s: %w", path, err)
	}
	recs, good, err := readLog(data)
	if err != nil {
		return nil, fmt.Errorf("bookmark log %s: %w", path, err)
	}
	s := &LoggedStore{path: path, opts: opts, subs: map[string]*subscription{}}
	for _, r := range recs {
		if r.kind == kindRange {
			rng, _ := ParseRange(r.spec) // readLog has checked it
			s.sub(r.subID).setRange(rng)
			continue
		}
		s.sub(r.subID).apply(r.kind, r.bm)
	}
	for _, sub := range s.subs {
		sub.markRecovered()
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("bookmark log %s: %w", path, err)
	}
	if good < len(data) {
		s.torn = int64(len(data) - good)
		opts.Logger.Warn("bookmark log: cut off a torn final record", "path", path, "bytes", s.torn)
	}
	if good < len(logMagic) {
		// New, or torn while being created: start it afresh.
		if err = f.Truncate(0); err == nil {
			_, err = f.WriteAt([]byte(logMagic), 0)
		}
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("bookmark log %s: %w", path, err)
		}
		good = len(logMagic)
	} else if good < len(data) {
		if err := f.Truncate(int64(good)); err != nil {
			f.Close()
			return nil, fmt.Errorf("bookmark log %s: truncating torn tail: %w", path, err)
		}
	}
	if _, err := f.Seek(int64(good), 0); err != nil {
		f.Close()
		return nil, fmt.Errorf("bookmark log %s: %w", path, err)
	}
	s.f = f
	s.w = bufio.NewWriterSize(f, 64<<10)
	return s, nil
}

// TornBytes is how many bytes of a torn final record were cut off when the
// store was opened (0 after a clean shutdown).
func (s *LoggedStore) TornBytes() int64 { return s.torn }

func (s *LoggedStore) sub(id string) *subscription {
	sub := s.subs[id]
	if sub == nil {
		sub = newSubscription()
		s.subs[id] = sub
	}
	return sub
}

// write appends one record; the caller holds mu.
func (s *LoggedStore) write(kind byte, subID string, bm Bookmark) error {
	return s.writeRecord(record{kind: kind, subID: subID, bm: bm})
}

func (s *LoggedStore) writeRecord(r record) error {
	if s.err != nil {
		return s.err
	}
	s.buf = appendRecord(s.buf[:0], r)
	if _, err := s.w.Write(s.buf); err != nil {
		s.err = fmt.Errorf("bookmark log %s: %w", s.path, err)
	}
	return s.err
}

func (s *LoggedStore) change(subID, bookmark string, kind byte) error {
	if len(subID) > maxSubIDLen {
		return fmt.Errorf("bookmark store: subscription id of %d bytes is too long", len(subID))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	for _, one := range strings.Split(bookmark, ",") {
		bm, err := Parse(strings.TrimSpace(one))
		if err != nil {
			continue
		}
		var changed bool
		switch kind {
		case kindReceived:
			changed = s.sub(subID).log(bm)
		case kindDiscarded:
			if sub := s.subs[subID]; sub != nil {
				changed = sub.discard(bm)
			}
		case kindPersisted:
			changed = s.sub(subID).persisted(bm)
		}
		if changed {
			if err := s.write(kind, subID, bm); err != nil {
				return err
			}
		}
	}
	return nil
}

// Log implements Store. A range is written to the log only when it differs
// from the one recorded, so recording it again at every start costs
// nothing.
func (s *LoggedStore) Log(subID, bookmark string) error {
	if IsRange(bookmark) {
		return s.logRange(subID, bookmark)
	}
	return s.change(subID, bookmark, kindReceived)
}

func (s *LoggedStore) logRange(subID, bookmark string) error {
	r, err := ParseRange(bookmark)
	if err != nil {
		return fmt.Errorf("bookmark store: subscription %q: %w", subID, err)
	}
	spec := r.String()
	switch {
	case len(subID) > maxSubIDLen:
		return fmt.Errorf("bookmark store: subscription id of %d bytes is too long", len(subID))
	case len(spec) > maxRangeLen:
		return fmt.Errorf("bookmark store: subscription %q: range of %d bytes is too long", subID, len(spec))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	if !s.sub(subID).setRange(r) {
		return nil
	}
	return s.writeRecord(record{kind: kindRange, subID: subID, spec: spec})
}

// Discard implements Store.
func (s *LoggedStore) Discard(subID, bookmark string) error {
	return s.change(subID, bookmark, kindDiscarded)
}

// Persisted implements Store.
func (s *LoggedStore) Persisted(subID, bookmark string) error {
	return s.change(subID, bookmark, kindPersisted)
}

// IsDiscarded implements Store.
func (s *LoggedStore) IsDiscarded(subID, bookmark string) bool {
	bm, err := Parse(bookmark)
	if err != nil {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sub := s.subs[subID]
	return sub != nil && sub.isDiscarded(bm)
}

// MostRecent implements Store.
func (s *LoggedStore) MostRecent(subID string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sub := s.subs[subID]; sub != nil {
		return sub.mostRecent()
	}
	return Epoch
}

// Flush implements Store.
func (s *LoggedStore) Flush() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	return s.flush(s.opts.Sync)
}

func (s *LoggedStore) flush(sync bool) error {
	if s.err != nil {
		return s.err
	}
	if err := s.w.Flush(); err != nil {
		s.err = fmt.Errorf("bookmark log %s: %w", s.path, err)
		return s.err
	}
	if sync {
		if err := s.f.Sync(); err != nil {
			s.err = fmt.Errorf("bookmark log %s: sync: %w", s.path, err)
			return s.err
		}
	}
	return nil
}

// Prune rewrites the log with only the records needed to rebuild the current
// state: it writes <file>.tmp, syncs it, and renames it over the log. On
// failure the old log stays in use, complete.
func (s *LoggedStore) Prune() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	if err := s.flush(false); err != nil {
		return err
	}
	buf := []byte(logMagic)
	ids := make([]string, 0, len(s.subs))
	for id := range s.subs {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		s.subs[id].compact(func(kind byte, bm Bookmark) {
			buf = appendRecord(buf, record{kind: kind, subID: id, bm: bm})
		}, func(r Range) {
			buf = appendRecord(buf, record{kind: kindRange, subID: id, spec: r.String()})
		})
	}
	tmp := s.path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("bookmark log prune: %w", err)
	}
	fail := func(err error) error {
		f.Close()
		os.Remove(tmp)
		return fmt.Errorf("bookmark log prune: %w", err)
	}
	if _, err := f.Write(buf); err != nil {
		return fail(err)
	}
	if err := f.Sync(); err != nil {
		return fail(err)
	}
	if err := os.Rename(tmp, s.path); err != nil {
		return fail(err)
	}
	syncDir(filepath.Dir(s.path))
	if _, err := f.Seek(int64(len(buf)), 0); err != nil {
		// The new file is in place and complete; appending to it is what
		// failed, so further writes are refused rather than misplaced.
		f.Close()
		s.err = fmt.Errorf("bookmark log prune: %w", err)
		return s.err
	}
	s.f.Close()
	s.f = f
	s.w.Reset(f)
	return nil
}

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync() // best effort: some file systems refuse directory syncs
		d.Close()
	}
}

// Close flushes (and, with Sync, syncs) the log and closes it.
func (s *LoggedStore) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	err := s.flush(s.opts.Sync)
	if cerr := s.f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("bookmark log %s: %w", s.path, cerr)
	}
	return err
}
