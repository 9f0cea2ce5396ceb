package seqfile

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// Hadoop class names of the Writable types Flume writes.
const (
	LongWritableClass  = "org.apache.hadoop.io.LongWritable"
	BytesWritableClass = "org.apache.hadoop.io.BytesWritable"
	TextClass          = "org.apache.hadoop.io.Text"
)

// AppendVLong appends v in Hadoop's variable-length encoding
// (WritableUtils.writeVLong): values in [-112, 127] take one byte; any other
// value takes a first byte that gives its sign and byte count (-113..-120
// for 1..8 positive bytes, -121..-128 for 1..8 bytes of a negative value's
// complement), then those bytes, most significant first.
func AppendVLong(dst []byte, v int64) []byte {
	if v >= -112 && v <= 127 {
		return append(dst, byte(int8(v)))
	}
	first := -112
	if v < 0 {
		v = ^v
		first = -120
	}
	n := 0
	for t := v; t != 0; t >>= 8 {
		n++
	}
	dst = append(dst, byte(int8(first-n)))
	for i := n - 1; i >= 0; i-- {
		dst = append(dst, byte(v>>(8*i)))
	}
	return dst
}

// AppendVInt is AppendVLong for an int (Hadoop writes ints the same way).
func AppendVInt(dst []byte, v int) []byte { return AppendVLong(dst, int64(v)) }

var errShort = errors.New("truncated variable-length integer")

// vlongSize is the total encoded size given the first byte.
func vlongSize(first byte) int {
	f := int(int8(first))
	switch {
	case f >= -112:
		return 1
	case f < -120:
		return -119 - f
	default:
		return -111 - f
	}
}

// DecodeVLong decodes a variable-length integer at the start of b and
// returns it with the number of bytes it took.
func DecodeVLong(b []byte) (int64, int, error) {
	if len(b) == 0 {
		return 0, 0, errShort
	}
	n := vlongSize(b[0])
	if n == 1 {
		return int64(int8(b[0])), 1, nil
	}
	if len(b) < n {
		return 0, 0, errShort
	}
	var x uint64
	for _, c := range b[1:n] {
		x = x<<8 | uint64(c)
	}
	v := int64(x)
	if int8(b[0]) < -120 {
		v = ^v
	}
	return v, n, nil
}

// DecodeVInt is DecodeVLong for a value that must fit in 32 bits.
func DecodeVInt(b []byte) (int, int, error) {
	v, n, err := DecodeVLong(b)
	if err != nil {
		return 0, 0, err
	}
	if v < math.MinInt32 || v > math.MaxInt32 {
		return 0, 0, fmt.Errorf("variable-length integer %d does not fit in 32 bits", v)
	}
	return int(v), n, nil
}

// AppendLongWritable appends a LongWritable: 8 bytes, big-endian.
func AppendLongWritable(dst []byte, v int64) []byte {
	return binary.BigEndian.AppendUint64(dst, uint64(v))
}

// LongWritable decodes a serialized LongWritable.
func LongWritable(b []byte) (int64, error) {
	if len(b) != 8 {
		return 0, fmt.Errorf("LongWritable: %d bytes, want 8", len(b))
	}
	return int64(binary.BigEndian.Uint64(b)), nil
}

// AppendBytesWritable appends a BytesWritable: a 4-byte big-endian length,
// then the bytes.
func AppendBytesWritable(dst, p []byte) []byte {
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(p)))
	return append(dst, p...)
}

// BytesWritable decodes a serialized BytesWritable; the result aliases b.
func BytesWritable(b []byte) ([]byte, error) {
	if len(b) < 4 {
		return nil, fmt.Errorf("BytesWritable: %d bytes, want at least 4", len(b))
	}
	n := binary.BigEndian.Uint32(b)
	if uint64(n) != uint64(len(b)-4) {
		return nil, fmt.Errorf("BytesWritable: length %d, but %d bytes follow", n, len(b)-4)
	}
	return b[4:], nil
}

// AppendText appends a Text: a variable-length byte count, then the bytes
// (UTF-8 by convention; Hadoop does not check it on write).
func AppendText(dst, p []byte) []byte {
	dst = AppendVInt(dst, len(p))
	return append(dst, p...)
}

// Text decodes a serialized Text; the result aliases b.
func Text(b []byte) ([]byte, error) {
	n, k, err := DecodeVInt(b)
	if err != nil {
		return nil, fmt.Errorf("Text: %w", err)
	}
	if n < 0 || n != len(b)-k {
		return nil, fmt.Errorf("Text: length %d, but %d bytes follow", n, len(b)-k)
	}
	return b[k:], nil
}
