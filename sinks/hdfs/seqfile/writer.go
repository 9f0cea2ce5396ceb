package seqfile

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
)

// Version is the format version written (and the only one read).
const Version = 6

// SyncSize is the size of a sync escape (-1) plus the marker.
const SyncSize = 4 + 16

// SyncInterval is the default distance in bytes between sync markers in
// uncompressed and record-compressed files: a hundred sync sizes, so the
// markers cost about 1% of the file.
const SyncInterval = 100 * SyncSize

// BlockSize is the default number of uncompressed key and value bytes
// gathered into one block of a block-compressed file (Hadoop's
// io.seqfile.compress.blocksize).
const BlockSize = 1_000_000

// syncEscape is the record length that announces a sync marker.
const syncEscape = -1

// Compression is a file's compression layout.
type Compression int

// The layouts, named as Hadoop's SequenceFile.CompressionType.
const (
	None Compression = iota
	Record
	Block
)

func (c Compression) String() string {
	switch c {
	case None:
		return "NONE"
	case Record:
		return "RECORD"
	case Block:
		return "BLOCK"
	}
	return fmt.Sprintf("Compression(%d)", int(c))
}

// ParseCompression reads NONE, RECORD or BLOCK, ignoring case.
func ParseCompression(s string) (Compression, error) {
	switch strings.ToUpper(strings.TrimSpace(s)) {
	case "NONE":
		return None, nil
	case "RECORD":
		return Record, nil
	case "BLOCK":
		return Block, nil
	}
	return None, fmt.Errorf("unknown compression type %q: use NONE, RECORD or BLOCK", s)
}

// Meta is one metadata entry of the header.
type Meta struct{ Key, Value string }

// Options configures a Writer.
type Options struct {
	// KeyClass and ValueClass are the Hadoop class names of the serialized
	// keys and values handed to Append.
	KeyClass, ValueClass string
	// Compression is the layout; Codec is required unless it is None.
	Compression Compression
	Codec       *Codec
	// Metadata is written sorted by key, as Hadoop's TreeMap does.
	Metadata []Meta
	// Sync is the file's sync marker; all zero picks a random one.
	Sync [16]byte
	// SyncInterval overrides the default SyncInterval (None and Record).
	SyncInterval int
	// BlockSize overrides the default BlockSize (Block).
	BlockSize int
}

// Writer writes one SequenceFile to an io.Writer.
type Writer struct {
	w        io.Writer
	opt      Options
	pos      int64 // bytes handed to w
	lastSync int64 // where the latest sync escape started (0 at first)
	syncEnd  int64 // where the latest sync marker ended
	err      error // sticky: a failed write leaves w in an unknown state
	closed   bool

	scratch []byte
	comp    resetWriter
	zbuf    bytes.Buffer

	// Block layout: the records gathered since the last block.
	nrec                         int
	keyLens, keys, valLens, vals []byte
}

// NewWriter writes the header to w and returns a writer of records.
func NewWriter(w io.Writer, opt Options) (*Writer, error) {
	if opt.KeyClass == "" || opt.ValueClass == "" {
		return nil, errors.New("seqfile: key and value class names are required")
	}
	switch opt.Compression {
	case None:
		opt.Codec = nil
	case Record, Block:
		if opt.Codec == nil {
			return nil, fmt.Errorf("seqfile: %v compression needs a codec", opt.Compression)
		}
	default:
		return nil, fmt.Errorf("seqfile: unknown compression %v", opt.Compression)
	}
	if opt.SyncInterval <= 0 {
		opt.SyncInterval = SyncInterval
	}
	if opt.BlockSize <= 0 {
		opt.BlockSize = BlockSize
	}
	if opt.Sync == [16]byte{} {
		if _, err := rand.Read(opt.Sync[:]); err != nil {
			return nil, fmt.Errorf("seqfile: sync marker: %w", err)
		}
	}
	wr := &Writer{w: w, opt: opt}
	if opt.Codec != nil {
		wr.comp = opt.Codec.newWriter(io.Discard)
	}
	h := append([]byte(nil), 'S', 'E', 'Q', Version)
	h = AppendText(h, []byte(opt.KeyClass))
	h = AppendText(h, []byte(opt.ValueClass))
	h = append(h, boolByte(opt.Compression != None), boolByte(opt.Compression == Block))
	if opt.Codec != nil {
		h = AppendText(h, []byte(opt.Codec.Class))
	}
	meta := append([]Meta(nil), opt.Metadata...)
	sort.SliceStable(meta, func(i, j int) bool { return meta[i].Key < meta[j].Key })
	h = binary.BigEndian.AppendUint32(h, uint32(len(meta)))
	for _, m := range meta {
		h = AppendText(h, []byte(m.Key))
		h = AppendText(h, []byte(m.Value))
	}
	h = append(h, opt.Sync[:]...)
	if err := wr.write(h); err != nil {
		return nil, err
	}
	// The header ends with the marker, so a sync right away adds nothing.
	wr.syncEnd = wr.pos
	return wr, nil
}

func boolByte(b bool) byte {
	if b {
		return 1
	}
	return 0
}

