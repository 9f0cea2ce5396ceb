package seqfile

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Header is what a file says about itself.
type Header struct {
	Version              byte
	KeyClass, ValueClass string
	Compression          Compression
	// CodecClass is the codec's Hadoop class name ("" when uncompressed).
	CodecClass string
	Metadata   []Meta
	Sync       [16]byte
}

// DefaultMaxDecompressed bounds the decompressed size of one value or one
// block buffer, so a small corrupt file cannot claim gigabytes.
const DefaultMaxDecompressed = 1 << 30

// ReaderOption changes a Reader's limits.
type ReaderOption func(*Reader)

// WithMaxDecompressed sets the largest decompressed value or block buffer
// accepted.
func WithMaxDecompressed(n int64) ReaderOption { return func(r *Reader) { r.maxDecompressed = n } }

// Reader reads the records of one SequenceFile.
type Reader struct {
	br              *bufio.Reader
	pos             int64
	h               Header
	codec           *Codec
	maxDecompressed int64
	syncs           []int64
	afterSync       bool // the latest thing read was a sync marker
	err             error

	// The current block (Block layout) and the read offsets in it.
	left                         int
	keyLens, keys, valLens, vals []byte
}

// NewReader reads the header from r.
func NewReader(r io.Reader, opts ...ReaderOption) (*Reader, error) {
	rd := &Reader{br: bufio.NewReader(r), maxDecompressed: DefaultMaxDecompressed}
	for _, o := range opts {
		o(rd)
	}
	if err := rd.readHeader(); err != nil {
		return nil, err
	}
	return rd, nil
}

// Header returns the file's header.
func (r *Reader) Header() Header { return r.h }

// SyncOffsets lists the offsets of the sync escapes read so far (the
// marker in the header is not one).
func (r *Reader) SyncOffsets() []int64 { return append([]int64(nil), r.syncs...) }

// Offset is the number of bytes consumed so far.
func (r *Reader) Offset() int64 { return r.pos }

func (r *Reader) fail(format string, args ...any) error {
	return fmt.Errorf("seqfile: offset %d: %s", r.pos, fmt.Sprintf(format, args...))
}

// read reads exactly n bytes; a large n is read in steps, so memory grows
// only with the bytes actually present.
func (r *Reader) read(n int64, what string) ([]byte, error) {
	if n < 0 {
		return nil, r.fail("negative length %d of %s", n, what)
	}
	var b []byte
	if n <= 64<<10 {
		b = make([]byte, n)
		k, err := io.ReadFull(r.br, b)
		r.pos += int64(k)
		if err != nil {
			return nil, r.unexpected(err, what)
		}
		return b, nil
	}
	var buf bytes.Buffer
	k, err := io.CopyN(&buf, r.br, n)
	r.pos += k
	if err != nil {
		return nil, r.unexpected(err, what)
	}
	return buf.Bytes(), nil
}

func (r *Reader) unexpected(err error, what string) error {
	if errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return r.fail("reading %s: %v", what, err)
}

func (r *Reader) readInt(what string) (int32, error) {
	b, err := r.read(4, what)
	if err != nil {
		return 0, err
	}
	return int32(binary.BigEndian.Uint32(b)), nil
}

func (r *Reader) readVInt(what string) (int, error) {
	first, err := r.br.ReadByte()
	if err != nil {
		return 0, r.unexpected(err, what)
	}
	r.pos++
	b := []byte{first}
	if n := vlongSize(first); n > 1 {
		rest, err := r.read(int64(n-1), what)
		if err != nil {
			return 0, err
		}
		b = append(b, rest...)
	}
	v, _, err := DecodeVInt(b)
	if err != nil {
		return 0, r.fail("%s: %v", what, err)
	}
	return v, nil
}

func (r *Reader) readText(what string) (string, error) {
	n, err := r.readVInt(what + " length")
	if err != nil {
		return "", err
	}
	b, err := r.read(int64(n), what)
	return string(b), err
}

