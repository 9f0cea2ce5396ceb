package avrorpc

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Framing of Avro's Netty transport, which Flume's avro source and sink use.
// Every request and every response is one frame:
//
//	serial   int32, big-endian: the request's number, echoed by its response
//	count    int32, big-endian: how many buffers follow
//	count ×  (length int32, big-endian; length bytes)
//
// The message is the concatenation of the buffers. Senders may split a
// message anywhere (Java uses 8 KiB buffers); this package sends one buffer.

// DefaultMaxFrameBytes bounds the total size of one frame's buffers.
const DefaultMaxFrameBytes = 128 << 20

// maxBuffers bounds the buffer count of a frame, so that a corrupt count
// cannot make the reader loop or allocate for a long time.
const maxBuffers = 1 << 20

// ErrFrameTooLarge is returned by ReadFrame for a frame above the limit.
var ErrFrameTooLarge = errors.New("avrorpc: frame too large")

// ReadFrame reads one frame and returns its serial number and message.
// A malformed or oversized frame is an error: the stream cannot be
// resynchronised, so the caller must close the connection.
func ReadFrame(r io.Reader, maxBytes int) (serial int32, msg []byte, err error) {
	if maxBytes <= 0 {
		maxBytes = DefaultMaxFrameBytes
	}
	var hdr [8]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return 0, nil, err
	}
	serial = int32(binary.BigEndian.Uint32(hdr[0:4]))
	count := int32(binary.BigEndian.Uint32(hdr[4:8]))
	if count < 0 || count > maxBuffers {
		return 0, nil, fmt.Errorf("avrorpc: frame %d: bad buffer count %d", serial, count)
	}
	for i := int32(0); i < count; i++ {
		if _, err := io.ReadFull(r, hdr[:4]); err != nil {
			return 0, nil, unexpected(err)
		}
		n := int32(binary.BigEndian.Uint32(hdr[:4]))
		if n < 0 {
			return 0, nil, fmt.Errorf("avrorpc: frame %d: negative buffer length %d", serial, n)
		}
		if len(msg)+int(n) > maxBytes {
			return 0, nil, fmt.Errorf("%w: frame %d exceeds %d bytes", ErrFrameTooLarge, serial, maxBytes)
		}
		start := len(msg)
		msg = grow(msg, int(n))
		if _, err := io.ReadFull(r, msg[start:]); err != nil {
			return 0, nil, unexpected(err)
		}
	}
	return serial, msg, nil
}

// grow extends b by n bytes.
func grow(b []byte, n int) []byte {
	if cap(b)-len(b) >= n {
		return b[:len(b)+n]
	}
	nb := make([]byte, len(b)+n, max(2*cap(b), len(b)+n))
	copy(nb, b)
	return nb
}

// unexpected turns a clean EOF in the middle of a frame into
// io.ErrUnexpectedEOF: only an EOF between frames is a clean close.
func unexpected(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// AppendFrame appends the frame carrying msg as one buffer to dst.
func AppendFrame(dst []byte, serial int32, msg []byte) []byte {
	dst = binary.BigEndian.AppendUint32(dst, uint32(serial))
	dst = binary.BigEndian.AppendUint32(dst, 1)
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(msg)))
	return append(dst, msg...)
}
