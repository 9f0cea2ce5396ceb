package file

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
)

// A checkpoint is a compact image of the channel at a log position: the
// queued pointers (events taken by open transactions first, since a
// rollback would return them to the head) and the records of open
// transactions that already reached the log. Replay loads it and reads only
// the log written after that position.
//
//	"flumeCKP" | u32 version | u64 log position | u64 next transaction id
//	u64 n | n × u64 pointer
//	u64 m | m × (u64 txid | u32 p | p × u64 put pointer | u32 t | t × u64 take pointer)
//	u32 CRC-32C of everything before
//
// It is written to a temporary file, fsynced and renamed over the previous
// one, so a crash leaves either the old or the new checkpoint, never half.
const (
	ckptMagic   = "flumeCKP"
	ckptVersion = 1
	ckptName    = "checkpoint"
	ckptTmpName = "checkpoint.tmp"
	lockName    = "in_use.lock"
)

type pendingTx struct {
	txid  uint64
	puts  []ptr
	takes []ptr
}

type checkpoint struct {
	pos      ptr
	nextTxid uint64
	queue    []ptr
	// rest follows queue when writing: the channel's queue, read from a
	// frozen view rather than copied, since ten million pointers would
	// cost 80 MB twice (a copy and its encoding).
	rest    view
	pending []pendingTx
	// loaded is the queue a checkpoint read from disk decoded to; rest is
	// a view of it.
	loaded *queue
}

// ckptWriter streams a checkpoint through a small buffer, computing its
// checksum on the way.
type ckptWriter struct {
	w   io.Writer
	buf []byte
	crc uint32
	err error
}

func (cw *ckptWriter) flush() {
	if cw.err == nil && len(cw.buf) > 0 {
		cw.crc = crc32.Update(cw.crc, castagnoli, cw.buf)
		_, cw.err = cw.w.Write(cw.buf)
	}
	cw.buf = cw.buf[:0]
}

func (cw *ckptWriter) u64(v uint64) {
	if len(cw.buf)+8 > cap(cw.buf) {
		cw.flush()
	}
	cw.buf = binary.BigEndian.AppendUint64(cw.buf, v)
}

func (cw *ckptWriter) u32(v uint32) {
	if len(cw.buf)+4 > cap(cw.buf) {
		cw.flush()
	}
	cw.buf = binary.BigEndian.AppendUint32(cw.buf, v)
}

// writeTo writes the checkpoint's bytes to w.
func (c *checkpoint) writeTo(w io.Writer) error {
	cw := &ckptWriter{w: w, buf: make([]byte, 0, 256<<10)}
	cw.buf = append(cw.buf, ckptMagic...)
	cw.u32(ckptVersion)
	cw.u64(uint64(c.pos))
	cw.u64(c.nextTxid)
	cw.u64(uint64(len(c.queue) + c.rest.n))
	for _, p := range c.queue {
		cw.u64(uint64(p))
	}
	c.rest.each(func(p ptr) { cw.u64(uint64(p)) })
	cw.u64(uint64(len(c.pending)))
	for _, p := range c.pending {
		cw.u64(p.txid)
		cw.u32(uint32(len(p.puts)))
		for _, q := range p.puts {
			cw.u64(uint64(q))
		}
		cw.u32(uint32(len(p.takes)))
		for _, q := range p.takes {
			cw.u64(uint64(q))
		}
	}
	cw.flush()
	cw.buf = binary.BigEndian.AppendUint32(cw.buf, cw.crc)
	if cw.err == nil {
		_, cw.err = w.Write(cw.buf)
	}
	return cw.err
}

// encode returns the checkpoint's bytes.
func (c *checkpoint) encode() []byte {
	var b bytes.Buffer
	_ = c.writeTo(&b)
	return b.Bytes()
}

var errBadCheckpoint = errors.New("bad checkpoint")

func decodeCheckpoint(b []byte) (*checkpoint, error) {
	return readCheckpointFrom(bytes.NewReader(b), int64(len(b)))
}

// ckptReader decodes a checkpoint as a stream: a checkpoint of ten million
// pointers is never held in memory whole, only as the queue it decodes to.
type ckptReader struct {
	r    *bufio.Reader
	left int64 // bytes before the checksum not yet read
	buf  [8]byte
	err  error
}

func (cr *ckptReader) read(n int) []byte {
	if cr.err != nil {
		return nil
	}
	if int64(n) > cr.left {
		cr.err = errors.New("truncated")
		return nil
	}
	b := cr.buf[:n]
	if _, err := io.ReadFull(cr.r, b); err != nil {
		cr.err = err
		return nil
	}
	cr.left -= int64(n)
	return b
}

func (cr *ckptReader) u64() uint64 {
	if b := cr.read(8); b != nil {
		return binary.BigEndian.Uint64(b)
	}
	return 0
}