func (r *Reader) readHeader() error {
	magic, err := r.read(4, "magic")
	if err != nil {
		return err
	}
	if string(magic[:3]) != "SEQ" {
		return r.fail("not a SequenceFile: magic %q", magic[:3])
	}
	if magic[3] != Version {
		return r.fail("SequenceFile version %d: only version %d is read", magic[3], Version)
	}
	h := &r.h
	h.Version = magic[3]
	if h.KeyClass, err = r.readText("key class"); err != nil {
		return err
	}
	if h.ValueClass, err = r.readText("value class"); err != nil {
		return err
	}
	flags, err := r.read(2, "compression flags")
	if err != nil {
		return err
	}
	switch {
	case flags[0] != 0 && flags[1] != 0:
		h.Compression = Block
	case flags[0] != 0:
		h.Compression = Record
	case flags[1] != 0:
		return r.fail("block compression set without compression")
	}
	if h.Compression != None {
		if h.CodecClass, err = r.readText("codec class"); err != nil {
			return err
		}
		c, ok := LookupCodec(h.CodecClass)
		if !ok {
			return r.fail("unsupported codec %q", h.CodecClass)
		}
		r.codec = c
	}
	n, err := r.readInt("metadata count")
	if err != nil {
		return err
	}
	if n < 0 {
		return r.fail("negative metadata count %d", n)
	}
	for i := int32(0); i < n; i++ {
		var m Meta
		if m.Key, err = r.readText("metadata key"); err != nil {
			return err
		}
		if m.Value, err = r.readText("metadata value"); err != nil {
			return err
		}
		h.Metadata = append(h.Metadata, m)
	}
	sync, err := r.read(16, "sync marker")
	if err != nil {
		return err
	}
	copy(h.Sync[:], sync)
	r.afterSync = true
	return nil
}

// checkSync reads a marker after a sync escape and compares it with the
// header's.
func (r *Reader) checkSync(at int64) error {
	b, err := r.read(16, "sync marker")
	if err != nil {
		return err
	}
	if !bytes.Equal(b, r.h.Sync[:]) {
		return fmt.Errorf("seqfile: offset %d: sync marker %x differs from the header's %x", at, b, r.h.Sync)
	}
	r.syncs = append(r.syncs, at)
	return nil
}

// atEnd reports whether the input is exhausted at a record boundary.
func (r *Reader) atEnd() (bool, error) {
	_, err := r.br.Peek(1)
	if errors.Is(err, io.EOF) {
		return true, nil
	}
	if err != nil {
		return false, r.fail("%v", err)
	}
	return false, nil
}

// Next returns the next record's serialized key and value (decompressed),
// or io.EOF after the last one. The slices stay valid after later calls.
func (r *Reader) Next() (key, value []byte, err error) {
	if r.err != nil {
		return nil, nil, r.err
	}
	if r.h.Compression == Block {
		key, value, err = r.nextInBlock()
	} else {
		key, value, err = r.nextRecord()
	}
	if err != nil {
		r.err = err
	}
	return key, value, err
}

func (r *Reader) nextRecord() ([]byte, []byte, error) {
	for {
		if end, err := r.atEnd(); end || err != nil {
			if err == nil {
				err = io.EOF
			}
			return nil, nil, err
		}
		at := r.pos
		n, err := r.readInt("record length")
		if err != nil {
			return nil, nil, err
		}
		if n == syncEscape {
			// Hadoop's reader takes one marker before a record, never two;
			// a marker right after the header's is allowed (Hadoop's
			// writer can emit one there).
			if r.afterSync && len(r.syncs) > 0 {
				return nil, nil, r.fail("two sync markers in a row")
			}
			if err := r.checkSync(at); err != nil {
				return nil, nil, err
			}
			r.afterSync = true
			continue
		}
		r.afterSync = false
		if n < 0 {
			return nil, nil, r.fail("negative record length %d", n)
		}
		kn, err := r.readInt("key length")
		if err != nil {
			return nil, nil, err
		}
		if kn < 0 || kn > n {
			return nil, nil, r.fail("key length %d outside the record length %d", kn, n)
		}
		key, err := r.read(int64(kn), "key")
		if err != nil {
			return nil, nil, err
		}
		val, err := r.read(int64(n-kn), "value")
		if err != nil {
			return nil, nil, err
		}
		if r.h.Compression == Record {
			if val, err = r.decompress(val, "value"); err != nil {
				return nil, nil, err
			}
		}
		return key, val, nil
	}
}

