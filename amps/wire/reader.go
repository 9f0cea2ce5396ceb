package wire

import (
	"bufio"
	"encoding/binary"
	"errors"
	"io"
	"strconv"
)

// Reader reads frames from a stream. It is not safe for concurrent use.
type Reader struct {
	r        io.Reader
	maxFrame int
	hdr      [4]byte
	buf      []byte
}

// NewReader returns a Reader over r that rejects frames longer than maxFrame
// bytes (DefaultMaxFrame when maxFrame <= 0). Wrap r in a bufio.Reader when it
// is a raw socket: the Reader issues two reads per frame.
func NewReader(r io.Reader, maxFrame int) *Reader {
	if maxFrame <= 0 {
		maxFrame = DefaultMaxFrame
	}
	return &Reader{r: r, maxFrame: maxFrame}
}

// Ready tells whether the next frame is already buffered, so that Next
// returns it without waiting for the network. It is always false for a
// Reader that is not over a bufio.Reader.
func (r *Reader) Ready() bool {
	br, ok := r.r.(*bufio.Reader)
	if !ok || br.Buffered() < 4 {
		return false
	}
	hdr, _ := br.Peek(4) // buffered: no read
	return uint64(br.Buffered()) >= 4+uint64(binary.BigEndian.Uint32(hdr))
}

// peek is Next for a frame that fits in br's buffer: the frame is returned
// in place, without copying it out (it stays valid until the next read from
// br, which is the next call). done is false when the frame is larger than
// the buffer; then nothing was consumed.
func (r *Reader) peek(br *bufio.Reader) (frame []byte, done bool, err error) {
	hdr, err := br.Peek(4)
	if err != nil {
		if len(hdr) == 0 && err == io.EOF {
			return nil, true, io.EOF
		}
		if err == io.EOF {
			return nil, true, frameErr("truncated length prefix")
		}
		return nil, true, err
	}
	n64 := uint64(binary.BigEndian.Uint32(hdr))
	if n64 > uint64(r.maxFrame) {
		return nil, true, frameErr("frame length " + strconv.FormatUint(n64, 10) + " exceeds maximum " + strconv.Itoa(r.maxFrame))
	}
	n := int(n64)
	if 4+n > br.Size() {
		return nil, false, nil
	}
	b, err := br.Peek(4 + n)
	if err != nil {
		if err == io.EOF {
			return nil, true, frameErr("truncated frame: want " + strconv.Itoa(n) + " bytes")
		}
		return nil, true, err
	}
	_, _ = br.Discard(4 + n) // cannot fail: the bytes are buffered
	return b[4 : 4+n : 4+n], true, nil
}

// growStep bounds how much buffer a frame may claim before its bytes have
// actually arrived, so that a forged length cannot make the reader allocate
// maxFrame bytes up front.
const growStep = 1 << 20

// Next returns the next frame's body (header+payload, without the length prefix); the slice
// is valid until the next call. Errors: io.EOF at a clean end, *FrameError (oversize length,
// truncated frame) otherwise; other read errors are returned as they are.
func (r *Reader) Next() ([]byte, error) {
	if br, ok := r.r.(*bufio.Reader); ok {
		if frame, done, err := r.peek(br); done {
			return frame, err
		}
	}
	if _, err := io.ReadFull(r.r, r.hdr[:]); err != nil {
		if err == io.EOF {
			return nil, io.EOF
		}
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, frameErr("truncated length prefix")
		}
		return nil, err
	}
	n64 := uint64(binary.BigEndian.Uint32(r.hdr[:]))
	if n64 > uint64(r.maxFrame) {
		return nil, frameErr("frame length " + strconv.FormatUint(n64, 10) + " exceeds maximum " + strconv.Itoa(r.maxFrame))
	}
	n := int(n64)
	r.buf = r.buf[:0]
	for len(r.buf) < n {
		want := n - len(r.buf)
		if want > growStep {
			want = growStep
		}
		start := len(r.buf)
		if cap(r.buf)-start < want {
			nb := make([]byte, start, start+want+start/2)
			copy(nb, r.buf)
			r.buf = nb
		}
		r.buf = r.buf[:start+want]
		if _, err := io.ReadFull(r.r, r.buf[start:]); err != nil {
			if err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF) {
				return nil, frameErr("truncated frame: want " + strconv.Itoa(n) + " bytes")
			}
			return nil, err
		}
	}
	return r.buf[:n], nil
}