func (cr *ckptReader) u32() uint32 {
	if b := cr.read(4); b != nil {
		return binary.BigEndian.Uint32(b)
	}
	return 0
}

// readCheckpointFrom decodes the size bytes of r. It reads them twice:
// once for the checksum, so that damage never drives the decoder (a
// corrupt count could otherwise make it build a huge queue), then to
// decode. The queue goes into loaded (and rest, a view of it), which
// replay adopts as is.
func readCheckpointFrom(r io.ReaderAt, size int64) (*checkpoint, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", errBadCheckpoint, fmt.Sprintf(format, args...))
	}
	if size < 8+4+8+8+8+8+4 {
		return nil, bad("%d bytes is too short", size)
	}
	var magic [8]byte
	if _, err := r.ReadAt(magic[:], 0); err != nil {
		return nil, err
	}
	if string(magic[:]) != ckptMagic {
		return nil, bad("bad magic")
	}
	h := crc32.New(castagnoli)
	if _, err := io.Copy(h, io.NewSectionReader(r, 0, size-4)); err != nil {
		return nil, err
	}
	var sum [4]byte
	if _, err := r.ReadAt(sum[:], size-4); err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	if h.Sum32() != binary.BigEndian.Uint32(sum[:]) {
		return nil, bad("checksum mismatch")
	}
	cr := &ckptReader{r: bufio.NewReaderSize(io.NewSectionReader(r, 8, size-4-8), 256<<10), left: size - 4 - 8}
	if v := cr.u32(); v != ckptVersion {
		return nil, bad("unsupported version %d", v)
	}
	c := &checkpoint{loaded: &queue{}}
	c.pos = ptr(cr.u64())
	c.nextTxid = cr.u64()
	n := cr.u64()
	if n > uint64(cr.left)/8 {
		return nil, bad("queue of %d pointers overruns the file", n)
	}
	for range n {
		c.loaded.pushBack(ptr(cr.u64()))
	}
	c.rest = c.loaded.view()
	ptrs := func(n uint64) ([]ptr, bool) {
		if cr.err != nil || n > uint64(cr.left)/8 {
			return nil, false
		}
		out := make([]ptr, n)
		for i := range out {
			out[i] = ptr(cr.u64())
		}
		return out, true
	}
	m := cr.u64()
	if cr.err != nil || m > uint64(cr.left)/16 {
		return nil, bad("bad open-transaction count")
	}
	for range m {
		var p pendingTx
		var ok bool
		p.txid = cr.u64()
		if p.puts, ok = ptrs(uint64(cr.u32())); !ok {
			return nil, bad("truncated open transaction")
		}
		if p.takes, ok = ptrs(uint64(cr.u32())); !ok {
			return nil, bad("truncated open transaction")
		}
		c.pending = append(c.pending, p)
	}
	if cr.err != nil {
		return nil, fmt.Errorf("%w: %w", errBadCheckpoint, cr.err)
	}
	if cr.left != 0 {
		return nil, bad("%d trailing bytes", cr.left)
	}
	return c, nil
}

// readCheckpoint loads dir's checkpoint; (nil, nil) when there is none.
func readCheckpoint(fsys fs, dir string) (*checkpoint, error) {
	p := filepath.Join(dir, ckptName)
	f, err := fsys.OpenFile(p, os.O_RDONLY, 0)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("open checkpoint %s: %w", p, err)
	}
	defer f.Close()
	size, err := f.Size()
	if err != nil {
		return nil, fmt.Errorf("stat checkpoint %s: %w", p, err)
	}
	c, err := readCheckpointFrom(io.NewSectionReader(f, 0, size), size)
	if err != nil {
		return nil, fmt.Errorf("checkpoint %s: %w", p, err)
	}
	return c, nil
}

// writeCheckpoint replaces dir's checkpoint atomically and durably.
func writeCheckpoint(fsys fs, dir string, ck *checkpoint) error {
	tmp := filepath.Join(dir, ckptTmpName)
	_ = fsys.Remove(tmp)
	f, err := fsys.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_TRUNC|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("create %s: %w", tmp, err)
	}
	if err := ck.writeTo(f); err != nil {
		f.Close()
		_ = fsys.Remove(tmp)
		return fmt.Errorf("write %s: %w", tmp, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		_ = fsys.Remove(tmp)
		return fmt.Errorf("fsync %s: %w", tmp, err)
	}
	if err := f.Close(); err != nil {
		_ = fsys.Remove(tmp)
		return fmt.Errorf("close %s: %w", tmp, err)
	}
	if err := fsys.Rename(tmp, filepath.Join(dir, ckptName)); err != nil {
		_ = fsys.Remove(tmp)
		return fmt.Errorf("rename %s: %w", tmp, err)
	}
	if err := fsys.SyncDir(dir); err != nil {
		return fmt.Errorf("fsync directory %s: %w", dir, err)
	}
	return nil
}
