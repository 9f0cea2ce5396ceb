package amps

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"sync"
	"time"
)

// PublishStore keeps the publishes an HA client has sent and the server has
// not yet acknowledged as persisted, so that they can be sent again, with
// their original sequence numbers, after a failover. Sequence numbers are
// strictly increasing; the server drops a publish whose number it has seen
// from the same client name, which makes the re-send safe.
type PublishStore interface {
	// Store assigns cmd the next sequence number (cmd.Seq, cmd.HasSeq) and
	// keeps it until discarded.
	Store(cmd *Command) error
	// Discard drops every stored command numbered up to seq.
	Discard(seq uint64) error
	// Unpersisted returns the stored commands in sequence order.
	Unpersisted() []Command
	// Len is the number of stored commands.
	Len() int
	Close() error
}

// firstSeq seeds a new store's numbering from the clock (milliseconds ×
// 10⁶), as AMPS clients do, so that a publisher restarted with an empty
// store still numbers above its earlier messages.
func firstSeq() uint64 { return uint64(time.Now().UnixMilli()) * 1_000_000 }

// memEntries is the in-memory part of both stores.
type memEntries struct {
	last uint64
	cmds []Command
}

func (m *memEntries) add(cmd *Command) {
	m.last++
	cmd.Seq, cmd.HasSeq = m.last, true
	c := *cmd
	c.Data = append([]byte(nil), cmd.Data...)
	m.cmds = append(m.cmds, c)
}

func (m *memEntries) discard(seq uint64) int {
	n := 0
	for n < len(m.cmds) && m.cmds[n].Seq <= seq {
		n++
	}
	if n > 0 {
		clear(m.cmds[:n])
		m.cmds = m.cmds[n:]
	}
	return n
}

// MemoryPublishStore is a PublishStore in memory: it survives failovers,
// not a restart of the process.
type MemoryPublishStore struct {
	mu sync.Mutex
	m  memEntries
}

// NewMemoryPublishStore returns an empty store.
func NewMemoryPublishStore() *MemoryPublishStore {
	return &MemoryPublishStore{m: memEntries{last: firstSeq()}}
}

// Store implements PublishStore.
func (s *MemoryPublishStore) Store(cmd *Command) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m.add(cmd)
	return nil
}

// Discard implements PublishStore.
func (s *MemoryPublishStore) Discard(seq uint64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m.discard(seq)
	return nil
}

// Unpersisted implements PublishStore.
func (s *MemoryPublishStore) Unpersisted() []Command {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Command(nil), s.m.cmds...)
}

// Len implements PublishStore.
func (s *MemoryPublishStore) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.m.cmds)
}

// Close implements PublishStore.
func (s *MemoryPublishStore) Close() error { return nil }

// FilePublishStore is a PublishStore that also appends every change to a
// file and recovers from it, so that a restarted publisher re-sends what the
// server never persisted. Records are framed by length and CRC32; a torn
// final record (a crash mid-write) is dropped, damage elsewhere is an error.
// The file is rewritten when nothing is stored and it has grown.
type FilePublishStore struct {
	mu   sync.Mutex
	path string
	f    *os.File
	w    *bufio.Writer
	size int64
	m    memEntries
	buf  []byte
}

// File record kinds.
const (
	pubRecStore   = 'S'
	pubRecDiscard = 'D'
	pubRecBase    = 'B' // numbering continues after this sequence number
)

// pubStoreCompactAt is the file size above which an empty store rewrites it.
const pubStoreCompactAt = 4 << 20

// OpenFilePublishStore opens (creating if needed) a store file.
func OpenFilePublishStore(path string) (*FilePublishStore, error) {
	s := &FilePublishStore{path: path, m: memEntries{last: firstSeq()}}
	data, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("publish store: %w", err)
	}
	good, err := s.recover(data)
	if err != nil {
		return nil, fmt.Errorf("publish store %s: %w", path, err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("publish store: %w", err)
	}
	if err := f.Truncate(int64(good)); err != nil {
		f.Close()
		return nil, fmt.Errorf("publish store: %w", err)
	}
	if _, err := f.Seek(int64(good), io.SeekStart); err != nil {
		f.Close()
		return nil, fmt.Errorf("publish store: %w", err)
	}
	s.f, s.w, s.size = f, bufio.NewWriter(f), int64(good)
	return s, nil
}

