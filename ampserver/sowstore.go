package ampserver

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"sync/atomic"
)

// record is one SOW record. Records are immutable once stored: an update
// stores a new record, so readers may hold them without locking.
type record struct {
	key  string // decimal SowKey
	data []byte
	ts   string
	seq  uint64 // insertion order of the current version, for stable results
}

// sowStore holds the current records of one topic, optionally backed by an
// append-only file replayed on open. The caller (the topic) serialises calls.
type sowStore struct {
	records map[string]*record
	nextSeq uint64

	path    string
	file    *os.File
	w       *bufio.Writer
	entries int // entries in the file, to decide when to compact
	dirty   atomic.Bool

	// exp holds the expiry time of each record that has one, by key and in
	// a min-heap (expiration.go). Kept out of record, which would grow from
	// 64 to 80 bytes (the next size class) for every topic.
	exp expiry
}

const (
	opPut byte = 1
	opDel byte = 2
	// opPutExp is opPut with the record's expiry time (8 bytes, Unix
	// nanoseconds, little endian) before the data. A reader that does not
	// know it skips the record, which can only happen with a file written
	// by a newer server.
	opPutExp byte = 4
)

func newMemStore() *sowStore {
	return &sowStore{records: map[string]*record{}, exp: expiry{byKey: map[string]*expEntry{}}}
}

// openFileStore loads (or creates) the persistent store at path. A torn
// final entry, left by a crash during a write, is dropped; the file is then
// compacted to the live records.
func openFileStore(path string) (*sowStore, error) {
	s := newMemStore()
	s.path = path
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("sow store %s: %w", path, err)
		}
	}
	if f, err := os.Open(path); err == nil {
		err = s.replay(bufio.NewReader(f))
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("sow store %s: %w", path, err)
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("sow store %s: %w", path, err)
	}
	if err := s.rewrite(path); err != nil {
		return nil, fmt.Errorf("sow store %s: %w", path, err)
	}
	return s, nil
}

// Entry layout: crc32(body) uint32 LE, body length uint32 LE, body =
// op, uvarint len + key, uvarint len + ts, data (rest); for opPutExp the
// data is preceded by the expiry time.
func (s *sowStore) replay(r *bufio.Reader) error {
	var hdr [8]byte
	for {
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			return nil // clean end or torn header
		}
		n := binary.LittleEndian.Uint32(hdr[4:])
		if n > 1<<30 {
			return nil
		}
		body, err := readBody(r, int(n))
		if err != nil {
			return nil // torn tail
		}
		if crc32.ChecksumIEEE(body) != binary.LittleEndian.Uint32(hdr[:]) {
			return nil // torn or corrupt tail: keep what came before
		}
		op, key, ts, data, ok := decodeEntry(body)
		if !ok {
			return errors.New("malformed entry")
		}
		var expires int64
		if op == opPutExp {
			if len(data) < 8 {
				return errors.New("malformed entry")
			}
			expires, data = int64(binary.LittleEndian.Uint64(data)), data[8:]
		}
		switch op {
		case opPut, opPutExp:
			s.nextSeq++
			s.records[key] = &record{key: key, data: data, ts: ts, seq: s.nextSeq}
			s.exp.set(key, expires)
		case opDel:
			delete(s.records, key)
			s.exp.set(key, 0)
		}
	}
}

// readBody reads an entry body of n bytes. A large n is read as the bytes
// arrive, so that a corrupt length in a small torn tail does not allocate
// up to a gigabyte first.
func readBody(r io.Reader, n int) ([]byte, error) {
	if n <= 64<<10 {
		body := make([]byte, n)
		_, err := io.ReadFull(r, body)
		return body, err
	}
	body, err := io.ReadAll(io.LimitReader(r, int64(n)))
	if err == nil && len(body) < n {
		err = io.ErrUnexpectedEOF
	}
	return body, err
}

func decodeEntry(b []byte) (op byte, key, ts string, data []byte, ok bool) {
	if len(b) < 1 {
		return
	}
	op, b = b[0], b[1:]
	k, n := binary.Uvarint(b)
	if n <= 0 || k > uint64(len(b)-n) {
		return
	}
	key, b = string(b[n:n+int(k)]), b[n+int(k):]
	l, n := binary.Uvarint(b)
	if n <= 0 || l > uint64(len(b)-n) {
		return
	}
	ts, b = string(b[n:n+int(l)]), b[n+int(l):]
	return op, key, ts, b, true
}