func (r *Reader) decompress(b []byte, what string) ([]byte, error) {
	at := r.pos - int64(len(b))
	zr, err := r.codec.newReader(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("seqfile: offset %d: decompressing %s: %w", at, what, err)
	}
	out, err := io.ReadAll(io.LimitReader(zr, r.maxDecompressed+1))
	if err != nil {
		return nil, fmt.Errorf("seqfile: offset %d: decompressing %s: %w", at, what, err)
	}
	if int64(len(out)) > r.maxDecompressed {
		return nil, fmt.Errorf("seqfile: offset %d: %s decompresses to more than %d bytes", at, what, r.maxDecompressed)
	}
	return out, nil
}

func (r *Reader) nextInBlock() ([]byte, []byte, error) {
	if r.left == 0 {
		if end, err := r.atEnd(); end || err != nil {
			if err == nil {
				err = io.EOF
			}
			return nil, nil, err
		}
		if err := r.readBlock(); err != nil {
			return nil, nil, err
		}
	}
	kn, k, _ := DecodeVInt(r.keyLens) // checked by readBlock
	r.keyLens = r.keyLens[k:]
	vn, k, _ := DecodeVInt(r.valLens)
	r.valLens = r.valLens[k:]
	key, val := r.keys[:kn:kn], r.vals[:vn:vn]
	r.keys, r.vals = r.keys[kn:], r.vals[vn:]
	r.left--
	return key, val, nil
}

func (r *Reader) readBlock() error {
	at := r.pos
	esc, err := r.readInt("block sync escape")
	if err != nil {
		return err
	}
	if esc != syncEscape {
		return r.fail("block does not start with a sync marker (got %d)", esc)
	}
	if err := r.checkSync(at); err != nil {
		return err
	}
	n, err := r.readVInt("block record count")
	if err != nil {
		return err
	}
	if n <= 0 {
		return r.fail("block of %d records", n)
	}
	var bufs [4][]byte
	for i, what := range []string{"key lengths", "keys", "value lengths", "values"} {
		size, err := r.readVInt(what + " size")
		if err != nil {
			return err
		}
		raw, err := r.read(int64(size), what)
		if err != nil {
			return err
		}
		if bufs[i], err = r.decompress(raw, what); err != nil {
			return err
		}
	}
	if err := checkLengths(bufs[0], len(bufs[1]), n); err != nil {
		return fmt.Errorf("seqfile: block at offset %d: keys: %w", at, err)
	}
	if err := checkLengths(bufs[2], len(bufs[3]), n); err != nil {
		return fmt.Errorf("seqfile: block at offset %d: values: %w", at, err)
	}
	r.keyLens, r.keys, r.valLens, r.vals = bufs[0], bufs[1], bufs[2], bufs[3]
	r.left = n
	return nil
}

// checkLengths verifies that lens holds exactly n non-negative lengths
// summing to total.
func checkLengths(lens []byte, total, n int) error {
	sum := 0
	for i := 0; i < n; i++ {
		v, k, err := DecodeVInt(lens)
		if err != nil {
			return fmt.Errorf("length %d of %d: %w", i, n, err)
		}
		if v < 0 || v > total-sum {
			return fmt.Errorf("length %d of %d is %d, beyond the %d bytes left", i, n, v, total-sum)
		}
		sum += v
		lens = lens[k:]
	}
	if len(lens) != 0 || sum != total {
		return fmt.Errorf("%d lengths cover %d of %d bytes and leave %d length bytes", n, sum, total, len(lens))
	}
	return nil
}