func (w *Writer) write(p []byte) error {
	if w.err != nil {
		return w.err
	}
	n, err := w.w.Write(p)
	w.pos += int64(n)
	if err == nil && n < len(p) {
		err = io.ErrShortWrite
	}
	if err != nil {
		w.err = fmt.Errorf("seqfile: writing at offset %d: %w", w.pos, err)
	}
	return w.err
}

// Pos is the number of bytes written so far.
func (w *Writer) Pos() int64 { return w.pos }

// SyncMarker returns the file's sync marker.
func (w *Writer) SyncMarker() [16]byte { return w.opt.Sync }

// Append adds one record: key and value serialized as Writables of the
// header's classes.
func (w *Writer) Append(key, value []byte) error {
	if w.closed {
		return errors.New("seqfile: append after close")
	}
	if w.err != nil {
		return w.err
	}
	if w.opt.Compression == Block {
		return w.gather(key, value)
	}
	if w.pos-w.lastSync >= int64(w.opt.SyncInterval) && w.pos != w.syncEnd {
		if err := w.writeSync(); err != nil {
			return err
		}
	}
	b := w.scratch[:0]
	b = append(b, make([]byte, 8)...) // the two lengths, set below
	b = append(b, key...)
	if w.opt.Compression == Record {
		var err error
		if b, err = w.compress(b, value); err != nil {
			return err
		}
	} else {
		b = append(b, value...)
	}
	if len(b)-8 > math.MaxInt32 {
		return fmt.Errorf("seqfile: record of %d bytes is too large", len(b)-8)
	}
	binary.BigEndian.PutUint32(b[0:], uint32(len(b)-8))
	binary.BigEndian.PutUint32(b[4:], uint32(len(key)))
	w.scratch = b
	if cap(w.scratch) > 1<<20 {
		w.scratch = nil // do not pin one huge record's buffer
	}
	return w.write(b)
}

func (w *Writer) gather(key, value []byte) error {
	if len(key) > math.MaxInt32 || len(value) > math.MaxInt32 {
		return errors.New("seqfile: key or value too large")
	}
	w.keyLens = AppendVInt(w.keyLens, len(key))
	w.keys = append(w.keys, key...)
	w.valLens = AppendVInt(w.valLens, len(value))
	w.vals = append(w.vals, value...)
	w.nrec++
	if len(w.keys)+len(w.vals) >= w.opt.BlockSize {
		return w.writeBlock()
	}
	return nil
}

// compress appends src as one complete stream of the codec to dst.
func (w *Writer) compress(dst, src []byte) ([]byte, error) {
	w.zbuf.Reset()
	w.comp.Reset(&w.zbuf)
	if _, err := w.comp.Write(src); err != nil {
		return dst, fmt.Errorf("seqfile: compressing: %w", err)
	}
	if err := w.comp.Close(); err != nil {
		return dst, fmt.Errorf("seqfile: compressing: %w", err)
	}
	return append(dst, w.zbuf.Bytes()...), nil
}

func (w *Writer) writeSync() error {
	b := binary.BigEndian.AppendUint32(w.scratch[:0], uint32(0xffffffff)) // syncEscape
	b = append(b, w.opt.Sync[:]...)
	w.lastSync = w.pos
	err := w.write(b)
	w.syncEnd = w.pos
	return err
}

// writeBlock writes the gathered records as one block, preceded by a sync
// marker, as Hadoop does before every block.
func (w *Writer) writeBlock() error {
	if w.nrec == 0 {
		return nil
	}
	if err := w.writeSync(); err != nil {
		return err
	}
	b := AppendVInt(nil, w.nrec)
	for _, buf := range [][]byte{w.keyLens, w.keys, w.valLens, w.vals} {
		var err error
		if w.scratch, err = w.compress(w.scratch[:0], buf); err != nil {
			return err
		}
		if len(w.scratch) > math.MaxInt32 {
			return errors.New("seqfile: compressed block too large")
		}
		b = AppendVInt(b, len(w.scratch))
		b = append(b, w.scratch...)
	}
	w.nrec = 0
	w.keyLens, w.keys, w.valLens, w.vals = w.keyLens[:0], w.keys[:0], w.valLens[:0], w.vals[:0]
	if cap(w.keys)+cap(w.vals) > 4*w.opt.BlockSize {
		w.keys, w.vals = nil, nil // one huge record: do not keep its buffers
	}
	if cap(w.scratch) > 1<<20 {
		w.scratch = nil
	}
	return w.write(b)
}

// Sync ends the data written so far on a boundary a reader can start from:
// it writes the pending block (Block), or a sync marker unless one was just
// written (None, Record). After it, the bytes written form a valid file.
func (w *Writer) Sync() error {
	if w.err != nil {
		return w.err
	}
	if w.opt.Compression == Block {
		return w.writeBlock()
	}
	if w.pos == w.syncEnd {
		return nil
	}
	return w.writeSync()
}

// Close writes the pending block, if any. It does not close the underlying
// writer, and writes no trailing sync marker (Hadoop writes none).
func (w *Writer) Close() error {
	if w.closed {
		return w.err
	}
	w.closed = true
	if w.opt.Compression == Block {
		return w.writeBlock()
	}
	return w.err
}