func appendEntry(dst []byte, op byte, key, ts string, data []byte) []byte {
	return appendRecordEntry(dst, op, key, ts, 0, data)
}

// appendRecordEntry is appendEntry for a record: one with an expiry time is
// written as opPutExp.
func appendRecordEntry(dst []byte, op byte, key, ts string, expires int64, data []byte) []byte {
	if op == opPut && expires != 0 {
		op = opPutExp
	}
	start := len(dst)
	dst = append(dst, 0, 0, 0, 0, 0, 0, 0, 0, op)
	dst = binary.AppendUvarint(dst, uint64(len(key)))
	dst = append(dst, key...)
	dst = binary.AppendUvarint(dst, uint64(len(ts)))
	dst = append(dst, ts...)
	if op == opPutExp {
		dst = binary.LittleEndian.AppendUint64(dst, uint64(expires))
	}
	dst = append(dst, data...)
	body := dst[start+8:]
	binary.LittleEndian.PutUint32(dst[start:], crc32.ChecksumIEEE(body))
	binary.LittleEndian.PutUint32(dst[start+4:], uint32(len(body)))
	return dst
}

// rewrite writes the live records to path atomically and keeps it open for appends.
func (s *sowStore) rewrite(path string) error {
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	var buf []byte
	for _, r := range s.records {
		buf = appendRecordEntry(buf[:0], opPut, r.key, r.ts, s.exp.at(r.key), r.data)
		if _, err := w.Write(buf); err != nil {
			f.Close()
			return err
		}
	}
	if err = w.Flush(); err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	if s.file != nil {
		s.file.Close()
	}
	s.file, err = os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	s.w = bufio.NewWriterSize(s.file, 64<<10)
	s.entries = len(s.records)
	return nil
}

func (s *sowStore) log(op byte, key, ts string, data []byte) error {
	return s.logRecord(op, key, ts, 0, data)
}

func (s *sowStore) logRecord(op byte, key, ts string, expires int64, data []byte) error {
	if s.w == nil {
		return nil
	}
	var scratch [256]byte
	if _, err := s.w.Write(appendRecordEntry(scratch[:0], op, key, ts, expires, data)); err != nil {
		return err
	}
	s.entries++
	s.dirty.Store(true)
	return nil
}

// maybeCompact rewrites the file when superseded entries dominate it, so
// that the file stays within a constant factor of the live data.
func (s *sowStore) maybeCompact() error {
	if s.w == nil || s.entries < 4*len(s.records)+4096 {
		return nil
	}
	if err := s.w.Flush(); err != nil {
		return err
	}
	return s.rewrite(s.path)
}

// put stores data under key and returns the previous record (nil on insert).
// With expiration enabled the record gets the topic's default lifetime,
// counted from ts (its publish time): this is how records replicated from a
// peer or rebuilt from the transaction log expire (expiration.go).
func (s *sowStore) put(key, ts string, data []byte) (old, cur *record, err error) {
	return s.putExpiring(key, ts, data, s.exp.defaultFrom(ts))
}

// putExpiring is put with an explicit expiry time (Unix nanoseconds; 0:
// never).
func (s *sowStore) putExpiring(key, ts string, data []byte, expires int64) (old, cur *record, err error) {
	if err := s.logRecord(opPut, key, ts, expires, data); err != nil {
		return nil, nil, err
	}
	old = s.records[key]
	s.nextSeq++
	cur = &record{key: key, data: data, ts: ts, seq: s.nextSeq}
	s.records[key] = cur
	if expires != 0 || len(s.exp.byKey) > 0 {
		s.exp.set(key, expires)
	}
	return old, cur, s.maybeCompact()
}

// del removes key and returns the removed record, or nil.
func (s *sowStore) del(key string) (*record, error) {
	old := s.records[key]
	if old == nil {
		return nil, nil
	}
	if err := s.log(opDel, key, "", nil); err != nil {
		return nil, err
	}
	delete(s.records, key)
	if len(s.exp.byKey) > 0 {
		s.exp.set(key, 0)
	}
	return old, s.maybeCompact()
}

// flush pushes buffered entries to the operating system.
func (s *sowStore) flush() error {
	if s.w == nil || !s.dirty.Swap(false) {
		return nil
	}
	return s.w.Flush()
}

func (s *sowStore) close() error {
	if s.file == nil {
		return nil
	}
	err := s.w.Flush()
	if serr := s.file.Sync(); err == nil {
		err = serr
	}
	if cerr := s.file.Close(); err == nil {
		err = cerr
	}
	s.file, s.w = nil, nil
	return err
}