// recover replays the file; it returns the length of its good prefix.
func (s *FilePublishStore) recover(data []byte) (int, error) {
	off := 0
	for off < len(data) {
		if len(data)-off < 8 {
			return off, nil // torn tail
		}
		n := int(binary.LittleEndian.Uint32(data[off:]))
		sum := binary.LittleEndian.Uint32(data[off+4:])
		if n < 9 || n > 1<<30 {
			return 0, fmt.Errorf("offset %d: bad record length %d", off, n)
		}
		if len(data)-off-8 < n {
			return off, nil // torn tail
		}
		body := data[off+8 : off+8+n]
		if crc32.ChecksumIEEE(body) != sum {
			if off+8+n == len(data) {
				return off, nil
			}
			return 0, fmt.Errorf("offset %d: checksum mismatch", off)
		}
		if err := s.apply(body); err != nil {
			return 0, fmt.Errorf("offset %d: %w", off, err)
		}
		off += 8 + n
	}
	return off, nil
}

func (s *FilePublishStore) apply(b []byte) error {
	kind := b[0]
	seq := binary.LittleEndian.Uint64(b[1:9])
	b = b[9:]
	switch kind {
	case pubRecBase:
		s.m.last = max(s.m.last, seq)
	case pubRecDiscard:
		s.m.discard(seq)
	case pubRecStore:
		var f [3][]byte
		for i := range f {
			l, k := binary.Uvarint(b)
			if k <= 0 || l > uint64(len(b)-k) {
				return errors.New("bad stored command")
			}
			f[i], b = b[k:k+int(l)], b[k+int(l):]
		}
		if k := len(s.m.cmds); k > 0 && seq <= s.m.cmds[k-1].Seq {
			return fmt.Errorf("sequence %d not increasing", seq)
		}
		s.m.last = max(s.m.last, seq)
		s.m.cmds = append(s.m.cmds, Command{Name: string(f[0]), Topic: string(f[1]), Data: append([]byte(nil), f[2]...), Seq: seq, HasSeq: true})
	default:
		return fmt.Errorf("unknown record kind %q", kind)
	}
	return nil
}

func (s *FilePublishStore) write(kind byte, seq uint64, cmd *Command) error {
	b := append(s.buf[:0], 0, 0, 0, 0, 0, 0, 0, 0, kind)
	b = binary.LittleEndian.AppendUint64(b, seq)
	if cmd != nil {
		for _, f := range [][]byte{[]byte(cmd.Name), []byte(cmd.Topic), cmd.Data} {
			b = binary.AppendUvarint(b, uint64(len(f)))
			b = append(b, f...)
		}
	}
	body := b[8:]
	binary.LittleEndian.PutUint32(b, uint32(len(body)))
	binary.LittleEndian.PutUint32(b[4:], crc32.ChecksumIEEE(body))
	s.buf = b
	if _, err := s.w.Write(b); err != nil {
		return fmt.Errorf("publish store: %w", err)
	}
	s.size += int64(len(b))
	return nil
}

// Store implements PublishStore. The record reaches the operating system
// before Store returns (it survives a crash of the process).
func (s *FilePublishStore) Store(cmd *Command) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m.add(cmd)
	if err := s.write(pubRecStore, cmd.Seq, cmd); err != nil {
		return err
	}
	return s.w.Flush()
}

// Discard implements PublishStore.
func (s *FilePublishStore) Discard(seq uint64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m.discard(seq) == 0 {
		return nil
	}
	if len(s.m.cmds) == 0 && s.size > pubStoreCompactAt {
		return s.rewrite()
	}
	if err := s.write(pubRecDiscard, seq, nil); err != nil {
		return err
	}
	return s.w.Flush()
}

// rewrite starts the file over with only the numbering base; mu is held.
func (s *FilePublishStore) rewrite() error {
	if err := s.f.Truncate(0); err != nil {
		return fmt.Errorf("publish store: %w", err)
	}
	if _, err := s.f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("publish store: %w", err)
	}
	s.w.Reset(s.f)
	s.size = 0
	if err := s.write(pubRecBase, s.m.last, nil); err != nil {
		return err
	}
	return s.w.Flush()
}

// Unpersisted implements PublishStore.
func (s *FilePublishStore) Unpersisted() []Command {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Command(nil), s.m.cmds...)
}

// Len implements PublishStore.
func (s *FilePublishStore) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.m.cmds)
}

// Close flushes, syncs and closes the file.
func (s *FilePublishStore) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f == nil {
		return nil
	}
	err := s.w.Flush()
	if serr := s.f.Sync(); err == nil {
		err = serr
	}
	if cerr := s.f.Close(); err == nil {
		err = cerr
	}
	s.f = nil
	return err
}
